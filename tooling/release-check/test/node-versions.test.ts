/**
 * Every supported Node major runs the installed packages: this machine's Node, and the others from
 * the npm registry's node-<platform>-<arch> packages (cached after the first download), through
 * plain `node` and through tsx's CommonJS loader. Core's own test suite runs on each major that
 * turbo's `test` task did not already run it on.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { nodeBinary, type NodeBinary } from '../src/node-binaries.js';
import { describeRun, run } from '../src/run.js';
import { envFor, exportsSeenBy, exportsSeenByTsx, runSmoke, type ApiReport, type LoaderReport } from '../src/runtime.js';
import { publishablePackages, repoRoot, SUPPORTED_NODE_MAJORS, toolRoot } from '../src/workspace.js';

const { packed, consumerDir } = inject('release');
/**
 * Packages whose CommonJS build cannot load under tsx on some majors because a peer of theirs
 * cannot: tsx on Node 20 fails `require('axios')` itself ("Cannot read properties of undefined
 * (reading 'exports')"), so the Nest module, which creates axios instances, fails with it. The
 * test then proves that the peer fails the same way there, so the exemption ends (and the test
 * fails) once the peer loads.
 */
const TSX_PEER_LIMITS: Readonly<Record<number, Readonly<Record<string, string>>>> = { 20: { '@prodo-auth/nestjs': 'axios' } };
const names = packed.map((p) => p.name);
const currentMajor = Number(process.versions.node.split('.')[0]);
const binaries = new Map<number, NodeBinary>();
const scratch = mkdtempSync(join(tmpdir(), 'prodo-auth-node-versions-'));

beforeAll(async () => {
  const started = Date.now();
  // In parallel: a cold cache downloads one binary per other major.
  const found = await Promise.all(SUPPORTED_NODE_MAJORS.map((major) => nodeBinary(major)));
  for (const b of found) binaries.set(b.major, b);
  console.log(`node binaries (${Date.now() - started} ms): ${found.map((b) => `${b.version}${b.current ? ' (this machine)' : ` at ${b.path}`}`).join(', ')}`);
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.each(SUPPORTED_NODE_MAJORS.map((major) => [major]))('Node %i', (major) => {
  it('runs the binary of that major', () => {
    expect(binaries.get(major)?.version).toMatch(new RegExp(`^v${major}\\.`));
  });

  it('ESM import and CJS require of every package see the same API', async () => {
    const { esm, cjs } = await exportsSeenBy(binaries.get(major)!.path, consumerDir, names);
    for (const name of names) {
      expect(Object.keys(esm[name]!.exports).length, name).toBeGreaterThan(0);
      expect(cjs[name]!.exports, name).toEqual(esm[name]!.exports);
    }
  });

  describe('CommonJS through tsx (a .cts file run with the tsx CLI, as tsx and Jest users load packages)', () => {
    // One run of each for all packages, started by whichever test asks first.
    let reports: Promise<[LoaderReport, ApiReport]> | undefined;
    const seen = (): Promise<[LoaderReport, ApiReport]> =>
      (reports ??= Promise.all([
        exportsSeenByTsx(binaries.get(major)!.path, consumerDir, names),
        exportsSeenBy(binaries.get(major)!.path, consumerDir, names).then((r) => r.cjs),
      ]));

    it.each(names)('%s: require of its CJS entry loads (no ESM-only dependency) and shows the same API as plain require', async (name) => {
      const [tsx, cjs] = await seen();
      const entry = tsx[name]!;
      const peer = TSX_PEER_LIMITS[major]?.[name];
      if (peer !== undefined) {
        // Not ours: the peer itself does not load under tsx on this major (see TSX_PEER_LIMITS).
        const alone = (await exportsSeenByTsx(binaries.get(major)!.path, consumerDir, [peer]))[peer]!;
        expect('error' in entry && 'error' in alone, `${name} and ${peer} under tsx on Node ${major}: drop the TSX_PEER_LIMITS entry once ${peer} loads`).toBe(true);
        return;
      }
      if ('error' in entry) {
        // ERR_VM_MODULE_LINK_FAILURE / ERR_REQUIRE_ESM: the CJS build requires an ESM-only package.
        expect.fail(`${name} does not load under tsx on Node ${major}: ${entry.error.code ?? 'no code'}: ${entry.error.message}`);
      }
      expect(entry.resolved).toMatch(/\.cjs$/);
      expect(entry.exports).toEqual(cjs[name]!.exports);
    });
  });

  it('smoke: obtains, caches and refreshes a token from the installed mock server, and calls its protected API', async () => {
    const { result, report } = await runSmoke(binaries.get(major)!.path, consumerDir);
    expect(result.code, describeRun(`smoke.mjs on Node ${major}`, result)).toBe(0);
    expect(report?.node).toBe(binaries.get(major)!.version);
    expect(report?.steps).toEqual(expect.arrayContaining(['obtained', 'cached', 'api', 'refreshed', 'retried-401']));
    if (names.includes('@prodo-auth/axios')) expect(report?.steps).toContain('axios');
  });

  it.skipIf(major === currentMajor)("@prodo-auth/core's own test suite passes", async () => {
    const core = publishablePackages().find((p) => p.name === '@prodo-auth/core');
    expect(core).toBeDefined();
    const node = binaries.get(major)!;
    const vitest = join(createRequire(join(toolRoot, 'package.json')).resolve('vitest/package.json'), '..', 'vitest.mjs');
    const out = join(scratch, `core-node${major}.json`);
    // Its own config and files; only the reporter changes, so core's own report is left alone.
    const r = await run(node.path, [vitest, 'run', '--reporter=json', `--outputFile=${out}`], {
      cwd: core!.dir,
      env: envFor(node.path),
      timeoutMs: 220_000,
    });
    let report:
      | {
          numPassedTests: number;
          numFailedTests: number;
          testResults: Array<{ name: string; assertionResults: Array<{ fullName: string; status: string; failureMessages?: string[] }> }>;
        }
      | undefined;
    try {
      report = JSON.parse(readFileSync(out, 'utf8'));
    } catch {
      report = undefined;
    }
    const failed =
      report?.testResults.flatMap((f) =>
        f.assertionResults
          .filter((a) => a.status === 'failed')
          .map((a) => `${f.name.replace(repoRoot, '')}: ${a.fullName}\n${(a.failureMessages ?? []).join('\n').slice(0, 1500)}`),
      ) ?? [];
    console.log(`core on ${node.version}: ${report?.numPassedTests ?? 0} passed, ${report?.numFailedTests ?? '?'} failed in ${r.ms} ms`);
    expect(failed, `core's failing tests on ${node.version}`).toEqual([]);
    expect(r.code, describeRun(`core's suite on ${node.version}`, r)).toBe(0);
    expect(report!.numPassedTests).toBeGreaterThan(0);
  });
});
