import { packageBuildConfig } from '../../tsdown.shared.ts';

// Two surfaces: the root for applications, `/adapter` for framework adapters (STYLE rule 3).
export default packageBuildConfig(['src/index.ts', 'src/adapter.ts']);
