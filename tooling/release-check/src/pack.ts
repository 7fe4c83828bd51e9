/**
 * Packs every publishable package exactly as `changeset publish` does: `pnpm pack`, which applies
 * `files`, adds README and LICENSE, and rewrites `workspace:` ranges to real versions.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, onPath, run, userEnv } from './run.js';
import { readTarball } from './tar.js';
import { pinnedPnpmVersion, type PublishablePackage } from './workspace.js';

export interface PackedFile {
  path: string;
  size: number;
  mode: number;
}

export interface PackedPackage {
  name: string;
  version: string;
  dirName: string;
  relDir: string;
  tarball: string;
  /** The .tgz's size: what a user downloads. */
  packedBytes: number;
  /** The sum of the files' sizes: what lands in node_modules. */
  unpackedBytes: number;
  files: PackedFile[];
}

/**
 * The pinned pnpm: the one on PATH when it is that version (turbo runs tasks through it under
 * `pnpm test:all`), else npx at the version package.json pins.
 */
export async function resolvePnpm(): Promise<{ command: string; args: string[] }> {
  const pinned = pinnedPnpmVersion();
  const found = onPath('pnpm');
  if (found) {
    const r = await run(found, ['--version'], { cwd: process.cwd(), env: userEnv(), timeoutMs: 30_000 });
    if (r.code === 0 && r.stdout.trim() === pinned) return { command: found, args: [] };
  }
  return { command: 'npx', args: ['-y', `pnpm@${pinned}`] };
}

export async function packAll(packages: readonly PublishablePackage[], dest: string): Promise<PackedPackage[]> {
  const pnpm = await resolvePnpm();
  return Promise.all(
    packages.map(async (pkg) => {
      const r = await run(pnpm.command, [...pnpm.args, 'pack', '--pack-destination', dest], { cwd: pkg.dir, env: userEnv(), timeoutMs: 120_000 });
      if (r.code !== 0) throw new Error(describeRun(`pnpm pack in ${pkg.relDir}`, r));
      // pnpm names it <scope>-<name>-<version>.tgz.
      const expected = `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.version}.tgz`;
      const tarball = readdirSync(dest).includes(expected) ? join(dest, expected) : undefined;
      if (!tarball) throw new Error(`pnpm pack in ${pkg.relDir} did not write ${expected} to ${dest}:\n${r.stdout}\n${r.stderr}`);
      const files = readTarball(tarball).map(({ path, size, mode }) => ({ path, size, mode }));
      return {
        name: pkg.name,
        version: pkg.version,
        dirName: pkg.dirName,
        relDir: pkg.relDir,
        tarball,
        packedBytes: statSync(tarball).size,
        unpackedBytes: files.reduce((sum, f) => sum + f.size, 0),
        files,
      };
    }),
  );
}
