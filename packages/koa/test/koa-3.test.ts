import { createRequire } from 'node:module';
import Koa from 'koa';
import { adapterSuite } from '@prodo-auth/adapter-suite';
import { prodoAuth } from '../src/index.js';
import { startKoaApp } from './app.js';

const { version } = createRequire(import.meta.url)('koa/package.json') as { version: string };
if (!version.startsWith('3.')) throw new Error(`koa is ${version}, not koa 3`);

adapterSuite({
  name: `koa ${version}`,
  create: (options) => prodoAuth(options),
  start: (spec) => startKoaApp(Koa, spec),
});
