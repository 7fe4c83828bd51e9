#!/usr/bin/env node
// The `prodo-auth-mock` bin. Everything it does is in run-cli.ts, which the tests call directly.
import { runCli } from './run-cli.js';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`prodo-auth-mock: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
