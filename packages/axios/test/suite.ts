/**
 * The behaviour suite of attachProdoAuth, run once per supported axios version (see the
 * `axios-*.test.ts` files). Every request goes over real HTTP to 127.0.0.1; nothing is mocked.
 */
import { Agent } from 'node:http';
import { inspect } from 'node:util';
import { Readable } from 'node:stream';
import { createTokenClient, ErrorCode, isProdoAuthError, PROCURIOS_MEDIA_TYPE, procurios, type TokenClient } from '@prodo-auth/core';
import { startMockServer, type MockServer } from '@prodo-auth/mock-server';
import type axiosModule from 'axios';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { attachProdoAuth } from '../src/index.js';
import { bearerOf, json, protectedApi, startServer, startTokenServer, tokenClient, type TestServer, type TokenServer } from './helpers.js';

/** What the suite needs of an axios module; both the current and the oldest supported one fit. */
export type AxiosModule = Pick<typeof axiosModule, 'create' | 'isAxiosError' | 'VERSION'>;

const AXIOS_DEFAULT_ACCEPT = 'application/json, text/plain, */*';
const MASKED = 'Bearer [REDACTED]';
/** The tokens the test token servers issue. */
const TOKENS = /tok-\d/;

/** An error as it gets logged: inspect with everything it can reach, its JSON, its stack. */
function printed(error: unknown): string {
  const { toJSON, stack } = error as { toJSON?: () => unknown; stack?: unknown };
  return [inspect(error, { showHidden: true, depth: 20 }), JSON.stringify(toJSON?.call(error) ?? error), String(stack)].join('\n');
}

/** The header Node's ClientRequest holds for `name`, under follow-redirects' wrapper or not. */
function sentHeader(error: unknown, name: string): unknown {
  const request = (error as { request?: { _currentRequest?: unknown } }).request;
  return ((request?._currentRequest ?? request) as { getHeader(name: string): unknown }).getHeader(name);
}

