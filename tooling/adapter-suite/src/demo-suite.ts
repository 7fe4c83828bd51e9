/** The sample apps' shared test suite: each app runs it with its own startDemo(). */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '@prodo-auth/core';
import { Browser, httpRequest, type Reply } from './browser.js';

/** A sample app's `startDemo()`, as apps/express-demo and apps/koa-demo export it. */
export type StartDemo = (options?: { port?: number; consent?: boolean; tokenSeconds?: number }) => Promise<{ url: string; close(): Promise<void> }>;

export interface DemoUnderTest {
  /** How the describe blocks name it, e.g. `express demo`. */
  name: string;
  /** The app's folder, where `node src/main.mjs` runs. */
  appDir: string;
  startDemo: StartDemo;
}

/**
 * The behaviour every sample app shows, over real HTTP on 127.0.0.1: the pages, the service token
 * reused and then refreshed, a full sign-in and sign-out, no token in any page, configuration from
 * the environment, and the check mode as a child process.
 */
export function demoSuite({ name, appDir, startDemo }: DemoUnderTest): void {
  const running: Array<{ close(): Promise<void> }> = [];
  const pages: string[] = [];

  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all(running.splice(0).map((d) => d.close()));
    // No page may show a token: the simulators' tokens are 40 hex characters, the fingerprints 8.
    for (const body of pages.splice(0)) {
      expect(body).not.toMatch(/[0-9a-f]{20,}/);
      expect(body).not.toMatch(/[A-Za-z0-9_-]{32,}/);
    }
  });

  async function demo(options: Parameters<typeof startDemo>[0] = {}): Promise<{ url: string; browser: Browser }> {
    const started = await startDemo(options);
    running.push(started);
    return { url: started.url, browser: new Browser(started.url) };
  }

  /** A page as the browser gets it, kept for the no-token check. */
  async function open(browser: Browser, path: string): Promise<Reply> {
    const reply = await browser.send(path);
    pages.push(reply.body);
    return reply;
  }

  /** The text of the element with this id, tags removed. */
  const text = (html: string, id: string): string | undefined =>
    new RegExp(`<(\\w+)[^>]*\\bid="${id}"[^>]*>([\\s\\S]*?)</\\1>`).exec(html)?.[2]?.replace(/<[^>]+>/g, '');

  describe(`${name}: startDemo()`, () => {
    it('GET / links to both modes and the sign-in, and says nobody is signed in', async () => {
      const { browser } = await demo();
      const home = await open(browser, '/');
      expect(home.status).toBe(200);
      expect(home.contentType).toMatch(/^text\/html/);
      expect(text(home.body, 'status')).toBe('not signed in');
      expect(home.body).toContain('<a id="service" href="/service">');
      expect(home.body).toContain('<a id="sign-in" href="/auth/login?returnTo=/profile">Sign in</a>');
    });

    it('GET /service calls the API with the service token, shown by fingerprint, reused across reloads: 1 token request', async () => {
      const { browser } = await demo();
      const loads: Reply[] = [];
      for (let i = 0; i < 4; i++) loads.push(await open(browser, '/service'));
      expect(loads.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(loads.map((r) => text(r.body, 'api-status'))).toEqual(['200', '200', '200', '200']);
      const tokens = loads.map((r) => text(r.body, 'token'));
      expect(tokens[0]).toMatch(/^#[0-9a-f]{8}$/);
      expect(new Set(tokens).size).toBe(1);
      expect(loads.map((r) => text(r.body, 'token-requests'))).toEqual(['1', '1', '1', '1']);
      expect(text(loads[0]!.body, 'token-news')).toBe('the first token of this run');
      expect(text(loads[3]!.body, 'token-news')).toBe('reused: the same token as the last load');
    });

    it('GET /service shows the refresh: near expiry a background refresh replaces the token', async () => {
      // Tokens of 2 s, refreshed in their last 2/3 s.
      const { browser } = await demo({ tokenSeconds: 2 });
      const first = text((await open(browser, '/service')).body, 'token');
      await new Promise((r) => setTimeout(r, 1_500));
      let reply = await open(browser, '/service');
      // The load inside the window gets the current token and starts the refresh; a later one sees the new token.
      for (let i = 0; i < 20 && text(reply.body, 'token') === first; i++) {
        await new Promise((r) => setTimeout(r, 50));
        reply = await open(browser, '/service');
      }
      expect(text(reply.body, 'token')).toMatch(/^#[0-9a-f]{8}$/);
      expect(text(reply.body, 'token')).not.toBe(first);
      expect(text(reply.body, 'token-news')).toBe(`refreshed: it replaced ${first}`);
      expect(text(reply.body, 'token-requests')).toBe('2');
    });

    it('GET /profile signed out: a browser goes to the login with returnTo, an API client gets 401 login_required', async () => {
      const { url, browser } = await demo();
      const page = await open(browser, '/profile');
      expect([page.status, page.location]).toEqual([302, '/auth/login?returnTo=%2Fprofile']);
      const api = await httpRequest(`${url}/profile`, { headers: { accept: 'application/json' } });
      expect(api.status).toBe(401);
      expect(JSON.parse(api.body)).toMatchObject({ error: 'login_required' });
    });

    for (const consent of [false, true]) {
      it(`signs in through the authorize page${consent ? ' and its consent form' : ''}, shows the profile, signs out, and the profile is gone`, async () => {
        const { url, browser } = await demo({ consent });
        const href = /<a id="sign-in" href="([^"]+)"/.exec((await open(browser, '/')).body)?.[1];
        expect(href).toBe('/auth/login?returnTo=/profile');
        const back = await browser.login(href!.slice('/auth/login'.length));
        expect([back.status, back.location]).toEqual([302, '/profile']);
        expect(back.setCookies.some((c) => /^prodo-auth\.sid=[^;]+;.*HttpOnly/.test(c))).toBe(true);

        const profile = await open(browser, '/profile');
        expect(profile.status).toBe(200);
        expect(text(profile.body, 'user')).toBe('mock-user');
        expect(profile.body).toContain('<form method="post" action="/auth/logout"><button id="sign-out">Sign out</button></form>');
        expect(profile.body).toContain('&quot;subject&quot;: &quot;mock-user&quot;');
        const headers = await fetch(`${url}/profile`, { headers: { accept: 'text/html', cookie: [...browser.jar].map(([k, v]) => `${k}=${v}`).join('; ') }, redirect: 'manual' });
        expect(headers.headers.get('cache-control')).toBe('no-store');
        await headers.arrayBuffer();
        expect(text((await open(browser, '/')).body, 'status')).toBe('signed in as mock-user');

        // The form posts from the app's own page: the browser sends the app's Origin.
        const out = await browser.send('/auth/logout', { method: 'POST', headers: { origin: url } });
        expect([out.status, out.location]).toEqual([303, '/']);
        expect(text((await open(browser, '/')).body, 'status')).toBe('not signed in');
        const gone = await open(browser, '/profile');
        expect([gone.status, gone.location]).toEqual([302, '/auth/login?returnTo=%2Fprofile']);
      });
    }

    it('with PRODO_AUTH_* set it uses configFromEnv(): a bad variable stops the start with a ConfigError naming it', async () => {
      vi.stubEnv('PRODO_AUTH_GRANT', 'client_credentials');
      await expect(startDemo()).rejects.toMatchObject({ code: ErrorCode.CONFIG, message: expect.stringContaining('PRODO_AUTH_TOKEN_URL') });
    });
  });

  describe(`${name}: node src/main.mjs --exit-after-check`, () => {
    it('starts, requests its own pages, exits 0 by itself with nothing on stderr', async () => {
      const child = spawn(process.execPath, ['src/main.mjs', '--exit-after-check'], { cwd: appDir, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const timer = setTimeout(() => child.kill(), 15_000);
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      clearTimeout(timer);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toMatch(/GET \/service -> 200, token #[0-9a-f]{8}\n/);
      expect(stdout).toContain('GET /profile (not signed in) -> 302 /auth/login?returnTo=%2Fprofile\n');
      expect(stdout).toContain('check passed; stopped');
    });
  });
}
