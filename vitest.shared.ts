/**
 * The test settings every workspace package shares: tests in test/, bounded timeouts, and the
 * JSON report that scripts/test-all.mjs sums into `tests: N passed, N failed`.
 */
import { defineConfig, type ViteUserConfig } from 'vitest/config';

type TestOptions = NonNullable<ViteUserConfig['test']>;

export function packageTestConfig(overrides: TestOptions = {}): ViteUserConfig {
  return defineConfig({
    test: {
      include: ['test/**/*.test.ts'],
      testTimeout: 20_000,
      hookTimeout: 20_000,
      reporters: ['default', 'json'],
      outputFile: { json: '.test-results/report.json' },
      ...overrides,
    },
  });
}
