/**
 * What the shortcuts of a warm signed-in request must not change: the memory store's LRU order,
 * the Secure/loopback answer per Host (cached), and a session store read on every request.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { createProdoAuth, memorySessionStore, type LoginFlow, type ProdoAuthOptions } from '../../src/adapter.js';
import { authorizationCodeGrant, memoryStore } from '../../src/index.js';
import { startAuthServer } from './harness.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

const SECRET = 'the warm-request session secret, 32+ chars';

describe('memorySessionStore read shortcut', () => {
  it('a read of an entry far from the newest still moves it: the least recently used is evicted, not it', async () => {
    const store = memorySessionStore({ maxEntries: 100 });
    for (let i = 0; i < 100; i++) await store.set(`k${i}`, { i }, 60_000);
    // k0 has 99 newer entries: it must be moved to the newest end by this read.
    expect(await store.get('k0')).toEqual({ i: 0 });
    await store.set('k100', { i: 100 }, 60_000);
    expect(await store.get('k1')).toBeUndefined();
    expect(await store.get('k0')).toEqual({ i: 0 });
  });

  it('repeated reads of the newest entry keep every entry and the order exact', async () => {
    const store = memorySessionStore({ maxEntries: 2 });
    await store.set('a', { v: 1 }, 60_000);
    await store.set('b', { v: 2 }, 60_000);
    for (let i = 0; i < 3; i++) expect(await store.get('b')).toEqual({ v: 2 });
    await store.get('a');
    await store.set('c', { v: 3 }, 60_000);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toEqual({ v: 1 });
  });
});

function userFlow(authorizeUrl: string, tokenUrl: string, shared: Partial<ProdoAuthOptions> = {}): LoginFlow {
  const redirectUri = 'http://127.0.0.1:9/auth/callback';
  const auth = createProdoAuth({
    grant: authorizationCodeGrant({ authorizeUrl, tokenUrl, clientId: 'web', clientSecret: 'web-secret', redirectUri }),
    redirectUri,
    sessionSecret: SECRET,
    retry: { retries: 0 },
    ...shared,
  });
  if (auth.mode !== 'user') throw new Error('expected user mode');
  open.push(auth);
  return auth.flow;
}

describe('cookie scope per Host', () => {
  it('Secure is set for every non-loopback Host and never for a loopback one, past the cache bound, and https still prefixes', async () => {
    const flow = userFlow('http://127.0.0.1:9/authorize', 'http://127.0.0.1:9/token');
    const secureOf = async (host: string, secure = false): Promise<string> => {
      const r = await flow.handle({ method: 'GET', url: '/auth/login', headers: { host }, secure });
      if (r.kind !== 'redirect') throw new Error(`login gave ${r.kind}`);
      return r.cookies[0]!.header;
    };
    for (let i = 0; i < 300; i++) {
      expect(await secureOf(`127.0.0.1:${1000 + i}`)).not.toMatch(/; Secure/);
      expect(await secureOf(`app${i}.example.com`)).toMatch(/; Secure/);
    }
    for (const host of ['127.0.0.1:1000', 'localhost:3000', '[::1]:8080']) expect(await secureOf(host)).not.toMatch(/; Secure/);
    for (const host of ['app0.example.com', '127.0.0.1.example.com', '']) expect(await secureOf(host)).toMatch(/; Secure/);
    // The same Host over https: Secure and the __Host- prefix, whatever was cached for it over http.
    const https = await secureOf('127.0.0.1:1000', true);
    expect(https).toMatch(/^__Host-prodo-auth\.login\./);
    expect(https).toMatch(/; Secure/);
  });
});

describe('a warm session', () => {
  it('sees a logout made through another flow on the same stores at its next request', async () => {
    const as = await startAuthServer();
    open.push(as);
    const shared = { sessionStore: memorySessionStore(), store: memoryStore() };
    const a = userFlow(as.authorizeUrl, as.tokenUrl, shared);
    const b = userFlow(as.authorizeUrl, as.tokenUrl, shared);
    const host = '127.0.0.1:9';
    const start = await a.handle({ method: 'GET', url: '/auth/login', headers: { host } });
    if (start.kind !== 'redirect') throw new Error(`login gave ${start.kind}`);
    const authorized = await request(start.location);
    await authorized.body.dump();
    const back = new URL(String(authorized.headers.location));
    const binding = start.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const done = await a.handle({ method: 'GET', url: back.pathname + back.search, headers: { host, cookie: binding } });
    if (done.kind !== 'redirect') throw new Error(`callback gave ${done.kind}`);
    const cookie = `${done.cookies[0]!.name}=${done.cookies[0]!.value}`;
    const warm = async (flow: LoginFlow): Promise<boolean> => {
      const r = await flow.handle({ method: 'GET', url: '/', headers: { host, cookie } });
      return r.kind === 'continue' && r.auth.isAuthenticated;
    };
    expect([await warm(a), await warm(a), await warm(b)]).toEqual([true, true, true]);
    const out = await b.handle({ method: 'POST', url: '/auth/logout', headers: { host, cookie, 'sec-fetch-site': 'same-origin' } });
    expect(out.kind === 'respond' && out.status).toBe(204);
    expect(await warm(a)).toBe(false);
  });
});
