/**
 * The changesets pipeline: `changeset version` with this repository's config bumps every adapter
 * when core changes, and the publish dry run goes through every publishable package with no
 * credentials and no write to a registry.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { resolvePnpm } from '../src/pack.js';
import { describeRun, run, userEnv } from '../src/run.js';
import { publishablePackages, readJson, repoRoot, rootManifest, toolRoot, type Manifest } from '../src/workspace.js';

const packages = publishablePackages();
const changesetBin = createRequire(join(repoRoot, 'package.json')).resolve('@changesets/cli/bin.js');
const temp = mkdtempSync(join(tmpdir(), 'prodo-auth-release-flow-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A copy of the workspace's manifests and changeset config: all `changeset version` reads. */
function workspaceCopy(dir: string): void {
  for (const file of ['package.json', 'pnpm-workspace.yaml', '.changeset/config.json']) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(repoRoot, file), join(dir, file));
  }
  for (const group of ['packages', 'apps', 'tooling']) {
    if (!existsSync(join(repoRoot, group))) continue;
    for (const name of readdirSync(join(repoRoot, group))) {
      const manifest = join(repoRoot, group, name, 'package.json');
      if (!existsSync(manifest)) continue;
      mkdirSync(join(dir, group, name), { recursive: true });
      cpSync(manifest, join(dir, group, name, 'package.json'));
    }
  }
}

const dependsOnCore = (m: Manifest): boolean => Boolean(m.dependencies?.['@prodo-auth/core'] ?? m.peerDependencies?.['@prodo-auth/core']);

describe('changeset version', () => {
  it('bumps every package that depends on core when only core changes, and no private package', async () => {
    const dir = join(temp, 'version');
    workspaceCopy(dir);
    // An adapter as the next one will look (core at a workspace:^ range), so the rule is proven
    // even before the real adapters land.
    mkdirSync(join(dir, 'packages', 'zz-example-adapter'), { recursive: true });
    const example: Manifest = { name: '@prodo-auth/zz-example-adapter', version: '0.1.0', dependencies: { '@prodo-auth/core': 'workspace:^' } };
    writeFileSync(join(dir, 'packages', 'zz-example-adapter', 'package.json'), JSON.stringify(example, null, 2));
    writeFileSync(join(dir, '.changeset', 'core-fix.md'), "---\n'@prodo-auth/core': patch\n---\n\nFix a thing in core.\n");

    const r = await run(process.execPath, [changesetBin, 'version'], { cwd: dir, env: userEnv(), timeoutMs: 60_000 });
    expect(r.code, describeRun('changeset version', r)).toBe(0);

    const core = packages.find((p) => p.name === '@prodo-auth/core')!;
    const bumped = (relDir: string): Manifest => readJson(join(dir, relDir, 'package.json'));
    const patch = (v: string): string => v.replace(/(\d+)$/, (n) => String(Number(n) + 1));
    expect(bumped(core.relDir).version).toBe(patch(core.version));

    const dependents = [...packages.filter((p) => dependsOnCore(p.manifest)).map((p) => ({ relDir: p.relDir, version: p.version })), { relDir: 'packages/zz-example-adapter', version: '0.1.0' }];
    for (const d of dependents) {
      expect(bumped(d.relDir).version, `${d.relDir} is bumped with core`).toBe(patch(d.version));
      expect(readFileSync(join(dir, d.relDir, 'CHANGELOG.md'), 'utf8'), d.relDir).toContain(`@prodo-auth/core@${patch(core.version)}`);
    }
    for (const p of packages.filter((q) => q.name !== core.name && !dependsOnCore(q.manifest))) {
      expect(bumped(p.relDir).version, `${p.relDir} does not depend on core`).toBe(p.version);
    }
    for (const group of ['apps', 'tooling']) {
      for (const name of existsSync(join(dir, group)) ? readdirSync(join(dir, group)) : []) {
        const before = readJson(join(repoRoot, group, name, 'package.json'));
        expect(bumped(`${group}/${name}`).version, `${group}/${name} is private and never versioned`).toBe(before.version);
      }
    }
  });
});

interface RegistryRequest {
  method: string;
  url: string;
  authorized: boolean;
}

/** A registry on loopback that knows no package and refuses every write, recording each request. */
async function fakeRegistry(): Promise<{ url: string; requests: RegistryRequest[]; server: Server }> {
  const requests: RegistryRequest[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    req.resume();
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', authorized: req.headers.authorization !== undefined });
      const read = req.method === 'GET' || req.method === 'HEAD';
      res.writeHead(read ? 404 : 405, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: read ? 'Not found' : 'this registry refuses writes' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests, server };
}

describe('publish dry run', () => {
  it('goes through every publishable package with no credentials and writes nothing', async () => {
    const registry = await fakeRegistry();
    try {
      const pnpm = await resolvePnpm();
      const tagsBefore = (await run('git', ['tag', '--list'], { cwd: repoRoot, env: userEnv(), timeoutMs: 20_000 })).stdout;
      // As `pnpm release:dry-run` runs it, but against a registry that records every request.
      const env = userEnv({ npm_config_registry: registry.url, NPM_TOKEN: 'must-be-dropped', NODE_AUTH_TOKEN: 'must-be-dropped' });
      if (pnpm.args.length === 0) env.PATH = `${dirname(pnpm.command)}${delimiter}${env.PATH ?? ''}`;
      const r = await run(process.execPath, [join(toolRoot, 'bin', 'publish-dry-run.mjs')], { cwd: repoRoot, env, timeoutMs: 180_000 });
      // Without colours (changesets colours its output under CI).
      const output = stripVTControlCharacters(r.stdout + r.stderr);
      expect(r.code, describeRun('publish-dry-run.mjs', r)).toBe(0);
      for (const p of packages) expect(output, p.name).toContain(`Publishing "${p.name}" at "${p.version}"`);
      expect(output).toContain('Dry run');
      expect(registry.requests.filter((q) => q.method !== 'GET' && q.method !== 'HEAD'), 'writes to the registry').toEqual([]);
      expect(registry.requests.filter((q) => q.authorized), 'requests with credentials').toEqual([]);
      expect(registry.requests.length, 'it asked the registry which versions are new').toBeGreaterThan(0);
      expect((await run('git', ['tag', '--list'], { cwd: repoRoot, env: userEnv(), timeoutMs: 20_000 })).stdout, 'no git tag').toBe(tagsBefore);
      for (const p of packages) expect(readdirSync(p.dir).filter((f) => f.endsWith('.tgz')), `${p.relDir} left no tarball`).toEqual([]);
    } finally {
      registry.server.close();
    }
  });

  it('is what the root scripts run: release builds, then changeset publish', () => {
    const scripts = rootManifest().scripts ?? {};
    expect(scripts.release).toMatch(/^turbo run build(\s.*)? && changeset publish$/);
    expect(scripts['release:dry-run']).toMatch(/^turbo run build(\s.*)? && node tooling\/release-check\/bin\/publish-dry-run\.mjs$/);
  });
});
