/**
 * Node binaries for the majors this machine does not run, from the npm registry (the
 * `node-<platform>-<arch>` packages hold the official build as bin/node), cached per major so
 * only the first run downloads.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { describeRun, run, userEnv } from './run.js';
import { readTarball } from './tar.js';

export interface NodeBinary {
  major: number;
  /** The executable. */
  path: string;
  /** `process.version` of that binary, e.g. `v22.23.3`. */
  version: string;
  /** Whether it is the Node running this check. */
  current: boolean;
}

/** `$XDG_CACHE_HOME/prodo-auth/node`, else `~/.cache/prodo-auth/node`. */
export function nodeCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'prodo-auth', 'node');
}

async function versionOf(path: string): Promise<string | undefined> {
  if (!existsSync(path)) return undefined;
  const r = await run(path, ['--version'], { cwd: dirname(path), env: userEnv(), timeoutMs: 20_000 });
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/**
 * A Node binary of `major`: this process's own when it is that major, else the cached one, else
 * downloaded with `npm pack node-<platform>-<arch>@<major>` and unpacked into the cache.
 */
export async function nodeBinary(major: number): Promise<NodeBinary> {
  if (Number(process.versions.node.split('.')[0]) === major) {
    return { major, path: process.execPath, version: process.version, current: true };
  }
  const dir = join(nodeCacheDir(), String(major));
  const bin = join(dir, 'bin', 'node');
  const cached = await versionOf(bin);
  if (cached?.startsWith(`v${major}.`)) return { major, path: bin, version: cached, current: false };

  const pkg = `node-${process.platform}-${process.arch}@${major}`;
  mkdirSync(dirname(dir), { recursive: true });
  const work = mkdtempSync(join(dirname(dir), `.${major}-download-`));
  try {
    const r = await run('npm', ['pack', pkg, '--pack-destination', work, '--json', '--loglevel=error'], { cwd: work, env: userEnv(), timeoutMs: 240_000 });
    if (r.code !== 0) throw new Error(describeRun(`npm pack ${pkg}`, r));
    const [info] = JSON.parse(r.stdout) as Array<{ filename: string; version: string }>;
    if (!info) throw new Error(`npm pack ${pkg} printed no tarball:\n${r.stdout}`);
    const entry = readTarball(join(work, info.filename.replace(/^.*[\\/]/, ''))).find((e) => e.path === 'bin/node');
    if (!entry) throw new Error(`${pkg} (${info.version}) has no bin/node`);
    mkdirSync(join(work, 'out', 'bin'), { recursive: true });
    writeFileSync(join(work, 'out', 'bin', 'node'), entry.data);
    chmodSync(join(work, 'out', 'bin', 'node'), 0o755);
    const version = await versionOf(join(work, 'out', 'bin', 'node'));
    if (!version?.startsWith(`v${major}.`)) throw new Error(`${pkg} unpacked a node that reports ${version ?? 'nothing'}`);
    // Swap in whole, so a concurrent or interrupted run never sees half a binary.
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(join(work, 'out'), dir);
    } catch (error) {
      // Another run put one there in the meantime: use it.
      const theirs = await versionOf(bin);
      if (!theirs?.startsWith(`v${major}.`)) throw error;
      return { major, path: bin, version: theirs, current: false };
    }
    return { major, path: bin, version, current: false };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
