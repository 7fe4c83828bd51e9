/**
 * Size budgets per published package, in kB (1000 bytes, as npm prints them): `packed` is the
 * .tgz a user downloads, `unpacked` what lands in node_modules. A new package needs an entry here
 * (the release check fails without one), and going over one fails the check: raise a budget in
 * review, on purpose, never by accident.
 *
 * They sit about 25% above the sizes at the time of writing. That leaves room for ordinary growth
 * while catching what actually bloats a tarball: a dependency bundled into dist instead of kept
 * external (undici alone is over 1 MB), source maps with embedded sources (which about double
 * the JavaScript), tests or fixtures leaking into `files`.
 */
export interface SizeBudget {
  packedKb: number;
  unpackedKb: number;
  why: string;
}

export const SIZE_BUDGETS: Record<string, SizeBudget> = {
  '@prodo-auth/core': {
    packedKb: 200,
    unpackedKb: 720,
    why:
      'The largest, and still small: the whole engine (grants, token client, transport, presets, errors, outbound fetch, ' +
      'its own option validation and redaction) and, at the `/adapter` subpath, the framework-free login flow and user ' +
      'sessions that every web adapter translates. It ships twice, unminified, as ESM and CJS (about 170 kB each, a third ' +
      'of it doc comments), with declaration files per format (so TypeScript sees the right module kind) and a README of ' +
      'about 55 kB. undici and jose are its dependencies, never bundled, and both loaded only on first use (jose only for ' +
      'JWT client authentication); zod was dropped (it cost a user far more on disk and at import than the code that ' +
      'replaced it). At about 666 kB unpacked / 191 kB packed with discovery, JWT and mTLS client authentication, ' +
      'revocation, token exchange and the tracing channel; the budget leaves room for DPoP but not for a bundled ' +
      'dependency or source maps.',
  },
  '@prodo-auth/nestjs': {
    packedKb: 20,
    unpackedKb: 70,
    why:
      'The Nest module (providers, the flow middleware, guard, filter and decorators, about 230 lines), ESM and CJS with ' +
      'declarations and a 10 kB README; core, the axios adapter and Nest stay external. About 53 kB unpacked / 14.5 kB packed.',
  },
  '@prodo-auth/redis': {
    packedKb: 28,
    unpackedKb: 95,
    why:
      'The Redis TokenStore and SessionStore (lock scripts, the local cache and its notices, AES-256-GCM records), ESM ' +
      'and CJS with declarations and an 11 kB README; node-redis and ioredis are optional peers, never bundled. About ' +
      '74 kB unpacked / 22 kB packed.',
  },
  '@prodo-auth/opentelemetry': {
    packedKb: 10,
    unpackedKb: 40,
    why:
      'A listener of about 170 lines on core\'s diagnostics channels (no import of core), ESM and CJS with declarations; ' +
      '@opentelemetry/api a peer, never bundled; the rest is its README. About 23 kB unpacked / 5.5 kB packed.',
  },
  '@prodo-auth/mock-server': {
    packedKb: 60,
    unpackedKb: 200,
    why:
      'Four vendor simulations and the CLI, ESM and CJS (about 58 kB each in one shared chunk), declarations and a 16 kB ' +
      'README; jose and zod stay dependencies. About 157 kB unpacked / 44 kB packed today.',
  },
  '@prodo-auth/axios': {
    packedKb: 12,
    unpackedKb: 48,
    why:
      'A thin adapter (about 5 kB of JavaScript per format) over core, which stays a dependency; most of the budget is ' +
      'for its README. About 18 kB unpacked / 4 kB packed before its README.',
  },
  '@prodo-auth/express': {
    packedKb: 8,
    unpackedKb: 28,
    why:
      'A translator of about 130 lines over core/adapter (about 3.5 kB of JavaScript and 3 kB of declarations per ' +
      'format), core a dependency and express a peer, never bundled; the rest is its README (about 7 kB). About ' +
      '22 kB unpacked / 6 kB packed.',
  },
  '@prodo-auth/koa': {
    packedKb: 8,
    unpackedKb: 28,
    why:
      'A translator of about 110 lines of code over core/adapter (about 3.8 kB of JavaScript and 3.9 kB of declarations per ' +
      'format), core a dependency and koa a peer, never bundled; the rest is its README (about 6 kB). About ' +
      '24 kB unpacked / 6.3 kB packed.',
  },
};
