import { createRequire } from 'node:module';
import express from 'express';
import { adapterSuite } from '@prodo-auth/adapter-suite';
import { prodoAuth } from '../src/index.js';
import { startExpressApp } from './app.js';

const { version } = createRequire(import.meta.url)('express/package.json') as { version: string };
if (!version.startsWith('5.')) throw new Error(`express is ${version}, not express 5`);

adapterSuite({
  name: `express ${version}`,
  create: (options) => prodoAuth(options),
  start: (spec) => startExpressApp(express, spec),
});
