/**
 * Child processes with a deadline, and the environment a user's shell would give them: nothing
 * inherited from the pnpm, turbo or vitest process this runs inside.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { repoRoot } from './workspace.js';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Killed (with its children) after this long. */
  timeoutMs: number;
}

/** Runs a command to completion; never throws for a non-zero exit, the caller asserts on it. */
export function run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout kills the whole tree (npm, its scripts, a server).
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: Date.now() - started,
        timedOut,
      });
    });
  });
}

/** A one-paragraph account of a failed command, for assertion messages. */
export function describeRun(label: string, r: RunResult): string {
  const tail = (s: string): string => (s.length > 6000 ? `…${s.slice(-6000)}` : s);
  return `${label}: exit ${r.code ?? r.signal}${r.timedOut ? ' (timed out)' : ''} after ${r.ms} ms\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`;
}

// Set by npm, pnpm, turbo and vitest for their children; a user's terminal has none of them, and
// some change what npm or Node do (npm_config_*, NODE_OPTIONS, NODE_PATH).
const INHERITED = /^(npm_|pnpm_|PNPM_|INIT_CWD$|NODE_OPTIONS$|NODE_PATH$|VITEST|TURBO_|COREPACK_)/i;
// Except where a user points npm: their registry mirror and cache.
const KEPT = /^npm_config_(registry|cache)$/i;

/**
 * The environment of a user's shell: this process's, minus what the package managers and test
 * runner around it added. `extra` is applied last.
 */
export function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if ((KEPT.test(key) || !INHERITED.test(key)) && key !== 'TEST') env[key] = value;
  // Nor the repository's node_modules/.bin directories that pnpm put on PATH.
  env.PATH = (env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '' && !dir.startsWith(repoRoot) && !/[\\/]node_modules[\\/]\.bin$/.test(dir))
    .join(delimiter);
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...extra };
}

/** Whether `name` is an executable on PATH. */
export function onPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}
