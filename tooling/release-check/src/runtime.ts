/**
 * Runs the consumer scripts (fixtures/consumer, copied into the consumer project) under a given
 * Node binary, from the consumer's directory, with a user's environment.
 */
import { createRequire } from 'node:module';
import { dirname, delimiter, join } from 'node:path';
import { describeRun, run, userEnv, type RunResult } from './run.js';
import { toolRoot } from './workspace.js';

export type ApiReport = Record<string, { resolved: string; exports: Record<string, string> }>;

/** A user's environment with `node` on PATH being this binary, as `#!/usr/bin/env node` finds it. */
export function envFor(nodePath: string): NodeJS.ProcessEnv {
  const env = userEnv();
  return { ...env, PATH: `${dirname(nodePath)}${delimiter}${env.PATH ?? ''}` };
}

async function api(nodePath: string, consumerDir: string, script: string, names: readonly string[]): Promise<ApiReport> {
  const r = await run(nodePath, [script, ...names], { cwd: consumerDir, env: envFor(nodePath), timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(describeRun(`${nodePath} ${script}`, r));
  return JSON.parse(r.stdout) as ApiReport;
}

/** What `import` and `require` of each package give, under this Node. */
export async function exportsSeenBy(nodePath: string, consumerDir: string, names: readonly string[]): Promise<{ esm: ApiReport; cjs: ApiReport }> {
  const [esm, cjs] = await Promise.all([api(nodePath, consumerDir, 'api.mjs', names), api(nodePath, consumerDir, 'api.cjs', names)]);
  return { esm, cjs };
}

/** What one package gave a CommonJS loader other than Node's own: its API, or why it did not load. */
export type LoaderReport = Record<string, { resolved: string; exports: Record<string, string> } | { error: { code?: string; message: string } }>;

/** The tsx CLI this package pins (a devDependency), run by the Node under test. */
export function tsxCli(): string {
  return join(createRequire(join(toolRoot, 'package.json')).resolve('tsx/package.json'), '..', 'dist', 'cli.mjs');
}

/**
 * What `require` of each package gives a TypeScript CommonJS file (`api.cts`) run with the tsx CLI.
 * tsx loads CommonJS through its own hooks, where an ESM-only dependency that plain `node` loads
 * (require(esm), since 20.19) fails with ERR_VM_MODULE_LINK_FAILURE; users of tsx, ts-node and Jest
 * meet that, so the check must too.
 */
export async function exportsSeenByTsx(nodePath: string, consumerDir: string, names: readonly string[]): Promise<LoaderReport> {
  const r = await run(nodePath, [tsxCli(), 'api.cts', ...names], { cwd: consumerDir, env: envFor(nodePath), timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(describeRun(`tsx api.cts on ${nodePath}`, r));
  return JSON.parse(r.stdout) as LoaderReport;
}

export interface SmokeReport {
  node: string;
  steps: string[];
  stats: Record<string, unknown>;
}

/** The token smoke test: obtain, cache, refresh and call the API, installed packages only. */
export async function runSmoke(nodePath: string, consumerDir: string): Promise<{ result: RunResult; report?: SmokeReport }> {
  const result = await run(nodePath, ['smoke.mjs'], { cwd: consumerDir, env: envFor(nodePath), timeoutMs: 60_000 });
  const line = result.stdout.trim().split('\n').pop();
  let report: SmokeReport | undefined;
  try {
    report = line ? (JSON.parse(line) as SmokeReport) : undefined;
  } catch {
    report = undefined;
  }
  return { result, report };
}
