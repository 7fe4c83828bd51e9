import { packageTestConfig } from '../../vitest.shared.ts';

export default packageTestConfig({
  // Packs every publishable package and installs the tarballs once for all test files.
  globalSetup: ['test/global-setup.ts'],
  // Installs, downloads of Node binaries and core's suite on other Node versions take a while:
  // generous, but bounded. Each child process has its own deadline below these.
  testTimeout: 240_000,
  hookTimeout: 360_000,
});
