import { createRequire } from 'node:module';
import express from 'express-4';
import { adapterSuite } from '@prodo-auth/adapter-suite';
import { prodoAuth } from '../src/index.js';
import { startExpressApp } from './app.js';

// The oldest major the peerDependencies range admits, installed under an npm alias.
const { version } = createRequire(import.meta.url)('express-4/package.json') as { version: string };
if (!version.startsWith('4.')) throw new Error(`express-4 is ${version}, not express 4`);

adapterSuite({
  name: `express ${version}`,
  create: (options) => prodoAuth(options),
  start: (spec) => startExpressApp(express, spec),
});
