#!/usr/bin/env node
// The whole test suite: build, typecheck, lint, package checks and every test, through turbo.
// Ends with `tests: N passed, N failed`, summed from the vitest JSON report of every workspace
// package: packages/*, apps/*, tooling/* (the release check of the packed tarballs) and
// packages/nestjs/compat/* (the Nest module's suite on older Nest majors).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const workspaces = ['packages', 'apps', 'tooling', 'packages/nestjs/compat'].flatMap((dir) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir))
        .map((name) => join(root, dir, name))
        .filter((ws) => existsSync(join(ws, 'package.json')))
    : [],
);
const reports = workspaces.map((ws) => join(ws, '.test-results', 'report.json'));
// A report left from an earlier run must not be counted; turbo restores it when a task is cached.
for (const r of reports) rmSync(r, { force: true });

const tasks = ['build', 'typecheck', 'lint', 'check:package', 'test'];
const turbo = spawnSync('turbo', ['run', ...tasks, '--continue', '--output-logs=new-only', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', ...process.env },
});

let passed = 0;
let failed = 0;
for (const r of reports) {
  if (!existsSync(r)) continue;
  const report = JSON.parse(readFileSync(r, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
}
const ok = turbo.status === 0 && failed === 0;
if (turbo.status !== 0) console.error(`\nturbo exited with ${turbo.status ?? turbo.signal}: see the failing task above.`);
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(ok ? 0 : 1);
