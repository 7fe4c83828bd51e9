/**
 * The behaviour every prodo-auth framework adapter must show, with the framework as a parameter:
 * `adapterSuite({ name, create, start })` registers vitest tests that drive a real app over real
 * HTTP on 127.0.0.1, against the mock server's Procurios simulator (its authorize page included)
 * and, for the refresh rules, a standard authorization server that rotates refresh tokens.
 *
 * The adapter's test builds the app described by {@link AppSpec} in its framework; the suite
 * never sees the framework. Run by @prodo-auth/express (Express 4 and 5), later by koa and nestjs.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startMockServer, type MockServer } from '@prodo-auth/mock-server';
import { authorizationCodeGrant, ErrorCode, procurios } from '@prodo-auth/core';
import type { ProdoAuthOptions } from '@prodo-auth/core/adapter';
import { startAuthServer, type TestAuthServer } from './auth-server.js';
import { Browser, type Reply } from './browser.js';

export { Browser, httpRequest, type Reply, type SendInit } from './browser.js';
export { startAuthServer, type TestAuthServer } from './auth-server.js';
export { demoSuite, type DemoUnderTest, type StartDemo } from './demo-suite.js';

/**
 * The app an adapter's test builds for the suite, in its framework, listening on
 * `127.0.0.1:{port}`:
 * - the adapter's `prodoAuth(options)` in front of every route;
 * - `GET /api`: `const r = await <auth>.fetch(apiPath)`, answered with `r.status` and `r.text()`
 *   as `application/json`; a rejection goes to the adapter's error handling;
 * - `GET /private/api`: the same behind the adapter's `requireLogin()`;
 * - `GET /state`: 200 JSON `{ "authenticated": <auth>.isAuthenticated }` (`null` in service mode);
 * - an error the adapter does not answer: 500 JSON `{ "error": "app_error" }` (so "never a 500" can fail).
 */
export interface AppSpec {
  readonly options: ProdoAuthOptions;
  readonly port: number;
  readonly apiPath: string;
}

export interface RunningApp {
  readonly url: string;
  close(): Promise<void>;
}

export interface AdapterUnderTest {
  /** Shown in every test name, for example `express 5.3.0`. */
  readonly name: string;
  /** Calls the adapter's `prodoAuth(options)` and nothing else (the construction-time checks). */
  create(options?: ProdoAuthOptions): unknown;
  start(app: AppSpec): Promise<RunningApp>;
}

const SECRET = 'the adapter suite session secret, 32+ characters';
// Joined onto the simulator's apiUrl (origin + /l/module_api), as a relative path always is.
const PROCURIOS_API = '/object';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const bodyOf = (r: Reply): Record<string, unknown> => JSON.parse(r.body) as Record<string, unknown>;
const hasSession = (r: Reply): boolean => r.setCookies.some((c) => /^(__Host-)?prodo-auth\.sid=[^;]/.test(c));

