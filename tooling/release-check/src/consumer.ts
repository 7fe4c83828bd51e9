/**
 * A user's project outside the workspace: the tarballs installed with npm, as a user would, into a
 * directory under the OS temp dir, where no node_modules of the repository can be reached.
 */
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PackedPackage } from './pack.js';
import { describeRun, run, userEnv } from './run.js';
import { readTarball } from './tar.js';
import { rootManifest, toolRoot, type Manifest } from './workspace.js';

export interface Consumer {
  dir: string;
  /** What `npm install` was given besides the tarballs: peers and @types/node. */
  extras: string[];
  installMs: number;
}

/**
 * Peers installed at a narrower range than the one declared. Nest 12 ships as ES modules only, so a
 * CommonJS program (the `.cts` type check and the `require()` runs here) cannot load it: the user
 * project here gets Nest 11, the newest CommonJS major, and Nest 12 is proven by the module's own
 * suite (packages/nestjs, with compat/ for 10 and 11).
 */
const CONSUMER_PEER_RANGES: Readonly<Record<string, string>> = {
  '@nestjs/common': '^11.0.0',
  '@nestjs/core': '^11.0.0',
  '@nestjs/axios': '^4.0.0',
};

/**
 * The peer dependencies a user installs beside our packages (`npm i @prodo-auth/axios axios`), at
 * the range each package declares (or {@link CONSUMER_PEER_RANGES}). Optional peers and our own
 * packages are left out.
 */
export function peerInstalls(packed: readonly PackedPackage[], manifests: ReadonlyMap<string, Manifest>): string[] {
  const ours = new Set(packed.map((p) => p.name));
  const peers = new Map<string, string>();
  for (const p of packed) {
    const m = manifests.get(p.name);
    for (const [name, range] of Object.entries(m?.peerDependencies ?? {})) {
      if (ours.has(name) || m?.peerDependenciesMeta?.[name]?.optional) continue;
      peers.set(name, CONSUMER_PEER_RANGES[name] ?? range);
    }
  }
  return [...peers].map(([name, range]) => `${name}@${range}`);
}

/** Installs the tarballs with npm into a new directory under the OS temp dir. */
export async function installConsumer(packed: readonly PackedPackage[]): Promise<Consumer> {
  const dir = mkdtempSync(join(tmpdir(), 'prodo-auth-consumer-'));
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'prodo-auth-consumer', version: '0.0.0', private: true }, null, 2)}\n`);
  // The packed manifests: what npm will see, workspace: ranges already rewritten.
  const manifests = new Map(packed.map((p) => [p.name, packedManifest(p)]));
  // A TypeScript user has @types/node; the version the repository builds against.
  const typesNode = `@types/node@${rootManifest().devDependencies?.['@types/node'] ?? '20'}`;
  const extras = [...peerInstalls(packed, manifests), typesNode];
  const r = await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...packed.map((p) => p.tarball), ...extras], {
    cwd: dir,
    env: userEnv(),
    timeoutMs: 240_000,
  });
  if (r.code !== 0) throw new Error(describeRun(`npm install in ${dir}`, r));
  for (const file of readdirSync(join(toolRoot, 'fixtures', 'consumer'))) copyFileSync(join(toolRoot, 'fixtures', 'consumer', file), join(dir, file));
  return { dir, extras, installMs: r.ms };
}

/** The package.json inside a tarball. */
export function packedManifest(p: PackedPackage): Manifest {
  return JSON.parse(readTarballFile(p.tarball, 'package.json')) as Manifest;
}


export function readTarballFile(tarball: string, path: string): string {
  const entry = readTarball(tarball).find((e) => e.path === path);
  if (!entry) throw new Error(`${tarball} has no ${path}`);
  return entry.data.toString('utf8');
}
