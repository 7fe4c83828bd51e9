/**
 * The tarballs as a user gets them: installed with npm into a project outside the workspace, then
 * loaded from ESM and CommonJS and compiled against with TypeScript.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { exportsSeenBy, type ApiReport } from '../src/runtime.js';
import { describeRun, run, userEnv } from '../src/run.js';
import { controlProject, tsc, writeBrokenTypesControls, writeTypeProjects, type Resolution } from '../src/type-check.js';
import { repoRoot } from '../src/workspace.js';

const { packed, consumerDir, consumerExtras } = inject('release');
const names = packed.map((p) => p.name);
const inside = (path: string): boolean => realpathSync(path).startsWith(realpathSync(consumerDir) + sep);

// What `import` and `require` give under this machine's Node, from the consumer's directory.
let esm: ApiReport;
let cjs: ApiReport;
beforeAll(async () => {
  ({ esm, cjs } = await exportsSeenBy(process.execPath, consumerDir, names));
});

describe('npm install of the tarballs, outside the workspace', () => {
  it('installed each package from its tarball, once, into the consumer project', () => {
    const lock = JSON.parse(readFileSync(join(consumerDir, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string; resolved?: string; link?: boolean }>;
    };
    expect(realpathSync(consumerDir).startsWith(realpathSync(repoRoot))).toBe(false);
    // Nothing above it that Node's resolution could fall back to.
    const ancestors: string[] = [];
    for (let dir = dirname(realpathSync(consumerDir)); ; dir = dirname(dir)) {
      if (existsSync(join(dir, 'node_modules'))) ancestors.push(join(dir, 'node_modules'));
      if (dirname(dir) === dir) break;
    }
    expect(ancestors, 'node_modules above the consumer project would leak into resolution').toEqual([]);
    for (const p of packed) {
      const entry = lock.packages[`node_modules/${p.name}`];
      expect(entry?.version, p.name).toBe(p.version);
      expect(entry?.resolved, `${p.name} comes from its tarball, not the registry or a link`).toMatch(/^file:.*\.tgz$/);
      expect(entry?.link).toBeUndefined();
      expect(inside(join(consumerDir, 'node_modules', p.name)), `${p.name} is a real directory in the consumer`).toBe(true);
    }
    // One copy of each: a package depending on another of ours got the installed tarball, not a
    // nested one from the registry.
    const nested = Object.keys(lock.packages).filter((key) => /node_modules\/.+\/node_modules\/@prodo-auth\//.test(key));
    expect(nested).toEqual([]);
    expect(consumerExtras.some((x) => x.startsWith('@types/node@'))).toBe(true);
  });

  it.each(names)('%s: ESM import and CJS require see the same public API', (name) => {
    expect(Object.keys(esm[name]!.exports).length, `${name} exports something`).toBeGreaterThan(0);
    expect(cjs[name]!.exports).toEqual(esm[name]!.exports);
    expect(esm[name]!.resolved).toMatch(/\.mjs$/);
    expect(cjs[name]!.resolved).toMatch(/\.cjs$/);
    expect(inside(esm[name]!.resolved) && inside(cjs[name]!.resolved), 'resolved inside the consumer').toBe(true);
  });
});

describe('TypeScript against the installed packages', () => {
  let projects: Record<Resolution, string>;
  beforeAll(() => {
    projects = writeTypeProjects(
      consumerDir,
      packed.map((p) => ({ name: p.name, dirName: p.dirName, esmKeys: Object.keys(esm[p.name]!.exports), cjsKeys: Object.keys(cjs[p.name]!.exports) })),
    );
  });

  it.each(['node16', 'bundler'] as const)('every package type-checks under moduleResolution %s, with declarations equal to the runtime exports', async (resolution) => {
    const r = await tsc(projects[resolution]);
    expect(r.code, describeRun(`tsc (${resolution})`, r)).toBe(0);
  });

  it('a wrong types condition fails that type check', async () => {
    const installed = join(consumerDir, 'node_modules', names.includes('@prodo-auth/core') ? '@prodo-auth/core' : names[0]!);
    for (const control of writeBrokenTypesControls(consumerDir, installed)) {
      const r = await tsc(controlProject(consumerDir, control));
      expect(r.code, `${control.defect}: must fail\n${describeRun('tsc', r)}`).not.toBe(0);
      expect(r.stdout, control.defect).toMatch(control.expect);
    }
  });
});

describe('bins', () => {
  const bins = packed.flatMap((p) => {
    const m = JSON.parse(readFileSync(join(consumerDir, 'node_modules', p.name, 'package.json'), 'utf8')) as { bin?: string | Record<string, string> };
    if (!m.bin) return [];
    return typeof m.bin === 'string' ? [[p.name.split('/').pop()!, p.name] as const] : Object.keys(m.bin).map((bin) => [bin, p.name] as const);
  });
  // Every CLI we publish answers --help with exit 0.
  it.skipIf(bins.length === 0).each(bins.length > 0 ? bins : [['(none)', '(none)'] as const])('%s (from %s) runs from node_modules/.bin', async (bin) => {
    const path = join(consumerDir, 'node_modules', '.bin', bin);
    expect(existsSync(path)).toBe(true);
    const r = await run(path, ['--help'], { cwd: consumerDir, env: userEnv(), timeoutMs: 30_000 });
    expect(r.code, describeRun(`${bin} --help`, r)).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(0);
  });

  const both = names.includes('@prodo-auth/core') && names.includes('@prodo-auth/mock-server');
  it.skipIf(!both)("prodo-auth-mock's PRODO_AUTH_* output is exactly what configFromEnv uses: for each vendor, a working client and no ignored variable", async () => {
    // fixtures/consumer/cli-env.mjs: the installed CLI's env, fed to the installed core, loopback only.
    const r = await run(process.execPath, ['cli-env.mjs'], { cwd: consumerDir, env: userEnv(), timeoutMs: 120_000 });
    expect(r.code, describeRun('cli-env.mjs', r)).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as { vendors: Record<string, string[]> };
    expect(Object.keys(report.vendors)).toEqual(['prodoscore', 'bio-prodict', 'procurios', 'petrosoft']);
  });
});