/** A free loopback port: the redirect URI names the app's port before the app exists. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export function adapterSuite(adapter: AdapterUnderTest): void {
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all(open.splice(0).map((c) => c.close()));
  });

  async function procuriosServer(options: { requireConsent?: boolean } = {}): Promise<MockServer<'procurios'>> {
    const mock = (await startMockServer({ vendor: 'procurios', ...options })) as MockServer<'procurios'>;
    open.push(mock);
    return mock;
  }

  async function run(options: ProdoAuthOptions, port: number, apiPath: string): Promise<{ url: string; browser(): Browser }> {
    const app = await adapter.start({ options, port, apiPath });
    open.push(app);
    return { url: app.url, browser: () => new Browser(app.url) };
  }

  /** User mode against the Procurios simulator and its authorize page. */
  async function userApp(extra: Partial<ProdoAuthOptions> = {}, requireConsent = false) {
    const mock = await procuriosServer({ requireConsent });
    const port = await freePort();
    const redirectUri = `http://127.0.0.1:${port}/auth/callback`;
    const { clientId, clientSecret, scope } = mock.credentials;
    const options: ProdoAuthOptions = {
      ...procurios.authorizationCode({ authorizeUrl: mock.authorizeUrl!, tokenUrl: mock.tokenUrl, clientId, clientSecret, redirectUri, scope, apiUrl: mock.apiUrl }),
      redirectUri,
      sessionSecret: SECRET,
      ...extra,
    };
    return { mock, ...(await run(options, port, PROCURIOS_API)) };
  }

  /** User mode against the refresh-rotating server, access tokens expiring after `expiresIn` seconds. */
  async function refreshingApp(expiresIn: number) {
    const as: TestAuthServer = await startAuthServer();
    open.push(as);
    as.expiresIn = expiresIn;
    const port = await freePort();
    const redirectUri = `http://127.0.0.1:${port}/auth/callback`;
    const options: ProdoAuthOptions = {
      grant: authorizationCodeGrant({ authorizeUrl: as.authorizeUrl, tokenUrl: as.tokenUrl, clientId: 'web', clientSecret: 'web-secret-value', redirectUri }),
      apiUrl: as.apiUrl,
      redirectUri,
      sessionSecret: SECRET,
      refreshSkewSeconds: 0,
      retry: { retries: 0 },
    };
    return { as, ...(await run(options, port, '/api/me')) };
  }

  describe(`${adapter.name}: configuration`, () => {
    it('a bad config throws one ConfigError when prodoAuth() is called, naming the setting', () => {
      const options = { ...procurios.authorizationCode({ authorizeUrl: 'https://auth.example.com/a', tokenUrl: 'https://auth.example.com/t', clientId: 'c', clientSecret: 'a-client-secret-value', redirectUri: 'https://app.example.com/auth/callback' }), redirectUri: 'https://app.example.com/auth/callback' };
      const error = (() => {
        try {
          adapter.create(options as ProdoAuthOptions);
        } catch (e) {
          return e as { code?: string; issues?: Array<{ path: string }>; message: string };
        }
        return undefined;
      })();
      expect(error?.code).toBe(ErrorCode.CONFIG);
      expect(error?.issues?.map((i) => i.path)).toContain('sessionSecret');
      expect(error?.message).not.toContain('a-client-secret-value');
    });

    it('no options reads PRODO_AUTH_* (configFromEnv): a missing variable is a ConfigError at prodoAuth()', () => {
      vi.stubEnv('PRODO_AUTH_GRANT', 'client_credentials');
      vi.stubEnv('PRODO_AUTH_TOKEN_URL', '');
      vi.stubEnv('PRODO_AUTH_PRESET', '');
      expect(() => adapter.create()).toThrow(expect.objectContaining({ code: ErrorCode.CONFIG, message: expect.stringContaining('PRODO_AUTH_') }));
    });
  });

  describe(`${adapter.name}: service mode`, () => {
    async function serviceApp(extra: Partial<ProdoAuthOptions> = {}) {
      const mock = await procuriosServer();
      const { clientId, clientSecret, scope } = mock.credentials;
      const options = { ...procurios.clientCredentials({ tokenUrl: mock.tokenUrl, clientId, clientSecret, scope, apiUrl: mock.apiUrl }), ...extra };
      return { mock, ...(await run(options, await freePort(), PROCURIOS_API)) };
    }

    it('req.prodoAuth.fetch adds the token, and one token request serves many app requests', async () => {
      const { mock, browser } = await serviceApp();
      const b = browser();
      const replies: Reply[] = [];
      for (let i = 0; i < 5; i++) replies.push(await b.api('/api'));
      replies.push(...(await Promise.all(Array.from({ length: 20 }, () => b.api('/api')))));
      expect(replies.map((r) => r.status)).toEqual(Array(25).fill(200));
      expect((bodyOf(replies[0]!).data as { client_id?: string }).client_id).toBe(mock.credentials.clientId);
      expect(mock.stats.tokenRequests).toBe(1);
      expect([mock.stats.apiRequests, mock.stats.apiRejections]).toEqual([25, 0]);
      expect(bodyOf(await b.api('/state'))).toEqual({ authenticated: null });
    });

    it('the token endpoint down: 502 upstream_auth_unavailable, no secret in the answer', async () => {
      const { mock, browser } = await serviceApp({ retry: { retries: 0 } });
      mock.faults.set({ failTokenRequests: 100 });
      const r = await browser().api('/api');
      expect(r.status).toBe(502);
      expect(bodyOf(r).error).toBe('upstream_auth_unavailable');
      expect(r.body).not.toContain(mock.credentials.clientSecret);
    });
  });

  describe(`${adapter.name}: user mode`, () => {
    for (const requireConsent of [false, true]) {
      it(`sign-in with state and PKCE S256, a session cookie, the profile calls the API as the user${requireConsent ? ' (consent form)' : ''}`, async () => {
        const { mock, url, browser } = await userApp({}, requireConsent);
        const b = browser();
        const start = await b.send('/auth/login?returnTo=%2Fprivate%2Fapi%3Ftab%3D1');
        expect(start.status).toBe(302);
        // The redirect holds a single-use state: a cached one replayed by the back button fails the sign-in.
        expect(start.cacheControl).toBe('no-store');
        const authorize = new URL(start.location!);
        expect(authorize.origin + authorize.pathname).toBe(mock.authorizeUrl);
        expect(authorize.searchParams.get('state')).toMatch(/^[\w-]{43}$/);
        expect(authorize.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
        expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
        expect(authorize.searchParams.get('redirect_uri')).toBe(`${url}/auth/callback`);

        const back = await b.login('?returnTo=%2Fprivate%2Fapi%3Ftab%3D1');
        expect([back.status, back.location, back.cacheControl]).toEqual([302, '/private/api?tab=1', 'no-store']);
        const cookie = back.setCookies.find((c) => c.startsWith('prodo-auth.sid='));
        expect(cookie).toMatch(/; HttpOnly/);
        expect(cookie).toMatch(/; SameSite=Lax/);
        expect(cookie).not.toMatch(/Secure/); // plain http to 127.0.0.1 only

        const profile = await b.api('/private/api?tab=1');
        expect(profile.status).toBe(200);
        expect((bodyOf(profile).data as { subject?: string }).subject).toBe(mock.credentials.username);
        expect(bodyOf(await b.api('/state'))).toEqual({ authenticated: true });
        expect(mock.stats.byGrant.authorization_code).toBe(1);
      });
    }

    it('a callback with a missing, unknown or reused state is a 400 invalid_state and sets no session', async () => {
      const { mock, browser } = await userApp();
      const b = browser();
      const missing = await b.api('/auth/callback?code=abc');
      const unknown = await b.api('/auth/callback?code=abc&state=an-unknown-state-value');
      for (const r of [missing, unknown]) {
        expect([r.status, bodyOf(r).error, hasSession(r)]).toEqual([400, 'invalid_state', false]);
      }
      const start = await b.send('/auth/login');
      const authorized = await b.send(start.location!);
      const first = await b.send(authorized.location!);
      expect([first.status, hasSession(first)]).toEqual([302, true]);
      const replay = await b.api(authorized.location!);
      expect([replay.status, bodyOf(replay).error, hasSession(replay)]).toEqual([400, 'invalid_state', false]);
      expect(mock.stats.byGrant.authorization_code).toBe(1);
    });

    it('error=access_denied from the authorization server: a 403 page or JSON, never a 500, and no session', async () => {
      const { mock, browser } = await userApp({}, true);
      const b = browser();
      const page = await b.login('', 'deny');
      expect(page.status).toBe(403);
      expect(page.contentType).toMatch(/text\/html/);
      expect(page.body).toContain('access_denied');
      expect(hasSession(page)).toBe(false);
      const start = await b.send('/auth/login');
      const state = new URL(start.location!).searchParams.get('state')!;
      const api = await b.api(`/auth/callback?error=access_denied&state=${state}`);
      expect([api.status, bodyOf(api).error]).toEqual([403, 'access_denied']);
      expect(mock.stats.byGrant.authorization_code).toBe(0);
    });

    it('parallel logins in one browser both succeed (one login transaction per state)', async () => {
      const { browser } = await userApp();
      const b = browser();
      const starts = [await b.send('/auth/login?returnTo=/one'), await b.send('/auth/login?returnTo=/two')];
      const authorized = await Promise.all(starts.map((s) => b.send(s.location!)));
      const backs = [];
      for (const a of authorized) backs.push(await b.send(a.location!));
      expect(backs.map((r) => [r.status, r.location])).toEqual([[302, '/one'], [302, '/two']]);
    });

    it('requireLogin: a browser is sent to the login with returnTo, an API call gets 401 login_required', async () => {
      const { browser } = await userApp();
      const page = await browser().send('/private/api?x=1');
      expect([page.status, page.location]).toEqual([302, '/auth/login?returnTo=%2Fprivate%2Fapi%3Fx%3D1']);
      const api = await browser().api('/private/api');
      expect([api.status, bodyOf(api).error]).toEqual([401, 'login_required']);
      // Anonymous on an open route: the fetch rejects, the adapter answers 401, never a 500.
      const open = await browser().api('/api');
      expect([open.status, bodyOf(open).error]).toEqual([401, 'login_required']);
    });

    it('logout refuses a cross-site request and keeps the session; a same-site one ends it for every copy of the cookie', async () => {
      const { url, browser } = await userApp();
      const b = browser();
      await b.login();
      const copy = new Browser(url);
      for (const [k, v] of b.jar) copy.jar.set(k, v);
      const crossSite: Array<Record<string, string>> = [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site', origin: url }, {}];
      for (const headers of crossSite) {
        const refused = await b.api('/auth/logout', { method: 'POST', headers });
        expect([refused.status, bodyOf(refused).error]).toEqual([403, 'cross_site_request']);
      }
      expect((await b.api('/private/api')).status).toBe(200);
      const out = await b.send('/auth/logout', { method: 'POST', headers: { origin: url } });
      expect([out.status, out.location]).toEqual([303, '/']);
      expect(out.setCookies.some((c) => /^prodo-auth\.sid=;.*Max-Age=0/.test(c))).toBe(true);
      expect(b.jar.has('prodo-auth.sid')).toBe(false);
      const stale = await copy.api('/private/api');
      expect([stale.status, bodyOf(stale).error]).toEqual([401, 'login_required']);
    });

    it('a hostile returnTo falls back to /', async () => {
      const { browser } = await userApp();
      const hostile = ['//evil.example', '/\\evil.example', 'https://evil.example/', '/%2F%2Fevil.example', '%2F%2Fevil.example', 'javascript:alert(1)', '/\tx/evil'];
      for (const returnTo of hostile) {
        const back = await browser().login(`?returnTo=${encodeURIComponent(returnTo)}`);
        expect([returnTo, back.status, back.location]).toEqual([returnTo, 302, '/']);
      }
    });

    it('the token endpoint down at the callback: 502 upstream_auth_unavailable, no session, nothing leaked', async () => {
      const { mock, browser } = await userApp({ retry: { retries: 0 } });
      const b = browser();
      const start = await b.send('/auth/login');
      const authorized = await b.send(start.location!);
      mock.faults.set({ failTokenRequests: 100 });
      const r = await b.api(authorized.location!);
      expect([r.status, bodyOf(r).error, hasSession(r)]).toEqual([502, 'upstream_auth_unavailable', false]);
      expect(r.body).not.toContain(mock.credentials.clientSecret);
    });
  });

  describe(`${adapter.name}: user mode, tokens per session`, () => {
    it('the token endpoint down at refresh of an expired token: 502 upstream_auth_unavailable, nothing leaked', async () => {
      const { as, browser } = await refreshingApp(1);
      const b = browser();
      await b.login();
      expect(bodyOf(await b.api('/api'))).toEqual({ user: 'alice' });
      as.down = true;
      await sleep(1100);
      const r = await b.api('/api');
      expect([r.status, bodyOf(r).error]).toEqual([502, 'upstream_auth_unavailable']);
      expect(r.body).not.toMatch(/at-|rt-|web-secret-value/);
    });

    it('200 concurrent requests of one signed-in user at expiry make exactly 1 token request', async () => {
      const { as, browser } = await refreshingApp(1);
      const b = browser();
      await b.login();
      await sleep(1100);
      // The refreshed token outlives the burst, however slowly a loaded machine serves it.
      as.expiresIn = 3600;
      const before = as.tokenRequests();
      const replies = await Promise.all(Array.from({ length: 200 }, () => b.api('/api')));
      expect(replies.filter((r) => r.status !== 200 || bodyOf(r).user !== 'alice')).toEqual([]);
      expect(as.tokenRequests() - before).toBe(1);
    });

    it('50 users at expiry make 50 token requests, and each gets only their own token', async () => {
      const { as, browser } = await refreshingApp(2);
      const users = Array.from({ length: 50 }, (_, i) => `user${i}`);
      const browsers: Browser[] = [];
      for (const user of users) {
        as.nextUser = user;
        const b = browser();
        await b.login();
        browsers.push(b);
      }
      await sleep(2100);
      as.expiresIn = 3600;
      const before = as.tokenRequests();
      const replies = await Promise.all(browsers.flatMap((b) => [b.api('/api'), b.api('/api')]));
      expect(replies.map((r) => bodyOf(r).user)).toEqual(users.flatMap((u) => [u, u]));
      expect(as.tokenRequests() - before).toBe(50);
    });
  });
}
