/** The login flow's rules, one by one, through a bare node:http app and a real authorization server on 127.0.0.1. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createProdoAuth,
  errorResult,
  memorySessionStore,
  type ProdoAuthOptions,
  type SessionStore,
  type UserAuth,
} from '../../src/adapter.js';
import { authorizationCodeGrant, memoryStore, type TokenStore } from '../../src/index.js';
import { Browser, startApp, toPlain, startAuthServer, type App, type TestAuthServer } from './harness.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(open.splice(0).map((c) => c.close()));
});

const SECRET = 'the first session secret, 32+ chars';
const OLD_SECRET = 'an older session secret, 32+ chars';
/** The UserAuth objects `/identity` was called with. */
const seen: UserAuth[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Setup {
  as: TestAuthServer;
  app: App;
  browser(): Browser;
  tokens: Map<string, string>;
}

/** Everything `/whoami` learned, per test: the API's answer for the user's token. */
type GrantExtra = { revocationUrl?: string; issuer?: string; authorizeUrl?: undefined; tokenUrl?: undefined };

async function setUp(extra: Partial<ProdoAuthOptions> = {}, as?: TestAuthServer, grantExtra: GrantExtra = {}): Promise<Setup> {
  as ??= await startAuthServer();
  open.push(as);
  const probe = await startApp({ handle: async () => ({}) } as never, async () => undefined);
  const port = Number(new URL(probe.url).port);
  await probe.close();
  const redirectUri = `http://127.0.0.1:${port}/auth/callback`;
  const auth = createProdoAuth({
    grant: authorizationCodeGrant({ authorizeUrl: as.authorizeUrl, tokenUrl: as.tokenUrl, clientId: 'web', clientSecret: 'web-secret', redirectUri, ...grantExtra }),
    apiUrl: as.apiUrl,
    redirectUri,
    sessionSecret: SECRET,
    retry: { retries: 0 },
    ...extra,
  });
  if (auth.mode !== 'user') throw new Error('expected user mode');
  open.push(auth);
  const tokens = new Map<string, string>();
  const app = await startApp(
    auth.flow,
    async (user: UserAuth, req, res) => {
      if (req.url === '/identity') {
        seen.push(user);
        res.writeHead(200).end();
        return;
      }
      if (req.url === '/whoami') {
        const api = await user.fetch('/api/me').catch((e: unknown) => e as Error);
        if (!('status' in api)) {
          // What an adapter's error handler does.
          const answer = errorResult(api, toPlain(req));
          if (answer.kind === 'respond') res.writeHead(answer.status, answer.headers).end(answer.body);
          return;
        }
        res.writeHead(api.status, { 'content-type': 'application/json' }).end(await api.text());
        return;
      }
      res.writeHead(200).end(user.isAuthenticated ? 'in' : 'out');
    },
    port,
  );
  open.push(app);
  return { as, app, tokens, browser: () => new Browser(new URL(app.url).host) };
}

const bodyOf = (r: { body: string }): { error?: string } => JSON.parse(r.body) as { error?: string };
const JSON_ACCEPT = { accept: 'application/json' };

describe('redirects', () => {
  it('no redirect of the flow may be cached: login, callback and logout all say no-store', async () => {
    // A cached login redirect holds a spent state: the back button would replay it into invalid_state.
    const { app, browser } = await setUp();
    const b = browser();
    const start = await b.send(`${app.url}/auth/login`);
    expect([start.status, start.headers['cache-control']]).toEqual([302, 'no-store']);
    const back = await b.login(app.url);
    expect([back.status, back.headers['cache-control']]).toEqual([302, 'no-store']);
    const out = await b.send(`${app.url}/auth/logout`, { method: 'POST', headers: { 'sec-fetch-site': 'same-origin' } });
    expect([out.status, out.headers['cache-control']]).toEqual([303, 'no-store']);
  });
});

describe('callback state', () => {
  it('a callback without state is a 400 invalid_state and sets no session', async () => {
    const { app, browser } = await setUp();
    const b = browser();
    const r = await b.send(`${app.url}/auth/callback?code=x`, { headers: JSON_ACCEPT });
    expect(r.status).toBe(400);
    expect(bodyOf(r).error).toBe('invalid_state');
    expect(r.setCookies).toEqual([]);
  });

  it('an unknown state is a 400 invalid_state', async () => {
    const { app, browser } = await setUp();
    const r = await browser().send(`${app.url}/auth/callback?code=x&state=${'a'.repeat(43)}`, { headers: JSON_ACCEPT });
    expect(r.status).toBe(400);
    expect(bodyOf(r).error).toBe('invalid_state');
  });

  it('a state works once: replaying the callback is a 400 and the code is not exchanged again', async () => {
    const { app, as, browser } = await setUp();
    const b = browser();
    const start = await b.send(`${app.url}/auth/login`);
    const authorized = await b.send(start.location!);
    const first = await b.send(authorized.location!);
    expect(first.status).toBe(302);
    const again = await b.send(authorized.location!, { headers: JSON_ACCEPT });
    expect(again.status).toBe(400);
    expect(bodyOf(again).error).toBe('invalid_state');
    expect(as.tokenRequests('authorization_code')).toBe(1);
  });

  it('an expired login is a 400 invalid_state', async () => {
    const { app, browser } = await setUp({ loginTimeoutSeconds: 0.05 });
    const b = browser();
    const start = await b.send(`${app.url}/auth/login`);
    const authorized = await b.send(start.location!);
    await sleep(80);
    const r = await b.send(authorized.location!, { headers: JSON_ACCEPT });
    expect(r.status).toBe(400);
    expect(bodyOf(r).error).toBe('invalid_state');
  });

  it('a login started in another browser is refused (login CSRF): 400, no session, no code exchange', async () => {
    const { app, as, browser } = await setUp();
    const attacker = browser();
    const start = await attacker.send(`${app.url}/auth/login`);
    const authorized = await attacker.send(start.location!);
    const victim = browser();
    const r = await victim.send(authorized.location!, { headers: JSON_ACCEPT });
    expect(r.status).toBe(400);
    expect(bodyOf(r).error).toBe('invalid_state');
    expect(r.setCookies.some((c) => c.includes('sid='))).toBe(false);
    expect(as.tokenRequests('authorization_code')).toBe(0);
  });

  it('parallel logins in one fresh browser all succeed (no single transaction cookie)', async () => {
    const { app, browser } = await setUp();
    const b = browser();
    const starts = await Promise.all([1, 2, 3].map((i) => b.send(`${app.url}/auth/login?returnTo=/tab${i}`)));
    const authorized = await Promise.all(starts.map((s) => b.send(s.location!)));
    const backs = await Promise.all(authorized.map((a) => b.send(a.location!)));
    expect(backs.map((r) => [r.status, r.location])).toEqual([
      [302, '/tab1'],
      [302, '/tab2'],
      [302, '/tab3'],
    ]);
    // A later login reuses the browser's binding: no new binding cookie.
    const names = new Set([...b.jar.keys()].filter((k) => k.startsWith('prodo-auth.login.')));
    const next = await b.send(`${app.url}/auth/login`);
    const setNames = next.setCookies.map((c) => c.slice(0, c.indexOf('=')));
    expect(setNames.every((n) => names.has(n))).toBe(true);
  });
});

describe('authorization server errors', () => {
  it('error=access_denied gives a 403 page (escaped) for a browser and JSON for an API client, never a 500', async () => {
    const { app, as, browser } = await setUp();
    as.nextUser = '!denied';
    const b = browser();
    const start = await b.send(`${app.url}/auth/login`);
    const back = await b.send(start.location!);
    const page = await b.send(back.location!);
    expect(page.status).toBe(403);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('&lt;b&gt;The user said no&lt;/b&gt;');
    expect(page.body).not.toContain('<b>');
    const api = await browser().send(`${app.url}/auth/callback?error=access_denied`, { headers: JSON_ACCEPT });
    expect(api.status).toBe(403);
    expect(bodyOf(api).error).toBe('access_denied');
    expect(as.tokenRequests()).toBe(0);
  });

  it('the token endpoint down during the callback: 502 upstream_auth_unavailable, no session, the code sent once', async () => {
    const { app, as, browser } = await setUp({ retry: { retries: 2, minDelayMs: 1, maxDelayMs: 5 } });
    const b = browser();
    const start = await b.send(`${app.url}/auth/login`);
    const authorized = await b.send(start.location!);
    as.down = true;
    const r = await b.send(authorized.location!, { headers: JSON_ACCEPT });
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body)).toMatchObject({ error: 'upstream_auth_unavailable' });
    expect(r.body).not.toMatch(/at-|rt-|web-secret/);
    expect(r.setCookies.some((c) => c.includes('sid='))).toBe(false);
    expect(as.tokenRequests('authorization_code')).toBe(1);
  });
});

