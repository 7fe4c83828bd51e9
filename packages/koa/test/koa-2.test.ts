import { createRequire } from 'node:module';
import Koa from 'koa-2';
import { adapterSuite } from '@prodo-auth/adapter-suite';
import { prodoAuth } from '../src/index.js';
import { startKoaApp } from './app.js';

// The oldest major the peerDependencies range admits, installed under an npm alias.
const { version } = createRequire(import.meta.url)('koa-2/package.json') as { version: string };
if (!version.startsWith('2.')) throw new Error(`koa-2 is ${version}, not koa 2`);

adapterSuite({
  name: `koa ${version}`,
  create: (options) => prodoAuth(options),
  start: (spec) => startKoaApp(Koa, spec),
});
