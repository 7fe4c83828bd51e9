/**
 * The test settings of a compat package (compat/nest-10, compat/nest-11): @prodo-auth/nestjs's own
 * tests (../../test) and its source, with every Nest package, axios, rxjs and reflect-metadata
 * resolved from the compat package instead: Vite's `resolve.dedupe` for the files vitest
 * transforms, a Node resolve hook (`NODE_OPTIONS=--import`) for the processes the tests start.
 * One copy of each for the source, the tests and Nest's own packages, as Nest needs.
 */
import { fileURLToPath } from 'node:url';
import { mergeConfig, type ViteUserConfig } from 'vitest/config';
import { packageTestConfig } from '../../../vitest.shared.ts';
import { SHARED } from './shared-deps.mjs';

export function compatConfig(packageUrl: string): ViteUserConfig {
  const hook = fileURLToPath(new URL('./resolve-hook.mjs', import.meta.url));
  return mergeConfig(
    packageTestConfig({
      dir: fileURLToPath(new URL('..', import.meta.url)),
      include: ['test/**/*.test.ts', `compat/${new URL('.', packageUrl).pathname.split('/').at(-2)}/test/**/*.test.ts`],
      env: { NODE_OPTIONS: `--import=${hook}`, PRODO_AUTH_COMPAT_ROOT: fileURLToPath(new URL('.', packageUrl)) },
    }),
    { resolve: { dedupe: [...SHARED] } },
  );
}