describe('sessions', () => {
  it('the session cookie: opaque 256-bit id, signed, HttpOnly, SameSite=Lax, no Secure on http://127.0.0.1', async () => {
    const { app, browser } = await setUp();
    const b = browser();
    const back = await b.login(app.url);
    const line = back.setCookies.find((c) => c.startsWith('prodo-auth.sid='))!;
    expect(line).toMatch(/^prodo-auth\.sid=[\w-]{43}\.[0-9a-z]+\.[0-9a-z]+\.[\w-]{43}; Path=\/; Max-Age=86400; HttpOnly; SameSite=Lax$/);
    expect((await b.send(`${app.url}/`)).body).toBe('in');
  });

  it('a tampered, unsigned or foreign-secret cookie is anonymous, never an error', async () => {
    const { app, browser } = await setUp();
    const b = browser();
    await b.login(app.url);
    const good = b.jar.get('prodo-auth.sid')!;
    const [id, created, seen, sig] = good.split('.');
    const flipped = `${id!.slice(0, -1)}${id!.endsWith('A') ? 'B' : 'A'}.${created}.${seen}.${sig}`;
    for (const value of [flipped, `${id}.${created}.${seen}`, 'garbage', `${id}.${created}.zzzzzz.${sig}`]) {
      b.jar.set('prodo-auth.sid', value);
      const r = await b.send(`${app.url}/`);
      expect([r.status, r.body]).toEqual([200, 'out']);
    }
  });

  it('secrets rotate: a cookie signed with a secret now second in the list still works', async () => {
    const as = await startAuthServer();
    const before = await setUp({ sessionSecret: OLD_SECRET }, as);
    const b = before.browser();
    await b.login(before.app.url);
    const cookie = b.jar.get('prodo-auth.sid')!;
    // The same token and session stores, a new flow that signs with a new secret.
    const store = memoryStore();
    const sessions = memorySessionStore();
    const one = await setUp({ sessionSecret: OLD_SECRET, store, sessionStore: sessions }, as);
    const c = one.browser();
    await c.login(one.app.url);
    const old = c.jar.get('prodo-auth.sid')!;
    const two = await setUp({ sessionSecret: [SECRET, OLD_SECRET], store, sessionStore: sessions }, as);
    const d = two.browser();
    d.jar.set('prodo-auth.sid', old);
    expect((await d.send(`${two.app.url}/`)).body).toBe('in');
    const only = await setUp({ sessionSecret: SECRET, store, sessionStore: sessions }, as);
    const e = only.browser();
    e.jar.set('prodo-auth.sid', old);
    expect((await e.send(`${only.app.url}/`)).body).toBe('out');
    expect(cookie).not.toBe(old);
  });

  it('idle and absolute lifetimes: the idle stamp is re-sent at most once a minute, by Set-Cookie only', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { app, browser } = await setUp({ idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 7200 });
    const b = browser();
    await b.login(app.url);
    const t0 = Date.now();
    const soon = await b.send(`${app.url}/`);
    expect([soon.body, soon.setCookies]).toEqual(['in', []]);
    vi.setSystemTime(t0 + 61_000);
    const later = await b.send(`${app.url}/`);
    expect(later.body).toBe('in');
    expect(later.setCookies).toHaveLength(1);
    expect(later.setCookies[0]).toMatch(/^prodo-auth\.sid=/);
    const stamped = b.jar.get('prodo-auth.sid')!;
    // Idle: more than an hour after the last stamp.
    vi.setSystemTime(t0 + 61_000 + 3_601_000);
    expect((await b.send(`${app.url}/`)).body).toBe('out');
    // Absolute: used every 50 minutes, still ends two hours after sign-in.
    b.jar.set('prodo-auth.sid', stamped);
    vi.setSystemTime(t0 + 50 * 60_000);
    expect((await b.send(`${app.url}/`)).body).toBe('in');
    vi.setSystemTime(t0 + 100 * 60_000);
    expect((await b.send(`${app.url}/`)).body).toBe('in');
    vi.setSystemTime(t0 + 121 * 60_000);
    expect((await b.send(`${app.url}/`)).body).toBe('out');
  });

  it('an ordinary request never writes the session store or the token store', async () => {
    const writes: string[] = [];
    const base = memorySessionStore();
    const sessionStore: SessionStore = {
      get: (k) => base.get(k),
      set: (k, v, t) => (writes.push(`session set ${k.split(':')[1]}`), base.set(k, v, t)),
      take: (k) => (writes.push('session take'), base.take(k)),
      delete: (k) => (writes.push('session delete'), base.delete(k)),
    };
    const tokens = memoryStore();
    const store: TokenStore = {
      get: (k) => tokens.get(k),
      set: (k, v, t) => (writes.push('token set'), tokens.set(k, v, t)),
      delete: (k) => (writes.push('token delete'), tokens.delete(k)),
      withLock: (k, t, fn) => tokens.withLock!(k, t, fn),
    };
    const { app, browser } = await setUp({ sessionStore, store });
    const b = browser();
    await b.login(app.url);
    writes.length = 0;
    for (let i = 0; i < 20; i++) {
      expect((await b.send(`${app.url}/whoami`, { headers: JSON_ACCEPT })).status).toBe(200);
    }
    expect(writes).toEqual([]);
  });

  it('session fixation: sign-in always issues a new session id and ends the one the browser had', async () => {
    const { app, browser } = await setUp();
    const b = browser();
    await b.login(app.url);
    const first = b.jar.get('prodo-auth.sid')!;
    await b.login(app.url);
    const second = b.jar.get('prodo-auth.sid')!;
    expect(second.split('.')[0]).not.toBe(first.split('.')[0]);
    const old = browser();
    old.jar.set('prodo-auth.sid', first);
    expect((await old.send(`${app.url}/`)).body).toBe('out');
  });
});

