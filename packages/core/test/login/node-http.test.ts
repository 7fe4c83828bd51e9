/**
 * THE boundary test: the whole login flow through bare node:http, no framework, using only what
 * `@prodo-auth/core/adapter` exports, against the Procurios simulator's authorize page.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '@prodo-auth/mock-server';
import { createProdoAuth, type ProdoAuth } from '../../src/adapter.js';
import { procurios } from '../../src/index.js';
import { Browser, startApp, type App } from './harness.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

const SECRET = 'a session secret of at least 32 characters';

async function setUp(requireConsent: boolean): Promise<{ app: App; mock: MockServer<'procurios'>; auth: ProdoAuth & { mode: 'user' } }> {
  const mock = (await startMockServer({ vendor: 'procurios', requireConsent })) as MockServer<'procurios'>;
  open.push(mock);
  // The app's port is part of the redirect URI: take one first, then build the flow for it.
  const probe = await startApp({ handle: async () => ({ kind: 'continue' }) } as never, async () => undefined);
  const port = Number(new URL(probe.url).port);
  await probe.close();
  const auth = createProdoAuth({
    ...procurios.authorizationCode({
      authorizeUrl: mock.authorizeUrl!,
      tokenUrl: mock.tokenUrl,
      clientId: mock.credentials.clientId,
      clientSecret: mock.credentials.clientSecret,
      redirectUri: `http://127.0.0.1:${port}/auth/callback`,
      scope: mock.credentials.scope,
      apiUrl: mock.apiUrl,
    }),
    redirectUri: `http://127.0.0.1:${port}/auth/callback`,
    sessionSecret: SECRET,
  });
  if (auth.mode !== 'user') throw new Error('expected user mode');
  open.push(auth);
  const app = await startApp(
    auth.flow,
    async (user, req, res) => {
      if (req.url?.startsWith('/private/profile')) {
        const api = await user.fetch('/l/module_api/object');
        const body = (await api.json()) as { data: { subject: string } };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ subject: body.data.subject }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end(user.isAuthenticated ? 'signed in' : 'anonymous');
    },
    port,
  );
  open.push(app);
  return { app, mock, auth };
}

describe('login flow through bare node:http (no framework)', () => {
  for (const requireConsent of [false, true]) {
    it(`login -> authorize page -> callback -> session -> API call as the user -> logout -> anonymous${requireConsent ? ' (consent form)' : ''}`, async () => {
      const { app, mock } = await setUp(requireConsent);
      const browser = new Browser(new URL(app.url).host);

      const denied = await browser.send(`${app.url}/private/profile?tab=1`);
      expect(denied.status).toBe(302);
      expect(denied.location).toBe('/auth/login?returnTo=%2Fprivate%2Fprofile%3Ftab%3D1');

      const start = await browser.send(`${app.url}${denied.location}`);
      expect(start.status).toBe(302);
      const authorizeUrl = new URL(start.location!);
      expect(authorizeUrl.origin + authorizeUrl.pathname).toBe(mock.authorizeUrl);
      expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
      expect(authorizeUrl.searchParams.get('state')).toMatch(/^[\w-]{43}$/);

      let page = await browser.send(start.location!);
      if (requireConsent) {
        expect(page.status).toBe(200);
        const ticket = /name="consent" value="([^"]+)"/.exec(page.body)?.[1];
        expect(ticket).toBeDefined();
        page = await browser.send(mock.authorizeUrl!, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ consent: ticket!, decision: 'approve' }).toString(),
        });
      }
      expect(page.status).toBe(302);
      const back = await browser.send(page.location!);
      expect(back.status).toBe(302);
      expect(back.location).toBe('/private/profile?tab=1');
      const session = back.setCookies.find((c) => c.startsWith('prodo-auth.sid='));
      expect(session).toMatch(/HttpOnly/);
      expect(session).toMatch(/SameSite=Lax/);
      expect(session).not.toMatch(/Secure/); // plain http to 127.0.0.1

      const profile = await browser.send(`${app.url}/private/profile?tab=1`, { headers: { accept: 'application/json' } });
      expect(profile.status).toBe(200);
      expect(JSON.parse(profile.body)).toEqual({ subject: mock.credentials.username });

      const out = await browser.send(`${app.url}/auth/logout`, { method: 'POST', headers: { origin: app.url } });
      expect(out.status).toBe(303);
      expect(out.location).toBe('/');
      expect(browser.jar.has('prodo-auth.sid')).toBe(false);

      const after = await browser.send(`${app.url}/private/profile`, { headers: { accept: 'application/json' } });
      expect(after.status).toBe(401);
      expect(JSON.parse(after.body)).toMatchObject({ error: 'login_required' });
      expect(mock.stats.byGrant.authorization_code).toBe(1);
    });
  }
});
