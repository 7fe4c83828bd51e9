/** The check every compat package runs: the Nest the tests load is the compat package's, one copy of it. */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import 'reflect-metadata';
import { HttpAdapterHost } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { expect } from 'vitest';
import { staticTokenGrant } from '@prodo-auth/core';
import { getTokenClientToken, ProdoAuthModule } from '../src/index.js';

export async function assertLoadedNest(major: string): Promise<void> {
  const root = process.env.PRODO_AUTH_COMPAT_ROOT;
  expect(root).toBeDefined();
  const fromCompat = createRequire(join(root!, 'package.json'));
  for (const name of ['@nestjs/common', '@nestjs/core', '@nestjs/platform-express', '@nestjs/platform-fastify', '@nestjs/testing']) {
    expect([name, (fromCompat(`${name}/package.json`) as { version: string }).version.startsWith(major)]).toEqual([name, true]);
  }
  // The module's source and this file share one @nestjs/core: its filter injects HttpAdapterHost,
  // which a second copy of Nest would not provide (the bootstrap would fail to resolve it).
  const ref = await Test.createTestingModule({ imports: [ProdoAuthModule.forRoot({ grant: staticTokenGrant({ token: 'compat-token' }), apiUrl: 'http://127.0.0.1:9' })] }).compile();
  const app = ref.createNestApplication();
  await app.init();
  try {
    expect(app.get(HttpAdapterHost).httpAdapter).toBeDefined();
    expect(await app.get(getTokenClientToken()).getAccessToken()).toBe('compat-token');
  } finally {
    await app.close();
  }
}
