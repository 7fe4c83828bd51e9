import { adapterSuite } from '@prodo-auth/adapter-suite';
import { ProdoAuthModule, type ProdoAuthModuleOptions } from '../src/index.js';
import { nestVersion, startNestApp } from './app.js';

adapterSuite({
  name: `nest ${nestVersion} (platform-fastify)`,
  create: (options) => ProdoAuthModule.forRoot(options as ProdoAuthModuleOptions),
  start: (spec) => startNestApp('fastify', spec),
});
