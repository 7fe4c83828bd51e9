/**
 * User mode across two instances of one app (`createProdoAuth` with both Redis stores, each
 * instance its own Redis client): any instance serves any user, and a logout is seen by all.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { authorizationCodeGrant } from '@prodo-auth/core';
import { createProdoAuth, type FlowResult, type PlainRequest, type ProdoAuth } from '@prodo-auth/core/adapter';
import { redisSessionStore, redisTokenStore } from '../src/index.js';
import { CLIENT_KINDS } from './helpers/clients.js';
import { startRedis, type RedisServer } from './helpers/redis-server.js';
import { startTokenServer, type TokenServer } from './helpers/token-server.js';

let redis: RedisServer;
let as: TokenServer;
const closers: (() => Promise<void>)[] = [];
beforeAll(async () => {
  redis = await startRedis();
  as = await startTokenServer(3600);
});
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await as?.close();
  await redis?.stop();
});

const APP = 'http://127.0.0.1:3999';

/** One instance of the app, on its own connections (node-redis for one, ioredis for the other). */
async function instance(kind: (typeof CLIENT_KINDS)[number]): Promise<ProdoAuth & { mode: 'user' }> {
  const { client, close } = await kind.connect(redis.url);
  const store = redisTokenStore({ redis: client, keyPrefix: 'app:' });
  const sessionStore = redisSessionStore({ redis: client, keyPrefix: 'app:' });
  const auth = createProdoAuth({
    grant: authorizationCodeGrant({ authorizeUrl: as.authorizeUrl, tokenUrl: as.url, clientId: 'web', redirectUri: `${APP}/auth/callback` }),
    redirectUri: `${APP}/auth/callback`,
    sessionSecret: 'a session secret of at least 32 characters',
    store,
    sessionStore,
  });
  if (auth.mode !== 'user') throw new Error('expected user mode');
  closers.push(close, () => store.close(), () => sessionStore.close(), () => auth.close());
  return auth;
}

const get = (url: string, cookies: string[] = [], extra: Record<string, string> = {}): PlainRequest => ({
  method: extra.method ?? 'GET',
  url,
  headers: { host: '127.0.0.1:3999', accept: 'text/html', ...(cookies.length ? { cookie: cookies.join('; ') } : {}), ...extra },
});
const cookiesOf = (r: FlowResult): string[] => r.cookies.filter((c) => c.value !== '').map((c) => `${c.name}=${c.value}`);
/** The authorization server's answer to the browser: where it redirects. */
const follow = (url: string): Promise<string> =>
  new Promise((resolve, reject) => {
    request(url, (res) => {
      res.resume();
      resolve(res.headers.location ?? '');
    })
      .on('error', reject)
      .end();
  });

it('a login started on one instance completes on the other, its session serves either, and a logout on one is seen by the other', async () => {
  const a = await instance(CLIENT_KINDS[0]!);
  const b = await instance(CLIENT_KINDS[2]!);

  const start = await a.flow.handle(get('/auth/login?returnTo=/home'));
  expect(start.kind).toBe('redirect');
  const back = new URL(await follow((start as { location: string }).location));
  // The login transaction was stored by A: B takes it (once).
  const callback = await b.flow.handle(get(`${back.pathname}${back.search}`, cookiesOf(start)));
  expect(callback.kind).toBe('redirect');
  const session = cookiesOf(callback);
  expect(session.length).toBeGreaterThan(0);

  const onA = await a.flow.handle(get('/home', session));
  expect(onA.kind).toBe('continue');
  const authA = (onA as { auth: { isAuthenticated: boolean; getAccessToken(): Promise<string> } }).auth;
  expect(authA.isAuthenticated).toBe(true);
  // A never saw the code exchange: the session's tokens come from Redis.
  expect(await authA.getAccessToken()).toBe(as.requests.at(-1)!.issued);

  // The same callback replayed (on either instance) finds no transaction.
  const replay = await a.flow.handle(get(`${back.pathname}${back.search}`, cookiesOf(start)));
  expect(replay.kind).not.toBe('continue');
  expect((replay as { status?: number }).status).toBe(400);

  const logout = await b.flow.handle(get('/auth/logout', session, { method: 'POST', 'sec-fetch-site': 'same-origin' }));
  expect(logout.kind).not.toBe('continue');
  const after = await a.flow.handle(get('/home', session));
  expect((after as { auth: { isAuthenticated: boolean } }).auth.isAuthenticated).toBe(false);
});
