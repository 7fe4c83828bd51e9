import { compatConfig } from '../compat-config.ts';

export default compatConfig(import.meta.url);
