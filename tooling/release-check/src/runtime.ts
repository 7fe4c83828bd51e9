/**
 * Runs the consumer scripts (fixtures/consumer, copied into the consumer project) under a given
 * Node binary, from the consumer's directory, with a user's environment.
 */
import { dirname, delimiter } from 'node:path';
import { describeRun, run, userEnv, type RunResult } from './run.js';

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
