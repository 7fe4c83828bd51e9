/**
 * The repository as the release sees it: which packages under packages/ get published, and the
 * facts every check compares against (Node majors, the pinned pnpm, the root LICENSE).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is tooling/release-check/src/workspace.ts). */
export const repoRoot: string = fileURLToPath(new URL('../../../', import.meta.url));
/** The release-check package itself. */
export const toolRoot: string = fileURLToPath(new URL('../', import.meta.url));

/**
 * The Node majors every package is proven on: the smoke test runs on each, CI runs on each, and
 * the README names exactly these. 26 is the current line; 22 and 24 are the LTS lines most users
 * run; 20 is past its end of life (April 2026) but kept working from 20.19, the engines floor
 * (require(esm) and undici 7 need it), because many machines still run it.
 */
export const SUPPORTED_NODE_MAJORS: readonly number[] = [20, 22, 24, 26];

export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  description?: string;
  keywords?: string[];
  homepage?: string;
  bugs?: string | { url?: string };
  repository?: string | { type?: string; url?: string; directory?: string };
  engines?: Record<string, string>;
  sideEffects?: boolean | string[];
  files?: string[];
  main?: string;
  module?: string;
  types?: string;
  bin?: string | Record<string, string>;
  exports?: unknown;
  publishConfig?: Record<string, unknown>;
  scripts?: Record<string, string>;
  packageManager?: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export interface PublishablePackage {
  name: string;
  version: string;
  /** Absolute directory. */
  dir: string;
  /** Directory relative to the repository root, e.g. `packages/core`. */
  relDir: string;
  /** The directory's name, e.g. `core`: fixtures are named after it. */
  dirName: string;
  manifest: Manifest;
}

export function readJson<T = Manifest>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function rootManifest(): Manifest {
  return readJson(join(repoRoot, 'package.json'));
}

/**
 * Every package under packages/ that is not private, read from its package.json: a package added
 * later is picked up here without anyone listing it.
 */
export function publishablePackages(): PublishablePackage[] {
  const base = join(repoRoot, 'packages');
  if (!existsSync(base)) return [];
  return readdirSync(base, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(base, d.name, 'package.json')))
    .map((d) => {
      const manifest = readJson(join(base, d.name, 'package.json'));
      return { name: manifest.name, version: manifest.version, dir: join(base, d.name), relDir: `packages/${d.name}`, dirName: d.name, manifest };
    })
    .filter((p) => p.manifest.private !== true)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The pnpm version the repository pins in `packageManager`. */
export function pinnedPnpmVersion(): string {
  const pm = rootManifest().packageManager ?? '';
  const match = /^pnpm@(\d+\.\d+\.\d+)/.exec(pm);
  if (!match?.[1]) throw new Error(`package.json "packageManager" should pin pnpm, got ${JSON.stringify(pm)}`);
  return match[1];
}

/** Names of the workspace packages a manifest depends on at runtime (dependencies and peers). */
export function runtimeDependencyNames(manifest: Manifest): string[] {
  return [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {})];
}
