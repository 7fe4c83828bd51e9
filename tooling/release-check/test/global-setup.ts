/**
 * Once per run: pack every publishable package with pnpm, and install the tarballs with npm into a
 * consumer project under the OS temp dir. The test files share the result; teardown removes both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { installConsumer } from '../src/consumer.js';
import { packAll, type PackedPackage } from '../src/pack.js';
import { publishablePackages } from '../src/workspace.js';

export interface ReleaseArtifacts {
  packDir: string;
  packed: PackedPackage[];
  consumerDir: string;
  consumerExtras: string[];
  timings: { packMs: number; installMs: number };
}

declare module 'vitest' {
  export interface ProvidedContext {
    release: ReleaseArtifacts;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const packDir = mkdtempSync(join(tmpdir(), 'prodo-auth-pack-'));
  let consumerDir: string | undefined;
  const cleanup = (): void => {
    if (process.env.RELEASE_CHECK_KEEP) return;
    rmSync(packDir, { recursive: true, force: true });
    if (consumerDir) rmSync(consumerDir, { recursive: true, force: true });
  };
  try {
    const started = Date.now();
    const packed = await packAll(publishablePackages(), packDir);
    const packMs = Date.now() - started;
    const consumer = await installConsumer(packed);
    consumerDir = consumer.dir;
    project.provide('release', { packDir, packed, consumerDir, consumerExtras: consumer.extras, timings: { packMs, installMs: consumer.installMs } });
    console.log(`release-check: packed ${packed.length} packages in ${packMs} ms, npm install of the tarballs in ${consumer.installMs} ms`);
    if (process.env.RELEASE_CHECK_KEEP) console.log(`release-check: kept ${packDir} and ${consumerDir}`);
    return cleanup;
  } catch (error) {
    cleanup();
    throw error;
  }
}
