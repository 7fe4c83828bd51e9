import { defineConfig } from 'tsdown';

export default defineConfig({
  // The library, and the `prodo-auth-mock` CLI (package.json "bin") as a second entry.
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm', 'cjs'],
  platform: 'node',
  target: 'node20.19',
  dts: true,
  sourcemap: false,
  clean: true,
});
