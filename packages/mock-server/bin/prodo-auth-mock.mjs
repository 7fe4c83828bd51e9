#!/usr/bin/env node
// The `prodo-auth-mock` bin. It is committed, not built, because pnpm links a workspace package's
// bins at install time: a bin pointing into dist/ does not exist on a fresh clone, and every
// workspace depending on this package warned "Failed to create bin". The CLI itself is the build's.
import '../dist/cli.mjs';
