/**
 * What the shared adapter suite cannot see because it is Koa's own: how the answers are written
 * (Set-Cookie appended, a redirect's status and empty body), `ctx.secure` behind `app.proxy`, the
 * one service-mode object, and which errors go on to the app. Koa 2 and 3, real HTTP on 127.0.0.1.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import Koa3 from 'koa';
import Koa2 from 'koa-2';
import { ErrorCode, procurios } from '@prodo-auth/core';
import type { ProdoAuthOptions } from '@prodo-auth/core/adapter';
import { startMockServer, type MockServer } from '@prodo-auth/mock-server';
import { httpRequest } from '@prodo-auth/adapter-suite';
import { prodoAuth, requireLogin, type StateAuth } from '../src/index.js';

const SECRET = 'the koa glue tests session secret, 32+ characters';
const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

async function procuriosServer(): Promise<MockServer<'procurios'>> {
  const mock = (await startMockServer({ vendor: 'procurios' })) as MockServer<'procurios'>;
  open.push(mock);
  return mock;
}

/** Serves `app` on 127.0.0.1 until the test ends. */
async function listen(app: Koa3, close: () => Promise<void>): Promise<string> {
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await close();
    },
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The codes of the errors that reached the app's own error middleware, upstream of prodoAuth(). */
function withAppErrorHandler(app: Koa3): Array<string | undefined> {
  const seen: Array<string | undefined> = [];
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      seen.push((error as { code?: string }).code ?? 'no code');
      ctx.status = 500;
      ctx.body = { error: 'app_error' };
    }
  });
  return seen;
}

async function userOptions(): Promise<ProdoAuthOptions> {
  const mock = await procuriosServer();
  // The redirect URI's port does not matter here: no test reaches the callback.
  const redirectUri = 'http://127.0.0.1:9/auth/callback';
  const { clientId, clientSecret, scope } = mock.credentials;
  return {
    ...procurios.authorizationCode({ authorizeUrl: mock.authorizeUrl!, tokenUrl: mock.tokenUrl, clientId, clientSecret, redirectUri, scope, apiUrl: mock.apiUrl }),
    redirectUri,
    sessionSecret: SECRET,
  };
}

async function serviceOptions(): Promise<ProdoAuthOptions> {
  const mock = await procuriosServer();
  const { clientId, clientSecret, scope } = mock.credentials;
  return procurios.clientCredentials({ tokenUrl: mock.tokenUrl, clientId, clientSecret, scope, apiUrl: mock.apiUrl });
}

const frameworks = [
  ['koa 2', Koa2],
  ['koa 3', Koa3],
] as const;

