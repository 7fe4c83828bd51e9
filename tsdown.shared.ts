/** The one build recipe of every published package: ESM and CommonJS with types, for Node 20.19+. */
import { defineConfig, type UserConfig } from 'tsdown';

export function packageBuildConfig(entry: string[] = ['src/index.ts']): UserConfig {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    platform: 'node',
    target: 'node20.19',
    dts: true,
    sourcemap: false,
    clean: true,
  });
}
