#!/usr/bin/env node
// `pnpm release:dry-run`: everything `pnpm release` does after the build, without publishing.
// `changeset publish` asks the registry which versions are new and runs `pnpm publish` for each,
// here with pnpm's dry run on, no git tags, and no registry credentials at all: no token in the
// environment, no user or global .npmrc. The registry is only read (`npm info`); nothing is written,
// so it runs anywhere, including on a machine that has never logged in to npm.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const pinned = /^pnpm@(.+)$/.exec(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager ?? '')?.[1];
const changeset = createRequire(join(root, 'package.json')).resolve('@changesets/cli/bin.js');
const work = mkdtempSync(join(tmpdir(), 'prodo-auth-publish-dry-run-'));

const env = { ...process.env };
for (const key of Object.keys(env)) {
  // Tokens, however they are passed: NPM_TOKEN, NODE_AUTH_TOKEN, npm_config__authToken,
  // npm_config_//registry.npmjs.org/:_authToken, npm_config__auth, and their pnpm spellings.
  if (/token|_auth|password|^npm_config_\/\//i.test(key)) delete env[key];
}
writeFileSync(join(work, 'user-npmrc'), '');
writeFileSync(join(work, 'global-npmrc'), '');
Object.assign(env, {
  npm_config_dry_run: 'true',
  npm_config_userconfig: join(work, 'user-npmrc'),
  npm_config_globalconfig: join(work, 'global-npmrc'),
  npm_config_update_notifier: 'false',
});

// changeset publish runs `pnpm publish` by name: make sure that is the pinned pnpm.
const onPath = (env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, 'pnpm')));
if (!onPath) {
  writeFileSync(join(work, 'pnpm'), `#!/bin/sh\nexec npx -y pnpm@${pinned} "$@"\n`);
  chmodSync(join(work, 'pnpm'), 0o755);
  env.PATH = `${work}${delimiter}${env.PATH ?? ''}`;
}

let status = 1;
try {
  const result = spawnSync(process.execPath, [changeset, 'publish', '--no-git-tag'], { cwd: root, env, stdio: 'inherit' });
  status = result.status ?? 1;
  // changeset reports each package as "published": with the dry run, none was.
  if (status === 0) console.log('\nDry run: the packages above passed `pnpm publish --dry-run`; nothing was uploaded and no git tag was made.');
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(status);