for (const [name, Koa] of frameworks) {
  describe(`${name}: writing the flow's answers`, () => {
    it("keeps the app's own Set-Cookie beside the login's cookies (appended, never overwritten)", async () => {
      const app = new Koa();
      app.use(async (ctx, next) => {
        ctx.cookies.set('theme', 'dark', { httpOnly: false });
        await next();
      });
      const middleware = prodoAuth(await userOptions());
      app.use(middleware);
      const url = await listen(app, () => middleware.close());
      const r = await httpRequest(`${url}/auth/login`, { headers: { accept: 'text/html' } });
      expect(r.status).toBe(302);
      expect(r.setCookies.map((c) => c.split('=')[0])).toEqual(['theme', expect.stringMatching(/^prodo-auth\.login\./)]);
    });

    it("a redirect is the flow's status and Location with an empty body, not Koa's 204 for a null body", async () => {
      const app = new Koa();
      const middleware = prodoAuth(await userOptions());
      app.use(middleware);
      const url = await listen(app, () => middleware.close());
      const r = await httpRequest(`${url}/auth/login?returnTo=/x`, { headers: { accept: 'application/json' } });
      expect([r.status, r.body, new URL(r.location!).searchParams.get('code_challenge_method')]).toEqual([302, '', 'S256']);
      const page = await httpRequest(`${url}/auth/logout`, { method: 'POST', headers: { origin: url, accept: 'text/html' } });
      expect([page.status, page.location, page.body]).toEqual([303, '/', '']);
      const api = await httpRequest(`${url}/auth/logout`, { method: 'POST', headers: { origin: url, accept: 'application/json' } });
      expect([api.status, api.body, api.setCookies.length]).toEqual([204, '', 1]);
    });

    it('X-Forwarded-Proto: https counts only with app.proxy (ctx.secure): then the cookies are Secure and __Host-', async () => {
      const options = await userOptions();
      const cookieOf = async (proxy: boolean): Promise<string> => {
        const app = new Koa();
        app.proxy = proxy;
        const middleware = prodoAuth(options);
        app.use(middleware);
        const url = await listen(app, () => middleware.close());
        const r = await httpRequest(`${url}/auth/login`, { headers: { 'x-forwarded-proto': 'https' } });
        expect(r.status).toBe(302);
        return r.setCookies[0] ?? '';
      };
      const trusted = await cookieOf(true);
      expect(trusted).toMatch(/^__Host-prodo-auth\.login\./);
      expect(trusted).toMatch(/; Secure/);
      const untrusted = await cookieOf(false);
      expect(untrusted).toMatch(/^prodo-auth\.login\./);
      expect(untrusted).not.toMatch(/Secure/);
    });
  });

  describe(`${name}: ctx.state.prodoAuth and errors`, () => {
    it('service mode: ctx.state.prodoAuth is one object, created at prodoAuth(), on every request', async () => {
      const app = new Koa();
      const middleware = prodoAuth(await serviceOptions());
      app.use(middleware);
      const seen = new Set<StateAuth>();
      app.use(async (ctx) => {
        seen.add(ctx.state.prodoAuth);
        ctx.body = { ok: true };
      });
      const url = await listen(app, () => middleware.close());
      for (let i = 0; i < 3; i++) await httpRequest(`${url}/`);
      await Promise.all(Array.from({ length: 5 }, () => httpRequest(`${url}/`)));
      expect(seen.size).toBe(1);
      const [auth] = [...seen];
      expect(Object.isFrozen(auth)).toBe(true);
      expect(typeof (auth as { client?: { getAccessToken?: unknown } }).client?.getAccessToken).toBe('function');
    });

    it("an app's own error and a misplaced requireLogin()'s ConfigError go on to the app's error handling", async () => {
      const app = new Koa();
      const seen = withAppErrorHandler(app);
      const middleware = prodoAuth(await serviceOptions());
      app.use(middleware);
      const guard = requireLogin();
      app.use(async (ctx, next) => {
        if (ctx.path === '/boom') throw Object.assign(new Error('the app failed'), { code: 'APP_BUG' });
        return guard(ctx, next); // service mode: requireLogin() has no flow to ask
      });
      const url = await listen(app, () => middleware.close());
      const boom = await httpRequest(`${url}/boom`);
      const guarded = await httpRequest(`${url}/guarded`, { headers: { accept: 'application/json' } });
      expect([boom.status, guarded.status, JSON.parse(guarded.body)]).toEqual([500, 500, { error: 'app_error' }]);
      expect(seen).toEqual(['APP_BUG', ErrorCode.CONFIG]);
    });

    it("a prodo-auth error thrown below is answered by prodoAuth() (401 login_required) and never reaches the app's handler", async () => {
      const app = new Koa();
      const seen = withAppErrorHandler(app);
      const middleware = prodoAuth(await userOptions());
      app.use(middleware);
      app.use(async (ctx) => {
        ctx.set('x-route', 'ran');
        ctx.body = await (await ctx.state.prodoAuth.fetch('/object')).text();
      });
      const url = await listen(app, () => middleware.close());
      const page = await httpRequest(`${url}/anything`, { headers: { accept: 'text/html' } });
      expect([page.status, page.contentType]).toEqual([401, 'text/html; charset=utf-8']);
      expect(page.body).toContain('login_required');
      const api = await httpRequest(`${url}/anything`, { headers: { accept: 'application/json' } });
      expect([api.status, JSON.parse(api.body).error]).toEqual([401, 'login_required']);
      expect(seen).toEqual([]);
    });

    it('a prodo-auth error after the headers went out is not answered twice: it goes on to the app, as it was thrown', async () => {
      const app = new Koa();
      const seen: Array<string | undefined> = [];
      app.use(async (ctx, next) => {
        try {
          await next();
        } catch (error) {
          seen.push((error as { code?: string }).code);
          ctx.res.end();
        }
      });
      const middleware = prodoAuth(await userOptions());
      app.use(middleware);
      app.use(async (ctx) => {
        ctx.res.writeHead(200, { 'content-type': 'text/plain' });
        ctx.res.write('started ');
        await ctx.state.prodoAuth.getAccessToken(); // nobody signed in: rejects
      });
      const url = await listen(app, () => middleware.close());
      const r = await httpRequest(`${url}/stream`);
      expect([r.status, r.body]).toEqual([200, 'started ']);
      expect(seen).toEqual([ErrorCode.REAUTHENTICATION_REQUIRED]);
    });
  });
}