describe('logout', () => {
  it('refuses cross-site requests (Origin, Sec-Fetch-Site, neither), and the session stays', async () => {
    const { app, browser } = await setUp();
    const b = browser();
    await b.login(app.url);
    for (const headers of [{ origin: 'https://evil.example' } as Record<string, string>, { 'sec-fetch-site': 'cross-site', origin: app.url }, {}]) {
      const r = await b.send(`${app.url}/auth/logout`, { method: 'POST', headers: { ...JSON_ACCEPT, ...headers } });
      expect(r.status).toBe(403);
      expect(bodyOf(r).error).toBe('cross_site_request');
    }
    expect((await b.send(`${app.url}/`)).body).toBe('in');
    const ok = await b.send(`${app.url}/auth/logout`, { method: 'POST', headers: { ...JSON_ACCEPT, 'sec-fetch-site': 'same-origin' } });
    expect(ok.status).toBe(204);
  });

  it('deletes the session and its tokens: a copy of the cookie is anonymous afterwards', async () => {
    const store = memoryStore();
    const { app, browser } = await setUp({ store });
    const b = browser();
    await b.login(app.url);
    const copy = b.jar.get('prodo-auth.sid')!;
    await b.send(`${app.url}/auth/logout`, { method: 'POST', headers: { origin: app.url } });
    const thief = browser();
    thief.jar.set('prodo-auth.sid', copy);
    expect((await thief.send(`${app.url}/`)).body).toBe('out');
    const [id] = copy.split('.');
    const { createHash } = await import('node:crypto');
    expect(await store.get(`prodo-auth:user:${createHash('sha256').update(id!).digest('base64url')}`)).toBeUndefined();
  });

  it('revokes the refresh token at the revocation endpoint (RFC 7009) with the client authentication', async () => {
    const as = await startAuthServer();
    const { app, browser } = await setUp({}, as, { revocationUrl: as.revocationUrl });
    const b = browser();
    await b.login(app.url);
    const out = await b.send(`${app.url}/auth/logout`, { method: 'POST', headers: { ...JSON_ACCEPT, origin: app.url } });
    expect(out.status).toBe(204);
    // `known`: what was sent was the session's live refresh token, which the server then dropped.
    expect(as.revocations()).toEqual([{ hint: 'refresh_token', authenticated: true, known: true }]);
    expect((await b.send(`${app.url}/`)).body).toBe('out');
  });

  it('a revocation endpoint that fails does not fail the sign-out: 204, the session and its tokens gone', async () => {
    const as = await startAuthServer();
    const store = memoryStore();
    const { app, browser } = await setUp({ store }, as, { revocationUrl: as.revocationUrl });
    as.revocationDown = true;
    const b = browser();
    await b.login(app.url);
    const copy = b.jar.get('prodo-auth.sid')!;
    const out = await b.send(`${app.url}/auth/logout`, { method: 'POST', headers: { ...JSON_ACCEPT, origin: app.url } });
    expect(out.status).toBe(204);
    expect(out.setCookies.some((c) => /^prodo-auth\.sid=;/.test(c))).toBe(true);
    expect(as.revocations()).toHaveLength(1);
    const thief = browser();
    thief.jar.set('prodo-auth.sid', copy);
    expect((await thief.send(`${app.url}/`)).body).toBe('out');
    const { createHash } = await import('node:crypto');
    expect(await store.get(`prodo-auth:user:${createHash('sha256').update(copy.split('.')[0]!).digest('base64url')}`)).toBeUndefined();
  });

  it('without a revocation endpoint, sign-out sends no revocation request', async () => {
    const as = await startAuthServer();
    const { app, browser } = await setUp({}, as);
    const b = browser();
    await b.login(app.url);
    const out = await b.send(`${app.url}/auth/logout`, { method: 'POST', headers: { ...JSON_ACCEPT, origin: app.url } });
    expect(out.status).toBe(204);
    expect(as.revocations()).toEqual([]);
  });

  it('with only an issuer, the flow discovers the authorization, token and revocation endpoints, once', async () => {
    const as = await startAuthServer();
    const { app, browser } = await setUp({}, as, { issuer: as.url, authorizeUrl: undefined, tokenUrl: undefined });
    const b = browser();
    const back = await b.login(app.url);
    expect(back.status).toBe(302);
    expect(JSON.parse((await b.send(`${app.url}/whoami`)).body)).toEqual({ user: 'alice' });
    await browser().login(app.url);
    const out = await b.send(`${app.url}/auth/logout`, { method: 'POST', headers: { ...JSON_ACCEPT, origin: app.url } });
    expect(out.status).toBe(204);
    expect(as.revocations()).toEqual([{ hint: 'refresh_token', authenticated: true, known: true }]);
    expect(as.discoveries()).toBe(1);
  });

  it('GET on the logout route is a 405, not a logout', async () => {
    const { app, browser } = await setUp();
    const b = browser();
    await b.login(app.url);
    const r = await b.send(`${app.url}/auth/logout`, { headers: JSON_ACCEPT });
    expect(r.status).toBe(405);
    expect((await b.send(`${app.url}/`)).body).toBe('in');
  });
});

