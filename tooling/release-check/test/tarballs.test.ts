/**
 * The tarballs `pnpm pack` writes, which are what `changeset publish` uploads: their file lists,
 * contents, manifests and sizes.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { SIZE_BUDGETS } from '../src/budgets.js';
import type { PackedPackage } from '../src/pack.js';
import { readTarball, type TarEntry } from '../src/tar.js';
import { repoRoot, toolRoot, type Manifest } from '../src/workspace.js';

const { packed } = inject('release');
const kB = (bytes: number): string => `${(bytes / 1000).toFixed(1)} kB`;

/** What a user needs, and nothing else: the build, the README, the LICENSE, the CHANGELOG, the manifest. */
const ALLOWED = [/^dist\//, /^README\.md$/, /^LICENSE$/, /^CHANGELOG\.md$/, /^package\.json$/];

const DEPENDENCY_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'] as const;

function entries(p: PackedPackage): TarEntry[] {
  return readTarball(p.tarball);
}

function manifestOf(p: PackedPackage): Manifest {
  const entry = entries(p).find((e) => e.path === 'package.json');
  return JSON.parse(entry!.data.toString('utf8')) as Manifest;
}

/** The files a manifest's bin field names, without a leading `./`. */
function binPaths(m: Manifest): string[] {
  return (typeof m.bin === 'string' ? [m.bin] : Object.values(m.bin ?? {})).map((b) => b.replace(/^\.\//, ''));
}

/** Every file path an exports map, main, module, types or bin points at. */
function entryPoints(m: Manifest): string[] {
  const paths: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') paths.push(value);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(m.exports);
  for (const field of [m.main, m.module, m.types]) if (field) paths.push(field);
  walk(m.bin);
  return [...new Set(paths.map((p) => p.replace(/^\.\//, '')))].filter((p) => !p.includes('*'));
}

describe.each(packed.map((p) => [p.name, p] as const))('%s tarball', (_name, p) => {
  it('holds only dist, README, LICENSE, CHANGELOG, package.json and the files its bins name', () => {
    // A bin is a small committed file outside dist/ (so pnpm can link it before a build): it, and
    // nothing else beside it, may ship.
    const bins = binPaths(manifestOf(p));
    const stray = p.files.map((f) => f.path).filter((path) => !ALLOWED.some((re) => re.test(path)) && !bins.includes(path));
    expect(stray, `files outside the allowed set; narrow "files" in ${p.relDir}/package.json`).toEqual([]);
    expect(p.files.some((f) => f.path.startsWith('dist/'))).toBe(true);
  });

  it('ships the root LICENSE and a README', () => {
    const all = entries(p);
    const license = all.find((e) => e.path === 'LICENSE');
    expect(license, `no LICENSE in the tarball: copy the root LICENSE to ${p.relDir}/LICENSE`).toBeDefined();
    expect(license!.data.toString('utf8')).toBe(readFileSync(join(repoRoot, 'LICENSE'), 'utf8'));
    expect(all.find((e) => e.path === 'README.md'), `no README.md in ${p.relDir}`).toBeDefined();
  });

  it('has no tests, source maps, .env files, keys or sources of other packages', () => {
    const problems: string[] = [];
    for (const e of entries(p)) {
      if (/(^|\/)(test|tests|__tests__|fixtures?)\//.test(e.path) || /\.(test|spec)\.[cm]?[jt]s$/.test(e.path)) problems.push(`${e.path}: a test file`);
      if (/\.map$/.test(e.path)) problems.push(`${e.path}: a source map`);
      if (/(^|\/)\.env(\.|$)/.test(e.path) || /(^|\/)\.npmrc$/.test(e.path)) problems.push(`${e.path}: an env or npm config file`);
      if (/\.(ts|tsx|mts|cts)$/.test(e.path) && !/\.d\.[cm]?ts$/.test(e.path)) problems.push(`${e.path}: TypeScript source`);
      const text = e.data.toString('utf8');
      if (/sourceMappingURL=/.test(text) || /"sourcesContent"/.test(text)) problems.push(`${e.path}: a source map reference or embedded sources`);
      if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) problems.push(`${e.path}: a private key`);
      // tsdown marks each bundled module; anything outside this package's src/ was bundled in
      // (another package's sources, a dependency, a test helper).
      for (const [, region] of text.matchAll(/^\/\/#region (.+)$/gm)) {
        if (!region!.startsWith('src/')) problems.push(`${e.path}: bundles ${region}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('has its workspace: ranges rewritten to the versions being published', () => {
    const m = manifestOf(p);
    const versions = new Map(packed.map((q) => [q.name, q.version]));
    for (const field of DEPENDENCY_FIELDS) {
      for (const [dep, range] of Object.entries(m[field] ?? {})) {
        expect(range, `${field}.${dep}`).not.toMatch(/^(workspace|link|file|portal):/);
        const version = versions.get(dep);
        // pnpm turns workspace:^ into ^x.y.z, workspace:~ into ~x.y.z and workspace:* into x.y.z.
        if (version && field !== 'devDependencies') expect([`^${version}`, `~${version}`, version], `${field}.${dep}`).toContain(range);
      }
    }
    expect(m.name).toBe(p.name);
    expect(m.version).toBe(p.version);
  });

  it('contains every file its exports, main, module, types and bin point at', () => {
    const m = manifestOf(p);
    const paths = new Set(p.files.map((f) => f.path));
    const points = entryPoints(m);
    expect(points.length).toBeGreaterThan(0);
    expect(points.filter((f) => !paths.has(f))).toEqual([]);
    for (const bin of typeof m.bin === 'string' ? [m.bin] : Object.values(m.bin ?? {})) {
      const entry = entries(p).find((e) => e.path === bin.replace(/^\.\//, ''));
      expect(entry!.data.toString('utf8').startsWith('#!/usr/bin/env node'), `${bin} starts with a node shebang`).toBe(true);
      expect(entry!.mode & 0o111, `${bin} is executable`).not.toBe(0);
    }
  });

  it('stays within its size budget', () => {
    const budget = SIZE_BUDGETS[p.name];
    expect(budget, `no size budget for ${p.name}: add one to tooling/release-check/src/budgets.ts`).toBeDefined();
    console.log(
      `${p.name}: packed ${kB(p.packedBytes)} (budget ${budget!.packedKb} kB), unpacked ${kB(p.unpackedBytes)} (budget ${budget!.unpackedKb} kB), ${p.files.length} files`,
    );
    expect(p.packedBytes / 1000, `${p.name} packed size in kB`).toBeLessThanOrEqual(budget!.packedKb);
    expect(p.unpackedBytes / 1000, `${p.name} unpacked size in kB`).toBeLessThanOrEqual(budget!.unpackedKb);
  });
});

afterAll(() => {
  // The size report, for people and for CI logs.
  const rows = packed.map((p) => ({
    package: p.name,
    version: p.version,
    files: p.files.length,
    packedKb: +(p.packedBytes / 1000).toFixed(1),
    unpackedKb: +(p.unpackedBytes / 1000).toFixed(1),
    budgetPackedKb: SIZE_BUDGETS[p.name]?.packedKb,
    budgetUnpackedKb: SIZE_BUDGETS[p.name]?.unpackedKb,
  }));
  console.table(rows);
  mkdirSync(join(toolRoot, '.test-results'), { recursive: true });
  writeFileSync(join(toolRoot, '.test-results', 'sizes.json'), `${JSON.stringify(rows, null, 2)}\n`);
});
