/**
 * Type-checks the installed packages the way users compile against them: `moduleResolution`
 * node16 from an ES module (`import` types) and from a CommonJS one (`require` types), and
 * `bundler`. Each package gets its usage fixture and a generated file that requires its declared
 * value exports to equal what the runtime exports.
 */
import { copyFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { run, userEnv, type RunResult } from './run.js';
import { toolRoot, type Manifest } from './workspace.js';

export type Resolution = 'node16' | 'bundler';

export interface TypedPackage {
  name: string;
  dirName: string;
  /** Runtime export names seen by `import` and by `require`. */
  esmKeys: readonly string[];
  cjsKeys: readonly string[];
}

const STRICT = {
  target: 'es2022',
  lib: ['es2023'],
  types: ['node'],
  strict: true,
  noEmit: true,
  esModuleInterop: true,
  // Our .d.ts files are checked too: an import in them of something not installed is an error.
  skipLibCheck: false,
};

const COMPILER: Record<Resolution, Record<string, unknown>> = {
  node16: { ...STRICT, module: 'node16', moduleResolution: 'node16' },
  bundler: { ...STRICT, module: 'esnext', moduleResolution: 'bundler' },
};

function union(keys: readonly string[]): string {
  return keys.length === 0 ? 'never' : keys.map((k) => JSON.stringify(k)).join(' | ');
}

/** A module that fails to compile unless `keyof typeof ns` (the declared values) equals `keys`. */
export function apiEqualitySource(name: string, keys: readonly string[]): string {
  return [
    `// Generated: the value exports ${name}'s types declare must be exactly what it exports at runtime.`,
    `import * as ns from '${name}';`,
    `type Declared = keyof typeof ns;`,
    `type AtRuntime = ${union(keys)};`,
    `export const declaredButNotAtRuntime: [Exclude<Declared, AtRuntime>] extends [never] ? true : Exclude<Declared, AtRuntime> = true;`,
    `export const atRuntimeButNotDeclared: [Exclude<AtRuntime, Declared>] extends [never] ? true : Exclude<AtRuntime, Declared> = true;`,
    '',
  ].join('\n');
}

/** Writes `types-node16/` and `types-bundler/` projects into the consumer directory. */
export function writeTypeProjects(consumerDir: string, packages: readonly TypedPackage[]): Record<Resolution, string> {
  const node16 = join(consumerDir, 'types-node16');
  const bundler = join(consumerDir, 'types-bundler');
  mkdirSync(node16, { recursive: true });
  mkdirSync(bundler, { recursive: true });
  const files: Record<Resolution, string[]> = { node16: [], bundler: [] };
  for (const p of packages) {
    const usage = join(toolRoot, 'fixtures', 'usage', `${p.dirName}.ts`);
    for (const ext of ['mts', 'cts']) copyFileSync(usage, join(node16, `usage-${p.dirName}.${ext}`));
    copyFileSync(usage, join(bundler, `usage-${p.dirName}.ts`));
    writeFileSync(join(node16, `api-${p.dirName}.mts`), apiEqualitySource(p.name, p.esmKeys));
    writeFileSync(join(node16, `api-${p.dirName}.cts`), apiEqualitySource(p.name, p.cjsKeys));
    writeFileSync(join(bundler, `api-${p.dirName}.ts`), apiEqualitySource(p.name, p.esmKeys));
    files.node16.push(`usage-${p.dirName}.mts`, `usage-${p.dirName}.cts`, `api-${p.dirName}.mts`, `api-${p.dirName}.cts`);
    files.bundler.push(`usage-${p.dirName}.ts`, `api-${p.dirName}.ts`);
  }
  writeFileSync(join(node16, 'tsconfig.json'), JSON.stringify({ compilerOptions: COMPILER.node16, files: files.node16 }, null, 2));
  writeFileSync(join(bundler, 'tsconfig.json'), JSON.stringify({ compilerOptions: COMPILER.bundler, files: files.bundler }, null, 2));
  return { node16, bundler };
}

/** Runs the workspace's TypeScript on a project. */
export function tsc(projectDir: string): Promise<RunResult> {
  const bin = join(createRequire(join(toolRoot, 'package.json')).resolve('typescript/package.json'), '..', 'bin', 'tsc');
  return run(process.execPath, [bin, '-p', join(projectDir, 'tsconfig.json'), '--pretty', 'false'], { cwd: projectDir, env: userEnv(), timeoutMs: 180_000 });
}

export interface BrokenVariant {
  /** The package name the broken copy is installed under. */
  name: string;
  /** What is wrong with it. */
  defect: string;
  resolution: Resolution;
  /** The file extension that imports it: `mts` (ESM), `cts` (CommonJS) or `ts` (bundler). */
  ext: 'mts' | 'cts' | 'ts';
  /** The TypeScript diagnostic the check must report. */
  expect: RegExp;
}

type Conditions = { import?: Record<string, string>; require?: Record<string, string> };

/**
 * Copies of an installed package with a wrong `types` condition, and a consumer file importing
 * each: the type check must fail on every one of them, or it would not catch the real mistake.
 */
export function writeBrokenTypesControls(consumerDir: string, installedDir: string): BrokenVariant[] {
  const manifest = JSON.parse(readFileSync(join(installedDir, 'package.json'), 'utf8')) as Manifest;
  const root = (manifest.exports as Record<string, Conditions>)['.'];
  if (!root?.import?.types || !root.require?.types) throw new Error(`${manifest.name} has no import/require types conditions to break`);
  const variants: Array<BrokenVariant & { exports: unknown }> = [
    {
      name: 'broken-types-swapped',
      defect: 'import and require types swapped: CommonJS users get ESM declarations',
      resolution: 'node16',
      ext: 'cts',
      expect: /TS1479/,
      exports: { '.': { import: { ...root.import, types: root.require.types }, require: { ...root.require, types: root.import.types } } },
    },
    {
      name: 'broken-types-missing',
      defect: 'types condition points at a file the tarball does not have, and no sibling declarations',
      resolution: 'bundler',
      ext: 'ts',
      expect: /TS7016/,
      exports: { '.': { import: { types: './dist/index.d.ts', default: './lib/index.mjs' }, require: { types: './dist/index.d.ts', default: './lib/index.cjs' } } },
    },
  ];
  const dirs: Record<Resolution, string> = { node16: join(consumerDir, 'types-node16'), bundler: join(consumerDir, 'types-bundler') };
  for (const v of variants) {
    const target = join(consumerDir, 'node_modules', v.name);
    cpSync(join(installedDir, 'dist'), join(target, 'dist'), { recursive: true });
    if (v.name === 'broken-types-missing') {
      // The JavaScript moved to lib/ without its declarations, as a misconfigured build leaves it.
      cpSync(join(installedDir, 'dist'), join(target, 'lib'), { recursive: true, filter: (src) => !/\.d\.[cm]?ts$/.test(src) });
    }
    const { main: _m, module: _mod, types: _t, ...rest } = manifest;
    writeFileSync(join(target, 'package.json'), JSON.stringify({ ...rest, name: v.name, exports: v.exports }, null, 2));
    const project = join(dirs[v.resolution], `control-${v.name}`);
    mkdirSync(project, { recursive: true });
    writeFileSync(
      join(project, `consumer.${v.ext}`),
      `import * as ns from '${v.name}';\nexport const names: string[] = Object.keys(ns);\n`,
    );
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: COMPILER[v.resolution], files: [`consumer.${v.ext}`] }, null, 2));
  }
  return variants.map(({ exports: _e, ...v }) => v);
}

/** The project directory of a control written by {@link writeBrokenTypesControls}. */
export function controlProject(consumerDir: string, v: BrokenVariant): string {
  return join(consumerDir, `types-${v.resolution}`, `control-${v.name}`);
}
