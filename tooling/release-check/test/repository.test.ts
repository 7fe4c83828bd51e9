/**
 * What the release needs from the repository itself: every publishable package covered by this
 * check, its publish metadata, the changesets config, the CI and release workflows, and a README
 * that names the real packages and the Node versions proven here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SIZE_BUDGETS } from '../src/budgets.js';
import { pinnedPnpmVersion, publishablePackages, readJson, repoRoot, rootManifest, SUPPORTED_NODE_MAJORS, toolRoot, type Manifest } from '../src/workspace.js';

const packages = publishablePackages();
const root = rootManifest();
const read = (path: string): string => readFileSync(join(repoRoot, path), 'utf8');

describe('coverage of publishable packages', () => {
  it('finds the publishable packages under packages/ by their package.json', () => {
    const names = packages.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['@prodo-auth/core', '@prodo-auth/mock-server']));
    for (const p of packages) expect(p.name, p.relDir).toMatch(/^@prodo-auth\/[a-z0-9-]+$/);
  });

  it('release-check depends on every publishable package as workspace:*, so turbo builds each before this runs', () => {
    const dev = readJson(join(toolRoot, 'package.json')).devDependencies ?? {};
    const missing = packages.filter((p) => dev[p.name] !== 'workspace:*').map((p) => p.name);
    expect(missing, 'add each to tooling/release-check/package.json devDependencies as "workspace:*"').toEqual([]);
    const ours = Object.keys(dev).filter((name) => name.startsWith('@prodo-auth/'));
    expect(ours.filter((name) => !packages.some((p) => p.name === name)), 'devDependencies on packages that are not published').toEqual([]);
  });

  it.each(packages.map((p) => [p.name, p] as const))('%s has a size budget and a usage fixture', (_name, p) => {
    expect(SIZE_BUDGETS[p.name], `add a budget to tooling/release-check/src/budgets.ts`).toBeDefined();
    expect(existsSync(join(toolRoot, 'fixtures', 'usage', `${p.dirName}.ts`)), `add tooling/release-check/fixtures/usage/${p.dirName}.ts`).toBe(true);
  });
});

describe.each(packages.map((p) => [p.name, p] as const))('%s publish metadata', (_name, p) => {
  const m = p.manifest;
  const repo = typeof m.repository === 'object' ? m.repository : undefined;
  const web = (repo?.url ?? '').replace(/^git\+/, '').replace(/\.git$/, '');

  it('publishes publicly, with npm provenance', () => {
    expect(m.publishConfig).toMatchObject({ access: 'public', provenance: true });
  });

  it('has license, repository with its directory, homepage, bugs and keywords', () => {
    expect(m.license).toBe(root.license);
    expect(repo).toMatchObject({ type: 'git', directory: p.relDir });
    expect(repo?.url).toMatch(/^git\+https:\/\/github\.com\/[^/]+\/[^/]+\.git$/);
    // One repository for all of them.
    const urls = new Set(packages.map((q) => (typeof q.manifest.repository === 'object' ? q.manifest.repository.url : q.manifest.repository)));
    expect(urls.size).toBe(1);
    expect(m.homepage).toBe(`${web}/tree/main/${p.relDir}#readme`);
    expect(typeof m.bugs === 'string' ? m.bugs : m.bugs?.url).toBe(`${web}/issues`);
    expect(m.keywords?.length, 'keywords').toBeGreaterThan(0);
    expect(m.description?.length, 'description').toBeGreaterThan(0);
  });

  it("declares the root's engines.node and sideEffects: false", () => {
    expect(m.engines?.node).toBe(root.engines?.node);
    expect(m.sideEffects).toBe(false);
  });

  it('limits files to dist, and bin/ holding only its bins (README, LICENSE and package.json are always packed)', () => {
    expect(m.files).toContain('dist');
    expect(m.files?.filter((f) => !['dist', 'bin', 'CHANGELOG.md'].includes(f))).toEqual([]);
    const bins = (typeof m.bin === 'string' ? [m.bin] : Object.values(m.bin ?? {})).map((b) => b.replace(/^\.\//, ''));
    if (m.files?.includes('bin')) {
      // bin/ is for committed bin files that exist before a build (pnpm links bins at install time).
      expect(bins.length, 'a "bin" entry in files needs a bin field').toBeGreaterThan(0);
      expect(readdirSync(join(p.dir, 'bin')).map((f) => `bin/${f}`).sort()).toEqual(bins.filter((b) => b.startsWith('bin/')).sort());
    }
    // A bin inside dist/ is missing on a fresh clone: pnpm warns once per workspace depending on it.
    expect(bins.filter((b) => b.startsWith('dist/')), 'bins outside dist/, committed').toEqual([]);
  });

  it('puts the types condition first in every exports entry, for ESM and CommonJS', () => {
    const conditions: Array<[string, Record<string, unknown>]> = [];
    const walk = (path: string, value: unknown): void => {
      if (!value || typeof value !== 'object') return;
      const entry = value as Record<string, unknown>;
      if (Object.values(entry).some((v) => typeof v === 'string') && Object.keys(entry).some((k) => k === 'default' || k === 'types')) conditions.push([path, entry]);
      for (const [k, v] of Object.entries(entry)) walk(`${path}.${k}`, v);
    };
    walk('exports', m.exports);
    const root = (m.exports as Record<string, Record<string, unknown>>)['.'];
    expect(Object.keys(root ?? {}), 'exports["."] has import and require').toEqual(expect.arrayContaining(['import', 'require']));
    for (const [path, entry] of conditions) expect(Object.keys(entry)[0], path).toBe('types');
  });

  it('has the root LICENSE in its directory', () => {
    expect(existsSync(join(p.dir, 'LICENSE')), `copy the root LICENSE to ${p.relDir}/LICENSE`).toBe(true);
    expect(readFileSync(join(p.dir, 'LICENSE'), 'utf8')).toBe(read('LICENSE'));
  });

  it('takes workspace packages at a workspace: range, so publishing pins the released version', () => {
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies'] as const) {
      for (const [dep, range] of Object.entries(m[field] ?? {})) {
        if (packages.some((q) => q.name === dep)) expect(range, `${field}.${dep}`).toMatch(/^workspace:[\^~*]$/);
      }
    }
  });
});

describe('root release scripts and changesets', () => {
  it('has changeset, version-packages and release scripts', () => {
    expect(root.scripts?.changeset).toBe('changeset');
    expect(root.scripts?.['version-packages']).toBe('changeset version');
    expect(root.scripts?.release).toBe('turbo run build && changeset publish');
  });

  it('has a LICENSE at the root', () => {
    expect(read('LICENSE')).toMatch(/^MIT License/);
    expect(root.license).toBe('MIT');
  });

  it('tunes changesets for a core with dependent adapters, with no misspelt option', () => {
    const config = JSON.parse(read('.changeset/config.json')) as Record<string, unknown>;
    const known = [
      '$schema', 'changelog', 'commit', 'fixed', 'linked', 'access', 'baseBranch', 'updateInternalDependencies', 'ignore',
      'bumpVersionsWithWorkspaceProtocolOnly', 'snapshot', 'privatePackages', 'prettier', '___experimentalUnsafeOptions_WILL_CHANGE_IN_PATCH',
    ];
    // changesets ignores an unknown key silently: a typo would quietly switch a rule off.
    expect(Object.keys(config).filter((k) => !known.includes(k))).toEqual([]);
    expect(config).toMatchObject({
      access: 'public',
      baseBranch: 'main',
      updateInternalDependencies: 'patch',
      privatePackages: { version: false, tag: false },
      ___experimentalUnsafeOptions_WILL_CHANGE_IN_PATCH: { updateInternalDependents: 'always', onlyUpdatePeerDependentsWhenOutOfRange: true },
    });
    const ignored = config.ignore as string[];
    expect(ignored.filter((name) => packages.some((p) => p.name === name))).toEqual([]);
  });

  it('has pending changesets that name only publishable packages, one of them for this packaging work', () => {
    const dir = join(repoRoot, '.changeset');
    const files = readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md');
    expect(files).toContain('publish-ready.md');
    for (const file of files) {
      const front = /^---\n([\s\S]*?)\n---\n([\s\S]+)$/.exec(readFileSync(join(dir, file), 'utf8'));
      expect(front, `${file} has front matter and a summary`).not.toBeNull();
      for (const line of front![1]!.split('\n').filter(Boolean)) {
        const match = /^['"]?(@?[^'"]+)['"]?:\s*(major|minor|patch)$/.exec(line.trim());
        expect(match, `${file}: ${line}`).not.toBeNull();
        expect(packages.map((p) => p.name), `${file} names ${match![1]}`).toContain(match![1]);
      }
    }
  });
});

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, { 'runs-on': string; strategy?: { matrix?: Record<string, unknown> }; steps: Step[]; permissions?: Record<string, string> }>;
}

describe('GitHub workflows', () => {
  const ciRun = read('.ci/run');
  const workflow = (name: string): Workflow => parse(read(`.github/workflows/${name}`)) as Workflow;

  it('.ci/run installs from the lockfile and runs the README test command with the pinned pnpm', () => {
    const pnpm = `npx -y pnpm@${pinnedPnpmVersion()}`;
    expect(ciRun).toContain(`${pnpm} install --frozen-lockfile && ${pnpm} test:all`);
    expect(read('README.md')).toContain(`${pnpm} install --frozen-lockfile && ${pnpm} test:all`);
  });

  it('ci.yml runs .ci/run on every supported Node major, the oldest at the engines floor', () => {
    const ci = workflow('ci.yml');
    expect(Object.keys(ci.on)).toEqual(expect.arrayContaining(['push', 'pull_request']));
    expect(ci.permissions).toEqual({ contents: 'read' });
    const jobs = Object.values(ci.jobs);
    expect(jobs).toHaveLength(1);
    const job = jobs[0]!;
    expect(job['runs-on']).toBe('ubuntu-latest');
    // One job per supported major; the oldest runs the engines floor itself (20.19.x), not 20's latest.
    const matrix = (job.strategy?.matrix?.node ?? []) as Array<string | number>;
    expect(matrix.map((v) => Number(String(v).split('.')[0]))).toEqual([...SUPPORTED_NODE_MAJORS]);
    expect(String(matrix[0])).toBe(/^>=(\d+\.\d+)/.exec(root.engines?.node ?? '')?.[1]);
    expect(matrix.slice(1).every((v) => /^\d+$/.test(String(v))), 'the other majors run their latest release').toBe(true);
    expect(job.steps.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with?.['node-version']).toBe('${{ matrix.node }}');
    expect(job.steps.map((s) => s.run).filter(Boolean)).toEqual(['bash .ci/run']);
  });

  it('release.yml gates on .ci/run, then runs the changesets version-PR / publish flow with npm provenance', () => {
    const release = workflow('release.yml');
    expect(Object.keys(release.on)).toEqual(['push']);
    expect(release.on.push).toEqual({ branches: ['main'] });
    const job = Object.values(release.jobs)[0]!;
    const permissions = { ...release.permissions, ...job.permissions };
    expect(permissions).toMatchObject({ contents: 'write', 'pull-requests': 'write', 'id-token': 'write' });
    const runs = job.steps.map((s) => s.run).filter(Boolean);
    expect(runs).toEqual(['bash .ci/run']);
    const gate = job.steps.findIndex((s) => s.run === 'bash .ci/run');
    const action = job.steps.findIndex((s) => s.uses?.startsWith('changesets/action@'));
    expect(action, 'changesets/action after the gate').toBeGreaterThan(gate);
    const pnpm = `npx -y pnpm@${pinnedPnpmVersion()}`;
    expect(job.steps[action]!.with).toMatchObject({ version: `${pnpm} version-packages`, publish: `${pnpm} release` });
    expect(job.steps[action]!.env).toMatchObject({ NPM_CONFIG_PROVENANCE: true });
    expect(Object.keys(job.steps[action]!.env ?? {})).toEqual(expect.arrayContaining(['GITHUB_TOKEN', 'NPM_TOKEN']));
  });

  it('pins every action to a major version', () => {
    for (const name of ['ci.yml', 'release.yml']) {
      for (const job of Object.values(workflow(name).jobs)) {
        for (const step of job.steps.filter((s) => s.uses)) expect(step.uses, name).toMatch(/^[\w-]+\/[\w-]+@v\d+$/);
      }
    }
  });
});

describe('root README', () => {
  const readme = read('README.md');
  const install = /^## Install\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1] ?? '';
  /** The arguments of each `npm i` / `npm install` line of the Install section. */
  const lines = [...install.matchAll(/^npm (?:i|install)\s+(.+)$/gm)].map((m) => m[1]!);
  const commands = [...install.matchAll(/^npm (?:i|install)\s+(.+)$/gm)].map((m) => m[1]!.replace(/#.*$/, '').trim().split(/\s+/).filter((a) => !a.startsWith('-')));
  const named = (arg: string): string => arg.replace(/^(@?[^@]+)@.*$/, '$1');

  it('has an Install section with npm install lines', () => {
    expect(install, 'a "## Install" section').not.toBe('');
    expect(commands.length).toBeGreaterThan(0);
  });

  it.each(packages.map((p) => [p.name, p.manifest] as const))('shows how to install %s, with its peer dependencies', (name, m: Manifest) => {
    const line = commands.find((args) => args.map(named).includes(name));
    expect(line, `an "npm i ${name} …" line in the README's Install section`).toBeDefined();
    // The line as written, its comment included: where a peer's range is stated for this package
    // (two packages may need different ranges of one peer: axios for the adapter and for Nest).
    const written = lines.find((l) => l.replace(/#.*$/, '').trim().split(/\s+/).map(named).includes(name)) ?? '';
    const peers = Object.keys(m.peerDependencies ?? {}).filter((peer) => !m.peerDependenciesMeta?.[peer]?.optional);
    for (const peer of peers) {
      expect(line!.map(named), `${name} needs its peer ${peer} on the same line`).toContain(peer);
      // A peer range the README states must be the one the package declares.
      const stated = new RegExp(`\\b${peer} (\\^[\\d.]+|>=\\s?[\\d.]+)`).exec(written)?.[1];
      if (stated !== undefined) expect(stated, `the README's range for ${peer}`).toBe(m.peerDependencies![peer]);
    }
  });

  it('names only real, publishable packages in its Install section', () => {
    const ours = commands.flat().map(named).filter((a) => a.startsWith('@prodo-auth/'));
    expect(ours.filter((name) => !packages.some((p) => p.name === name))).toEqual([]);
  });

  it('states the supported Node versions: the majors proven by the release check, from the engines floor', () => {
    const lines = readme.split('\n').filter((l) => /Supported Node\.js versions/i.test(l));
    expect(lines, 'one "Supported Node.js versions" line').toHaveLength(1);
    const majors = [...new Set([...lines[0]!.matchAll(/\b(\d{2})(?:\.\d+)?\b/g)].map((m) => Number(m[1])))];
    expect(majors).toEqual([...SUPPORTED_NODE_MAJORS]);
    const floor = /^>=(\d+\.\d+)/.exec(root.engines?.node ?? '')?.[1];
    expect(floor).toBeDefined();
    expect(lines[0]).toContain(floor!);
    expect(Number(floor!.split('.')[0])).toBe(SUPPORTED_NODE_MAJORS[0]);
  });
});
