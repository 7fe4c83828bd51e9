import { fileURLToPath } from 'node:url';
import { demoSuite } from '@prodo-auth/adapter-suite';
import { startDemo } from '../src/app.mjs';

demoSuite({ name: 'nest demo', appDir: fileURLToPath(new URL('..', import.meta.url)), startDemo });