export function prodoAuthSuite(axios: AxiosModule, version: string): void {
  describe(`attachProdoAuth with axios ${version}`, () => {
    const cleanup: Array<() => unknown> = [];
    afterEach(async () => {
      for (const fn of cleanup.splice(0).reverse()) await fn();
    });
    async function server(handler?: Parameters<typeof startServer>[0]): Promise<TestServer> {
      const s = await startServer(handler);
      cleanup.push(s.close);
      return s;
    }
    async function tokens(): Promise<TokenServer> {
      const t = await startTokenServer();
      cleanup.push(t.close);
      return t;
    }
    function closing(client: TokenClient): TokenClient {
      cleanup.push(() => client.close());
      return client;
    }

    it(`really runs axios ${version}`, () => {
      expect(axios.VERSION).toBe(version);
    });

    describe('against the Procurios mock server', () => {
      let mock: MockServer<'procurios'>;
      let client: TokenClient;
      beforeAll(async () => {
        mock = await startMockServer({ vendor: 'procurios' });
      });
      afterAll(() => mock.close());
      const newClient = (): TokenClient => {
        const { clientId, clientSecret, scope } = mock.credentials;
        return closing(createTokenClient({ ...procurios.clientCredentials({ tokenUrl: mock.tokenUrl, clientId, clientSecret, scope }), retry: { retries: 0 } }));
      };
      afterEach(() => {
        mock.resetStats();
        mock.faults.reset();
      });

      it('sends the Bearer token and the Procurios media type to the baseURL origin, one token request for many calls', async () => {
        client = newClient();
        const api = axios.create({ baseURL: mock.apiUrl });
        attachProdoAuth(api, client);
        for (let i = 0; i < 3; i++) {
          const res = await api.get('/object');
          // Without the token the mock answers 401; without the media type, 406.
          expect(res.status).toBe(200);
          expect(res.data.data).toMatchObject({ method: 'GET', path: '/l/module_api/object', client_id: 'abc123' });
        }
        expect(mock.stats.tokenRequests).toBe(1);
      });

      it('on a 401 invalidates the rejected token, gets a new one and retries once, replaying a JSON body', async () => {
        client = newClient();
        const api = axios.create({ baseURL: mock.apiUrl });
        attachProdoAuth(api, client);
        await api.get('/object');
        const first = await client.getAccessToken();
        expect(mock.revoke(first)).toBe(true);

        const res = await api.post('/object', { name: 'Grace', tags: ['a', 'b'] });
        expect(res.status).toBe(200);
        expect(res.data.data).toMatchObject({ method: 'POST', received: { name: 'Grace', tags: ['a', 'b'] } });
        expect(await client.getAccessToken()).not.toBe(first);
        expect(mock.stats).toMatchObject({ tokenRequests: 2, apiRequests: 3, apiRejections: 1 });
      });

      it('a token endpoint outage rejects every waiting request with the typed error, and the API sees none of them', async () => {
        client = newClient();
        mock.faults.set({ failTokenRequests: 1000 });
        const api = axios.create({ baseURL: mock.apiUrl });
        attachProdoAuth(api, client);
        const results = await Promise.allSettled(Array.from({ length: 20 }, () => api.get('/object')));
        for (const r of results) {
          expect(r.status).toBe('rejected');
          const error = (r as PromiseRejectedResult).reason as unknown;
          // The mock answers 503 {"error":"temporarily_unavailable"}: core types an OAuth-style body
          // on a status OAuth does not use for errors as the HTTP failure it is.
          expect(error).toMatchObject({ name: 'TokenEndpointError', code: ErrorCode.HTTP_STATUS, status: 503 });
        }
        expect(mock.stats).toMatchObject({ tokenRequests: 1, apiRequests: 0 });
      });
    });

    describe('which requests get the token', () => {
      it("only the baseURL's origin by default: an absolute URL to another host gets neither the token nor the API headers", async () => {
        const t = await tokens();
        const [a, b] = [await server(), await server()];
        const api = axios.create({ baseURL: `${a.origin}/v1` });
        attachProdoAuth(api, closing(tokenClient(t, { apiHeaders: { accept: PROCURIOS_MEDIA_TYPE } })));
        await api.get('/things');
        await api.get(`${b.origin}/elsewhere`);
        expect(a.seen[0]).toMatchObject({ path: '/v1/things', headers: { authorization: 'Bearer tok-1', accept: PROCURIOS_MEDIA_TYPE } });
        expect(b.seen[0]?.headers.authorization).toBeUndefined();
        expect(b.seen[0]?.headers.accept).toBe(AXIOS_DEFAULT_ACCEPT);
      });

      it("without a baseURL, the client's apiUrl origin", async () => {
        const t = await tokens();
        const [a, b] = [await server(), await server()];
        const api = axios.create();
        attachProdoAuth(api, closing(tokenClient(t, { apiUrl: `${a.origin}/api` })));
        await api.get(`${a.origin}/api/x`);
        await api.get(`${b.origin}/api/x`);
        expect(a.seen[0]?.headers.authorization).toBe('Bearer tok-1');
        expect(b.seen[0]?.headers.authorization).toBeUndefined();
      });

      it('`origins` replaces the default', async () => {
        const t = await tokens();
        const [a, b] = [await server(), await server()];
        const api = axios.create({ baseURL: a.origin });
        attachProdoAuth(api, closing(tokenClient(t)), { origins: [b.origin] });
        await api.get('/x');
        await api.get(`${b.origin}/x`);
        expect(a.seen[0]?.headers.authorization).toBeUndefined();
        expect(b.seen[0]?.headers.authorization).toBe('Bearer tok-1');
      });

      it('refuses to attach when there is no origin at all: never every host', async () => {
        const t = await tokens();
        const api = axios.create();
        expect(() => attachProdoAuth(api, closing(tokenClient(t)))).toThrow(expect.objectContaining({ code: ErrorCode.CONFIG }));
        const a = await server();
        await api.get(`${a.origin}/x`);
        expect(a.seen[0]?.headers.authorization).toBeUndefined();
      });

      it('resolves URLs as axios does: a per-request baseURL, userinfo or a protocol-relative URL pointing elsewhere get no token', async () => {
        const t = await tokens();
        const [a, b] = [await server(), await server()];
        const api = axios.create({ baseURL: a.origin });
        attachProdoAuth(api, closing(tokenClient(t)));
        await api.get('/x', { baseURL: b.origin });
        await api.get(`http://127.0.0.1:${a.port}@127.0.0.1:${b.port}/userinfo`);
        // Some axios versions send this to b over http, others refuse it: either way, no token.
        await api.get(`//127.0.0.1:${b.port}/protocol-relative`).catch(() => undefined);
        // axios >= 1.8 sends this to a (baseURL + the whole URL as a path); older ones ignore the
        // option and send it to b: either way, b gets no token.
        await api.get(`${b.origin}/absolute`, { allowAbsoluteUrls: false }).catch(() => undefined);
        expect(b.seen.length).toBeGreaterThanOrEqual(2);
        // Axios turns the userinfo into its own Basic header; the Bearer token never goes to b.
        expect(b.seen.filter((s) => /^Bearer /i.test(s.headers.authorization ?? ''))).toEqual([]);
        await api.get('/ok');
        expect(a.seen.filter((s) => s.path === '/ok').map((s) => s.headers.authorization)).toEqual(['Bearer tok-1']);
        expect(a.seen.filter((s) => s.path !== '/ok').map((s) => s.path)).toEqual(
          Number(axios.VERSION.split('.')[1]) < 8 ? [] : [`/http://127.0.0.1:${b.port}/absolute`],
        );
      });

      it('absolute URLs without a baseURL: the allowed origin gets the token whatever the case or params, others and userinfo tricks do not', async () => {
        const t = await tokens();
        const [a, b] = [await server(), await server()];
        const api = axios.create();
        const client = closing(tokenClient(t, { apiUrl: a.origin }));
        const asked = vi.spyOn(client, 'requestHeaders');
        attachProdoAuth(api, client);
        await api.get(`${a.origin}/one`);
        await api.get(`${b.origin}/two`);
        // The answer for a's origin is remembered; this URL's origin is b, and must be decided as such.
        await api.get(`http://127.0.0.1:${a.port}@127.0.0.1:${b.port}/three`);
        await api.get(`HTTP://127.0.0.1:${a.port}/four`, { params: { q: '@127.0.0.1', n: 1 } });
        expect(a.seen.map((s) => [s.path, s.headers.authorization])).toEqual([
          ['/one', 'Bearer tok-1'],
          [expect.stringMatching(/^\/four\?q=(@|%40)127\.0\.0\.1&n=1$/), 'Bearer tok-1'],
        ]);
        expect(b.seen.map((s) => s.path)).toEqual(['/two', '/three']);
        // Axios replaces Authorization with Basic for a URL with userinfo, so ask what was decided.
        expect(b.seen.filter((s) => /^Bearer /i.test(s.headers.authorization ?? ''))).toEqual([]);
        expect(asked.mock.calls.map(([request]) => new URL(String(request?.url)).origin)).toEqual([a.origin, a.origin]);
      });

      it('resolves absolute URLs without getUri(), which merges the whole config again; allowAbsoluteUrls: false still asks axios', async () => {
        const t = await tokens();
        const a = await server();
        const api = axios.create({ baseURL: a.origin });
        attachProdoAuth(api, closing(tokenClient(t)));
        const getUri = vi.spyOn(api, 'getUri');
        await api.get(`${a.origin}/absolute`);
        await api.get('/relative');
        expect(getUri).not.toHaveBeenCalled();
        await api.get(`${a.origin}/joined`, { allowAbsoluteUrls: false }).catch(() => undefined);
        expect(getUri).toHaveBeenCalledOnce();
        expect(a.seen.slice(0, 2).map((s) => s.headers.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-1']);
      });

      it('a URL that is not scheme://host gets no token: axios versions and the URL parser disagree on where it goes', async () => {
        const t = await tokens();
        const a = await server();
        const api = axios.create();
        attachProdoAuth(api, closing(tokenClient(t)), { origins: [a.origin] });
        // Axios 1.2.0 sends these to a (the URL parser reads the host after "http:" or the
        // whitespace); versions that parse against http://localhost send the first elsewhere;
        // newer ones refuse it. None of them gets the token.
        for (const url of [`http:127.0.0.1:${a.port}/no-slashes`, `http:/127.0.0.1:${a.port}/one-slash`, ` http://127.0.0.1:${a.port}/space`]) {
          await api.get(url).catch(() => undefined);
        }
        expect(a.seen.filter((s) => s.headers.authorization !== undefined)).toEqual([]);
        await api.get(`${a.origin}/ok`);
        expect(a.seen.at(-1)?.headers.authorization).toBe('Bearer tok-1');
      });

      it("keeps an Accept the request or the instance sets; replaces only axios's default one", async () => {
        const t = await tokens();
        const a = await server();
        const client = closing(tokenClient(t, { apiHeaders: { accept: PROCURIOS_MEDIA_TYPE } }));
        const plain = axios.create({ baseURL: a.origin });
        const own = axios.create({ baseURL: a.origin, headers: { Accept: 'application/vnd.procurios.application+json; version=2' } });
        attachProdoAuth(plain, client);
        attachProdoAuth(own, client);
        await plain.get('/a');
        await plain.get('/b', { headers: { Accept: 'text/csv' } });
        await own.get('/c');
        expect(a.seen.map((s) => s.headers.accept)).toEqual([
          PROCURIOS_MEDIA_TYPE,
          'text/csv',
          'application/vnd.procurios.application+json; version=2',
        ]);
        // A request that sets its own Authorization is sent as it is (as core's fetch does).
        await plain.get('/d', { headers: { Authorization: 'Basic c3ZjOnN2Yw==' } });
        expect(a.seen.at(-1)?.headers.authorization).toBe('Basic c3ZjOnN2Yw==');
      });
    });

    describe('plain http', () => {
      it('refuses a plain-http origin off loopback (a baseURL, an origins entry) with a ConfigError that names the opt-in', async () => {
        const client = closing(tokenClient(await tokens()));
        const cases: Array<() => unknown> = [
          () => attachProdoAuth(axios.create({ baseURL: 'http://api.example.com' }), client),
          () => attachProdoAuth(axios.create(), client, { origins: ['https://api.example.com', 'http://api.example.com'] }),
        ];
        for (const attach of cases) {
          const error = (() => {
            try {
              attach();
            } catch (e) {
              return e;
            }
          })();
          expect(isProdoAuthError(error) && error.code).toBe(ErrorCode.CONFIG);
          expect(String((error as Error).message)).toMatch(/must use https.*dangerouslyAllowInsecureHttp: true/s);
        }
        // https, and every form of loopback, need no opt-in.
        for (const baseURL of ['https://api.example.com', 'http://127.0.0.1:8080', 'http://localhost:8080', 'http://[::1]:8080']) {
          expect(() => attachProdoAuth(axios.create({ baseURL }), client)).not.toThrow();
        }
      });

      it('with dangerouslyAllowInsecureHttp: true a plain-http origin off loopback gets the token', async () => {
        const t = await tokens();
        const a = await server();
        // Every name resolves to 127.0.0.1: api.example.test is the test server under a non-loopback name.
        const agent = new Agent({
          lookup: ((_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) =>
            options.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as never,
        });
        cleanup.push(() => agent.destroy());
        const baseURL = `http://api.example.test:${a.port}`;
        const client = closing(tokenClient(t));
        expect(() => attachProdoAuth(axios.create({ baseURL }), client)).toThrow(expect.objectContaining({ code: ErrorCode.CONFIG }));
        const api = axios.create({ baseURL, httpAgent: agent });
        attachProdoAuth(api, client, { dangerouslyAllowInsecureHttp: true });
        await api.get('/x');
        expect(a.seen.map((s) => [s.host, s.headers.authorization])).toEqual([[`api.example.test:${a.port}`, 'Bearer tok-1']]);
      });
    });

    describe('redirects', () => {
      it('a redirect to another origin does not carry the token; one within the origin does', async () => {
        const t = await tokens();
        const b = await server();
        const a = await server((req, res) => {
          if (req.url === '/away') res.writeHead(302, { location: `${b.origin}/landing` }).end();
          else if (req.url === '/near') res.writeHead(302, { location: '/landing' }).end();
          else json(res, 200, {});
        });
        const api = axios.create({ baseURL: a.origin });
        attachProdoAuth(api, closing(tokenClient(t)));
        await api.get('/away');
        await api.get('/near');
        expect(b.seen.map((s) => [s.path, s.headers.authorization])).toEqual([['/landing', undefined]]);
        expect(a.seen.map((s) => [s.path, s.headers.authorization])).toEqual([
          ['/away', 'Bearer tok-1'],
          ['/near', 'Bearer tok-1'],
          ['/landing', 'Bearer tok-1'],
        ]);
      });

      it('a 401 from another origin a redirect led to is not about our token: no invalidation, no retry', async () => {
        const t = await tokens();
        const b = await server((_req, res) => json(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer' }));
        const a = await server((_req, res) => void res.writeHead(307, { location: `${b.origin}/elsewhere` }).end());
        const client = closing(tokenClient(t));
        const api = axios.create({ baseURL: a.origin });
        attachProdoAuth(api, client);
        const error = await api.get('/away').catch((e: unknown) => e);
        expect(axios.isAxiosError(error) && error.response?.status).toBe(401);
        expect([a.seen.length, b.seen.length, t.issued()]).toEqual([1, 1, 1]);
        expect(await client.getAccessToken()).toBe('tok-1');
      });

      it('a redirect to a subdomain (which follow-redirects treats as the same site) does not carry the token', async () => {
        const t = await tokens();
        const a = await server((req, res) => {
          if (req.url === '/hop') res.writeHead(302, { location: `http://sub.localhost:${a.port}/landing` }).end();
          else json(res, 200, {});
        });
        // Every name resolves to 127.0.0.1, so sub.localhost reaches the same server under another origin.
        const agent = new Agent({
          lookup: ((_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) =>
            options.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as never,
        });
        cleanup.push(() => agent.destroy());
        const userHook = vi.fn();
        const api = axios.create({ baseURL: `http://localhost:${a.port}`, httpAgent: agent, beforeRedirect: userHook });
        attachProdoAuth(api, closing(tokenClient(t)));
        await api.get('/hop');
        expect(a.seen.map((s) => [s.host, s.headers.authorization])).toEqual([
          [`localhost:${a.port}`, 'Bearer tok-1'],
          [`sub.localhost:${a.port}`, undefined],
        ]);
        expect(userHook).toHaveBeenCalledOnce();
      });
    });

    describe('401 and retry', () => {
      it('500 concurrent 401s make exactly one token request, and every request succeeds on its retry', async () => {
        const t = await tokens();
        const a = await server(protectedApi(t));
        const client = closing(tokenClient(t));
        const api = axios.create({ baseURL: a.origin });
        attachProdoAuth(api, client);
        await api.get('/warm');
        t.revoke('tok-1');
        const results = await Promise.all(Array.from({ length: 500 }, (_, i) => api.get(`/herd/${i}`)));
        expect(results.every((r) => r.status === 200)).toBe(true);
        expect(t.issued()).toBe(2);
        const herd = a.seen.filter((s) => s.path.startsWith('/herd/'));
        expect(herd.filter((s) => bearerOf(s) === 'tok-1')).toHaveLength(500);
        expect(herd.filter((s) => bearerOf(s) === 'tok-2')).toHaveLength(500);
      });

      it("invalidates exactly the token the request used: a late 401 for an old token keeps the newer one", async () => {
        const t = await tokens();
        let slowArrived!: () => void;
        const slow = new Promise<void>((resolve) => (slowArrived = resolve));
        let newTokenSeen!: () => void;
        const newToken = new Promise<void>((resolve) => (newTokenSeen = resolve));
        const a = await server(async (req, res, seen) => {
          if (bearerOf(seen) !== 'tok-1') newTokenSeen();
          // The fast request is rejected once the slow one is in flight with the same token; the
          // slow one is rejected only after the fast one's retry brought a new token.
          if (req.url === '/slow' && bearerOf(seen) === 'tok-1') {
            slowArrived();
            await newToken;
          }
          if (req.url === '/fast' && bearerOf(seen) === 'tok-1') await slow;
          await protectedApi(t)(req, res, seen);
        });
        const api = axios.create({ baseURL: a.origin });
        attachProdoAuth(api, closing(tokenClient(t)));
        await api.get('/warm');
        t.revoke('tok-1');
        const [slowRes, fastRes] = await Promise.all([api.get('/slow'), api.get('/fast')]);
        expect([slowRes.status, fastRes.status]).toEqual([200, 200]);
        // Invalidating whatever token is current would have thrown away tok-2 and fetched tok-3.
        expect(t.issued()).toBe(2);
      });

      it('retries on a Bearer error="invalid_token" challenge whatever the status, but not on a plain 403', async () => {
        const t = await tokens();
        const a = await server((req, res, seen) => {
          if (req.url === '/forbidden') return json(res, 403, { error: 'forbidden' });
          if (bearerOf(seen) === 'tok-1') return json(res, 403, {}, { 'www-authenticate': 'Bearer realm="api", error="invalid_token"' });
          json(res, 200, {});
        });
        const api = axios.create({ baseURL: a.origin });
        attachProdoAuth(api, closing(tokenClient(t)));
        expect((await api.get('/challenged')).status).toBe(200);
        expect(a.seen.map((s) => bearerOf(s))).toEqual(['tok-1', 'tok-2']);
        const error = await api.get('/forbidden').catch((e: unknown) => e);
        expect(axios.isAxiosError(error) && error.response?.status).toBe(403);
        expect(a.seen).toHaveLength(3);
        expect(t.issued()).toBe(2);
      });

      it("a second 401 reaches the caller as axios's own error, response intact, after exactly one retry", async () => {
        const t = await tokens();
        const a = await server((_req, res) => json(res, 401, { error: 'invalid_token', detail: 'no' }, { 'www-authenticate': 'Bearer' }));
        const api = axios.create({ baseURL: a.origin });
        attachProdoAuth(api, closing(tokenClient(t)));
        const error = await api.post('/x', { a: 1 }).catch((e: unknown) => e);
        expect(axios.isAxiosError(error)).toBe(true);
        if (!axios.isAxiosError(error)) return;
        expect(error.response?.status).toBe(401);
        expect(error.response?.data).toEqual({ error: 'invalid_token', detail: 'no' });
        expect(error.response?.headers['www-authenticate']).toBe('Bearer');
        expect(a.seen.map((s) => [bearerOf(s), s.body])).toEqual([
          ['tok-1', '{"a":1}'],
          ['tok-2', '{"a":1}'],
        ]);
        expect(t.issued()).toBe(2);
      });

      it('a 401 answered through validateStatus is retried all the same', async () => {
        const t = await tokens();
        const a = await server(protectedApi(t));
        const api = axios.create({ baseURL: a.origin, validateStatus: () => true });
        attachProdoAuth(api, closing(tokenClient(t)));
        await api.get('/warm');
        t.revoke('tok-1');
        const res = await api.get('/x');
        expect(res.status).toBe(200);
        expect(t.issued()).toBe(2);
      });

      it('a stream body is not replayed: BODY_NOT_REPLAYABLE, and the rejected token is still invalidated', async () => {
        const t = await tokens();
        const a = await server(protectedApi(t));
        const client = closing(tokenClient(t));
        const api = axios.create({ baseURL: a.origin });
        attachProdoAuth(api, client);
        await api.get('/warm');
        t.revoke('tok-1');
        const error = await api.post('/upload', Readable.from(['chunk-1,', 'chunk-2'])).catch((e: unknown) => e);
        expect(isProdoAuthError(error)).toBe(true);
        if (!isProdoAuthError(error)) return;
        expect(error.code).toBe(ErrorCode.BODY_NOT_REPLAYABLE);
        expect(error.message).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/upload: .* stream, which cannot be sent a second time/);
        expect((error as unknown as { response: { status: number } }).response.status).toBe(401);
        // The response's config and request held the rejected token: it never shows when the error is logged.
        expect(printed(error)).not.toMatch(TOKENS);
        expect(inspect(error, { showHidden: true, depth: 20 })).toContain(MASKED);
        expect(a.seen.filter((s) => s.path === '/upload')).toHaveLength(1);
        expect(await client.getAccessToken()).toBe('tok-2');
      });

      it('other failures pass through untouched: a 500, a refused connection', async () => {
        const t = await tokens();
        const a = await server((_req, res) => json(res, 500, { error: 'boom' }));
        const api = axios.create({ baseURL: a.origin });
        attachProdoAuth(api, closing(tokenClient(t)));
        const error = await api.get('/x').catch((e: unknown) => e);
        expect(axios.isAxiosError(error) && error.response?.status).toBe(500);
        await a.close();
        const refused = await api.get('/x').catch((e: unknown) => e);
        expect(axios.isAxiosError(refused) && refused.code).toMatch(/^ECONN(REFUSED|RESET)$/);
        expect(a.seen).toHaveLength(1);
        expect(t.issued()).toBe(1);
      });
    });

    describe('waiting for a token', () => {
      it('requests waiting for a token hold no socket to the API', async () => {
        const t = await tokens();
        const a = await server();
        const api = axios.create({ baseURL: a.origin });
        attachProdoAuth(api, closing(tokenClient(t)));
        const held = t.hold();
        const pending = Promise.all(Array.from({ length: 20 }, (_, i) => api.get(`/x/${i}`)));
        await held.requested;
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(a.connections()).toBe(0);
        held.release();
        expect((await pending).map((r) => r.status)).toEqual(Array(20).fill(200));
        expect(a.seen.every((s) => s.headers.authorization === 'Bearer tok-1')).toBe(true);
      });

      it("a token endpoint that never answers rejects each waiting request with the client's timeout error, in time", async () => {
        const t = await tokens();
        t.hang();
        const a = await server();
        const api = axios.create({ baseURL: a.origin });
        attachProdoAuth(api, closing(tokenClient(t, { timeoutMs: 300 })));
        const started = Date.now();
        const results = await Promise.allSettled(Array.from({ length: 20 }, () => api.get('/x')));
        // The client's 300 ms deadline, with slack for a loaded machine; a hang would stop at the test timeout.
        expect(Date.now() - started).toBeLessThan(5000);
        for (const r of results) {
          const error = r.status === 'rejected' ? (r.reason as unknown) : undefined;
          expect(isProdoAuthError(error) && error.code).toBe(ErrorCode.TIMEOUT);
        }
        expect(a.connections()).toBe(0);
      });
    });

    describe('the token never shows in an error (axios issues 2648, 4246, 6919)', () => {
      it("a 500: the AxiosError masks the Authorization we added in its config, request and response, and stays axios's error", async () => {
        const t = await tokens();
        const a = await server((_req, res) => json(res, 500, { error: 'boom' }));
        const api = axios.create({ baseURL: a.origin });
        attachProdoAuth(api, closing(tokenClient(t)));
        const error = await api.post('/x', { a: 1 }).catch((e: unknown) => e);
        expect(axios.isAxiosError(error)).toBe(true);
        if (!axios.isAxiosError(error)) return;
        expect([error.code, error.response?.status, error.response?.data]).toEqual(['ERR_BAD_RESPONSE', 500, { error: 'boom' }]);
        expect(a.seen[0]?.headers.authorization).toBe('Bearer tok-1');
        expect(printed(error)).not.toMatch(TOKENS);
        expect(error.config?.headers.get('authorization')).toBe(MASKED);
        expect(error.response?.config.headers.get('authorization')).toBe(MASKED);
        expect(sentHeader(error, 'authorization')).toBe(MASKED);
        expect(JSON.stringify(error.toJSON())).toContain(MASKED);
      });

      it('a 401 that survives the retry: the error the retry throws masks the new token, and the first one shows nowhere', async () => {
        const t = await tokens();
        const a = await server((_req, res) => json(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer' }));
        const api = axios.create({ baseURL: a.origin });
        attachProdoAuth(api, closing(tokenClient(t)));
        const error = await api.get('/x').catch((e: unknown) => e);
        expect(axios.isAxiosError(error) && [error.code, error.response?.status]).toEqual(['ERR_BAD_REQUEST', 401]);
        expect(a.seen.map((s) => bearerOf(s))).toEqual(['tok-1', 'tok-2']);
        expect(printed(error)).not.toMatch(TOKENS);
        expect(sentHeader(error, 'authorization')).toBe(MASKED);
      });

      it('network errors: a refused connection and a reset one carry no token', async () => {
        const t = await tokens();
        const a = await server((req) => void req.socket.destroy());
        const closed = await server();
        await closed.close();
        const api = axios.create({ baseURL: a.origin });
        attachProdoAuth(api, closing(tokenClient(t)), { origins: [a.origin, closed.origin] });
        const reset = await api.get('/x').catch((e: unknown) => e);
        expect(axios.isAxiosError(reset) && reset.code).toBe('ECONNRESET');
        expect(a.seen[0]?.headers.authorization).toBe('Bearer tok-1');
        expect(printed(reset)).not.toMatch(TOKENS);
        const refused = await api.get(`${closed.origin}/x`).catch((e: unknown) => e);
        expect(axios.isAxiosError(refused) && refused.code).toBe('ECONNREFUSED');
        expect(axios.isAxiosError(refused) && refused.config?.headers.get('authorization')).toBe(MASKED);
        expect(printed(refused)).not.toMatch(TOKENS);
      });

      it('a timeout carries no token', async () => {
        const t = await tokens();
        const a = await server(() => undefined);
        const api = axios.create({ baseURL: a.origin, timeout: 100 });
        attachProdoAuth(api, closing(tokenClient(t)));
        const error = await api.get('/hang').catch((e: unknown) => e);
        expect(axios.isAxiosError(error) && error.code).toBe('ECONNABORTED');
        expect(a.seen[0]?.headers.authorization).toBe('Bearer tok-1');
        expect(printed(error)).not.toMatch(TOKENS);
      });

      it("a caller's own Authorization stays in the error: it is theirs", async () => {
        const t = await tokens();
        const a = await server((_req, res) => json(res, 500, {}));
        const api = axios.create({ baseURL: a.origin });
        attachProdoAuth(api, closing(tokenClient(t)));
        const error = await api.get('/x', { headers: { Authorization: 'Basic c3ZjOnN2Yw==' } }).catch((e: unknown) => e);
        expect(axios.isAxiosError(error) && error.config?.headers.get('authorization')).toBe('Basic c3ZjOnN2Yw==');
        expect(sentHeader(error, 'authorization')).toBe('Basic c3ZjOnN2Yw==');
      });

      it("an error's config sent again (as axios-retry does) gets the current token, not the masked header, and only where allowed", async () => {
        const t = await tokens();
        let calls = 0;
        const a = await server((_req, res) => json(res, ++calls === 1 ? 503 : 200, {}));
        const b = await server();
        const api = axios.create({ baseURL: a.origin });
        attachProdoAuth(api, closing(tokenClient(t)));
        const error = await api.get('/x').catch((e: unknown) => e);
        if (!axios.isAxiosError(error) || error.config === undefined) throw new Error('expected an AxiosError');
        expect((await api.request(error.config)).status).toBe(200);
        await api.request({ ...error.config, baseURL: b.origin });
        expect(a.seen.map((s) => s.headers.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-1']);
        expect(b.seen.map((s) => s.headers.authorization)).toEqual([undefined]);
      });
    });

    describe('attach and detach', () => {
      it('detaching removes both interceptors: no token, no retry', async () => {
        const t = await tokens();
        const a = await server(protectedApi(t));
        const api = axios.create({ baseURL: a.origin });
        const detach = attachProdoAuth(api, closing(tokenClient(t)));
        await api.get('/warm');
        detach();
        const error = await api.get('/x').catch((e: unknown) => e);
        expect(axios.isAxiosError(error) && error.response?.status).toBe(401);
        expect(a.seen.map((s) => [s.path, s.headers.authorization])).toEqual([
          ['/warm', 'Bearer tok-1'],
          ['/x', undefined],
        ]);
        expect(t.issued()).toBe(1);
      });

      it('attaching twice leaves one set of interceptors; the earlier detach is then a no-op', async () => {
        const t = await tokens();
        const a = await server(protectedApi(t));
        const client = closing(tokenClient(t));
        const headers = vi.spyOn(client, 'requestHeaders');
        const api = axios.create({ baseURL: a.origin });
        const first = attachProdoAuth(api, client);
        const second = attachProdoAuth(api, client);
        await api.get('/one');
        expect(headers).toHaveBeenCalledOnce();
        first();
        await api.get('/two');
        expect(headers).toHaveBeenCalledTimes(2);
        second();
        await api.get('/three').catch(() => undefined);
        expect(a.seen.map((s) => s.headers.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-1', undefined]);
      });
    });
  });
}