describe('tokens per session', () => {
  it('the token endpoint down at refresh: a still-valid token keeps working', async () => {
    const { app, as, browser } = await setUp();
    as.expiresIn = 4; // the refresh window opens after 2 s, leaving 2 s for a slow machine
    const b = browser();
    await b.login(app.url);
    as.down = true;
    await sleep(2100);
    for (let i = 0; i < 3; i++) {
      const r = await b.send(`${app.url}/whoami`, { headers: JSON_ACCEPT });
      expect([r.status, JSON.parse(r.body).user]).toEqual([200, 'alice']);
    }
    expect(as.tokenRequests('refresh_token')).toBeGreaterThanOrEqual(1);
  });

  it('the token endpoint down at refresh of an expired token: 502 upstream_auth_unavailable, nothing leaked', async () => {
    const { app, as, browser } = await setUp({ refreshSkewSeconds: 0 });
    as.expiresIn = 1;
    const b = browser();
    await b.login(app.url);
    as.down = true;
    await sleep(1100);
    const r = await b.send(`${app.url}/whoami`, { headers: JSON_ACCEPT });
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body)).toMatchObject({ error: 'upstream_auth_unavailable' });
    expect(r.body).not.toMatch(/at-|rt-|web-secret/);
  });

  it('200 concurrent requests of one user at expiry make exactly 1 token request', async () => {
    const { app, as, browser } = await setUp({ refreshSkewSeconds: 0 });
    as.expiresIn = 1;
    const b = browser();
    await b.login(app.url);
    await sleep(1100);
    // The refreshed token outlives the burst, however slowly a loaded machine serves 200 requests.
    as.expiresIn = 3600;
    const before = as.tokenRequests();
    const replies = await Promise.all(Array.from({ length: 200 }, () => b.send(`${app.url}/whoami`, { headers: JSON_ACCEPT })));
    expect(replies.every((r) => r.status === 200 && JSON.parse(r.body).user === 'alice')).toBe(true);
    expect(as.tokenRequests() - before).toBe(1);
  });

  it('50 users at expiry make 50 token requests, and each gets only their own token', async () => {
    const { app, as, browser } = await setUp({ refreshSkewSeconds: 0 });
    as.expiresIn = 1;
    const users = Array.from({ length: 50 }, (_, i) => `user${i}`);
    const browsers: Browser[] = [];
    for (const user of users) {
      as.nextUser = user;
      const b = browser();
      await b.login(app.url);
      browsers.push(b);
    }
    await sleep(1100);
    as.expiresIn = 3600;
    const before = as.tokenRequests();
    const replies = await Promise.all(browsers.flatMap((b) => [1, 2].map(() => b.send(`${app.url}/whoami`, { headers: JSON_ACCEPT }))));
    expect(replies.map((r) => JSON.parse(r.body).user)).toEqual(users.flatMap((u) => [u, u]));
    expect(as.tokenRequests() - before).toBe(50);
  });

  it('a warm request reuses its session\'s one UserAuth (and token client) instead of building one per request', async () => {
    const { app, browser } = await setUp();
    const a = browser();
    const b = browser();
    await a.login(app.url);
    await b.login(app.url);
    seen.length = 0;
    for (const x of [a, a, a, b, b]) await x.send(`${app.url}/identity`);
    expect(new Set(seen.slice(0, 3)).size).toBe(1);
    expect(seen[3]).toBe(seen[4]);
    expect(seen[0]).not.toBe(seen[3]);
  });

  it('a sign-in whose token client is evicted mid-exchange still succeeds', async () => {
    // Evicting a live client used to close it, failing the code exchange still running on it.
    const { app, browser } = await setUp({ maxLiveSessions: 1 });
    const callbacks: Array<{ b: Browser; url: string }> = [];
    for (let i = 0; i < 4; i++) {
      const b = browser();
      const start = await b.send(`${app.url}/auth/login`);
      const authorized = await b.send(start.location!);
      callbacks.push({ b, url: authorized.location! });
    }
    const replies = await Promise.all(callbacks.map(({ b, url }) => b.send(url)));
    expect(replies.map((r) => r.status)).toEqual([302, 302, 302, 302]);
    for (const { b } of callbacks) expect((await b.send(`${app.url}/whoami`, { headers: JSON_ACCEPT })).status).toBe(200);
  });

  it('sessions beyond maxLiveSessions lose their client, not their tokens', async () => {
    const { app, as, browser } = await setUp({ maxLiveSessions: 2 });
    const browsers: Browser[] = [];
    for (const user of ['a', 'b', 'c']) {
      as.nextUser = user;
      const b = browser();
      await b.login(app.url);
      browsers.push(b);
    }
    const before = as.tokenRequests();
    for (const [i, b] of browsers.entries()) {
      expect(JSON.parse((await b.send(`${app.url}/whoami`, { headers: JSON_ACCEPT })).body).user).toBe(['a', 'b', 'c'][i]);
    }
    expect(as.tokenRequests()).toBe(before);
  });
});

describe('requireLogin', () => {
  it('sends a browser to the login with returnTo, and answers an API call 401 login_required', async () => {
    const { app, browser } = await setUp();
    const page = await browser().send(`${app.url}/private/x?y=1`);
    expect([page.status, page.location]).toEqual([302, '/auth/login?returnTo=%2Fprivate%2Fx%3Fy%3D1']);
    expect(page.headers['cache-control']).toBe('no-store');
    const api = await browser().send(`${app.url}/private/x`, { headers: JSON_ACCEPT });
    expect(api.status).toBe(401);
    expect(JSON.parse(api.body)).toMatchObject({ error: 'login_required' });
  });

  it('anonymous getAccessToken and fetch reject with REAUTHENTICATION_REQUIRED', async () => {
    const { app, browser } = await setUp();
    const r = await browser().send(`${app.url}/whoami`, { headers: JSON_ACCEPT });
    expect(r.status).toBe(401);
    expect(bodyOf(r).error).toBe('login_required');
  });
});
