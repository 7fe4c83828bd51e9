/**
 * authInterceptor on a real undici Agent (`new Agent().compose(authInterceptor(client))`), driven by
 * undici's `request` and `fetch`, against a real token server, protected API and unrelated host on
 * 127.0.0.1.
 */
import { Readable } from 'node:stream';
import { Agent, fetch as undiciFetch, interceptors, request, type Dispatcher } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  authInterceptor,
  ConfigError,
  createTokenClient,
  ErrorCode,
  passwordGrant,
  PROCURIOS_MEDIA_TYPE,
  type TokenClient,
} from '../../src/index.js';
import { startServer, type TestServer } from '../helpers/token-server.js';
import { bearer, herdHandler, protectedApi, rejectToken, startNetwork, until, type Network } from './fixtures.js';

let net: Network;
const agents: Agent[] = [];
const extraServers: TestServer[] = [];

beforeAll(async () => {
  net = await startNetwork();
});
beforeEach(() => net.reset());
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
  await net.closeClients();
});
afterAll(async () => {
  await Promise.all(extraServers.splice(0).map((s) => s.close()));
  await net.close();
});

/** A fresh Agent composed with the interceptors, closed after the test. */
function agent(...interceptorList: Dispatcher.DispatcherComposeInterceptor[]): Dispatcher {
  const a = new Agent();
  agents.push(a);
  return a.compose(...interceptorList);
}

/** `request` that reads the whole body. */
async function send(
  dispatcher: Dispatcher,
  url: string,
  options: Partial<Dispatcher.RequestOptions> = {},
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const res = await request(url, { dispatcher, ...options } as Parameters<typeof request>[1]);
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

describe('authInterceptor: which requests get the token', () => {
  it('adds the token for the API origin only', async () => {
    const c = net.client();
    const d = agent(authInterceptor(c));
    expect((await send(d, `${net.api.url}/api/things`)).status).toBe(200);
    expect(net.auth.live.has(bearer(net.api.requests[0]!)!)).toBe(true);
    expect((await send(d, `${net.other.url}/elsewhere`)).status).toBe(200);
    expect(net.other.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('passes other origins through untouched: no token request, no API headers', async () => {
    const d = agent(authInterceptor(net.procuriosClient()));
    await send(d, `${net.other.url}/x`, { headers: { 'x-caller': 'kept' } });
    const seen = net.other.requests[0]!;
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers.accept).toBeUndefined();
    expect(seen.headers['x-caller']).toBe('kept');
    expect(net.tokenRequests()).toBe(0);
  });

  it('with `origins`, gives the token to exactly those origins', async () => {
    const d = agent(authInterceptor(net.client(), { origins: [net.other.url] }));
    await send(d, `${net.other.url}/x`);
    expect(bearer(net.other.requests[0]!)).toBeDefined();
    expect((await send(d, `${net.api.url}/api`)).status).toBe(401);
    expect(net.api.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('refuses to be created with no origin to send the token to', () => {
    expect(() => authInterceptor(net.client({ apiUrl: undefined }))).toThrow(ConfigError);
  });

  it('judges the origin by opts.origin, not by a path that looks like a URL', async () => {
    const d = agent(authInterceptor(net.client(), { origins: [net.other.url] }));
    // Sent to the API's origin, whatever the path says: no token.
    const res = await d.request({ origin: net.api.url, path: `//${new URL(net.other.url).host}/api`, method: 'GET' });
    await res.body.dump();
    expect(net.api.requests).toHaveLength(1);
    expect(net.api.requests[0]!.headers.authorization).toBeUndefined();
  });

  const shapes: Array<[string, (name: string, value: string) => Dispatcher.DispatchOptions['headers']]> = [
    ['an object', (name, value) => ({ [name]: value, 'x-multi': ['a', 'b'] })],
    ['an array of pairs', (name, value) => [[name, value], ['x-multi', 'a'], ['x-multi', 'b']] as unknown as string[]],
    ['a flat array', (name, value) => [name, value, 'x-multi', 'a', 'x-multi', 'b']],
    ['a Map', (name, value) => new Map<string, string | string[]>([[name, value], ['x-multi', ['a', 'b']]])],
  ];

  it.each(shapes)('reads headers given as %s: keeps the caller\'s, adds the token', async (_shape, make) => {
    const d = agent(authInterceptor(net.procuriosClient()));
    const res = await send(d, `${net.api.url}/api`, { headers: make('Accept', 'text/csv') });
    expect(res.status).toBe(200);
    const seen = net.api.requests[0]!;
    expect(seen.headers.accept).toBe('text/csv');
    expect(seen.headers['x-multi']).toBe('a, b');
    expect(net.auth.live.has(bearer(seen)!)).toBe(true);
  });

  // Not an array of pairs: undici's core itself reads every array as a flat list, and a request it
  // is passed to untouched fails there.
  it.each(shapes.filter(([shape]) => shape !== 'an array of pairs'))('leaves a caller-set Authorization in %s alone: no token, no retry', async (_shape, make) => {
    const d = agent(authInterceptor(net.client()));
    const res = await send(d, `${net.api.url}/api`, { headers: make('AUTHORIZATION', 'Basic dXNlcjpwYXNz') });
    expect(res.status).toBe(401);
    expect(net.api.requests.map((r) => r.headers.authorization)).toEqual(['Basic dXNlcjpwYXNz']);
    expect(net.tokenRequests()).toBe(0);
  });

  it("sends the client's API headers (the Procurios media type) unless the request sets its own Accept", async () => {
    const d = agent(authInterceptor(net.procuriosClient()));
    expect(JSON.parse((await send(d, `${net.api.url}/api`)).text)).toMatchObject({ accept: PROCURIOS_MEDIA_TYPE });
    const viaFetch = await undiciFetch(`${net.api.url}/api`, { dispatcher: d, headers: { accept: 'text/csv' } });
    expect(await viaFetch.json()).toMatchObject({ accept: 'text/csv' });
  });
});

describe('authInterceptor: redirects never carry the token to another origin', () => {
  function redirectingApi(target: string): void {
    net.api.handler = (req, res) => {
      if (req.path === '/to-other') {
        res.writeHead(302, { location: target }).end();
        return;
      }
      return protectedApi(net.auth.live)(req, res);
    };
  }

  it("with undici's fetch following the redirect", async () => {
    redirectingApi(`${net.other.url}/landing`);
    const res = await undiciFetch(`${net.api.url}/to-other`, { dispatcher: agent(authInterceptor(net.client())) });
    expect(res.status).toBe(200);
    expect(bearer(net.api.requests[0]!)).toBeDefined();
    expect(net.other.requests).toHaveLength(1);
    expect(net.other.requests[0]!.headers.authorization).toBeUndefined();
  });

  const orders: Array<[string, (c: TokenClient) => Dispatcher.DispatcherComposeInterceptor[]]> = [
    ['composed after authInterceptor (each hop authorized on its own)', (c) => [authInterceptor(c), interceptors.redirect({ maxRedirections: 3 })]],
    ['composed before authInterceptor (undici strips the header)', (c) => [interceptors.redirect({ maxRedirections: 3 }), authInterceptor(c)]],
  ];

  it.each(orders)('with the redirect interceptor %s', async (_order, chain) => {
    redirectingApi(`${net.other.url}/landing`);
    const res = await send(agent(...chain(net.client())), `${net.api.url}/to-other`);
    expect(res.status).toBe(200);
    expect(bearer(net.api.requests[0]!)).toBeDefined();
    expect(net.other.requests).toHaveLength(1);
    expect(net.other.requests[0]!.headers.authorization).toBeUndefined();
  });

  it.each(orders)("a 401 from the other origin does not spend the token, redirect interceptor %s", async (_order, chain) => {
    redirectingApi(`${net.other.url}/deny`);
    net.other.handler = (_req, res) => rejectToken(res);
    const c = net.client();
    const token = await c.getAccessToken();
    const res = await send(agent(...chain(c)), `${net.api.url}/to-other`);
    expect(res.status).toBe(401);
    expect(net.api.requests).toHaveLength(1);
    expect(await c.getAccessToken()).toBe(token);
    expect(net.tokenRequests()).toBe(1);
  });
});

describe('authInterceptor: a rejected token', () => {
  it('on a 401, invalidates the token it used and re-dispatches once with a new one (string body)', async () => {
    const c = net.client();
    const first = await c.getAccessToken();
    net.auth.live.delete(first);
    const res = await send(agent(authInterceptor(c)), `${net.api.url}/api`, { method: 'POST', body: 'payload' });
    expect(res.status).toBe(200);
    expect(net.api.requests.map(bearer)).toEqual([first, expect.not.stringMatching(first)]);
    expect(net.api.requests.map((r) => r.body)).toEqual(['payload', 'payload']);
    expect(net.tokenRequests()).toBe(2);
  });

  it('retries a Buffer body, and a bodyless request made with fetch', async () => {
    const c = net.client();
    const d = agent(authInterceptor(c));
    net.auth.live.delete(await c.getAccessToken());
    expect((await send(d, `${net.api.url}/api`, { method: 'PUT', body: Buffer.from('bytes') })).status).toBe(200);
    expect(net.api.requests.map((r) => r.body)).toEqual(['bytes', 'bytes']);
    net.auth.live.delete(await c.getAccessToken());
    expect((await undiciFetch(`${net.api.url}/api`, { dispatcher: d })).status).toBe(200);
    expect(net.api.requests).toHaveLength(4);
  });

  it('on a `Bearer error="invalid_token"` challenge without a 401, invalidates and retries once', async () => {
    net.api.handler = (req, res) => {
      const token = bearer(req);
      if (token === undefined || !net.auth.live.has(token)) return rejectToken(res, 400);
      return protectedApi(net.auth.live)(req, res);
    };
    const c = net.client();
    const first = await c.getAccessToken();
    net.auth.live.delete(first);
    expect((await send(agent(authInterceptor(c)), `${net.api.url}/api`)).status).toBe(200);
    expect(net.api.requests.map(bearer)).toEqual([first, expect.not.stringMatching(first)]);
  });

  it('invalidates exactly the token the request used: a late 401 keeps a newer token', async () => {
    const c = net.client();
    const first = await c.getAccessToken();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    net.api.handler = async (req, res) => {
      if (bearer(req) === first) await held;
      return protectedApi(net.auth.live)(req, res);
    };
    const pending = send(agent(authInterceptor(c)), `${net.api.url}/api`);
    await until(() => net.api.requests.length === 1);
    net.auth.live.delete(first);
    await c.invalidate(first);
    const second = await c.getAccessToken();
    release();
    expect((await pending).status).toBe(200);
    expect(net.api.requests.map(bearer)).toEqual([first, second]);
    expect(net.tokenRequests()).toBe(2);
  });

  it('hands a second 401 to the caller with the response intact', async () => {
    net.auth.override = (req, res) => {
      if (req.path !== '/token') return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: `never-live-${net.auth.raw.requests.length}`, token_type: 'Bearer', expires_in: 60 }));
      return true;
    };
    const res = await send(agent(authInterceptor(net.client())), `${net.api.url}/api`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(res.text).toBe('token rejected');
    expect(net.api.requests).toHaveLength(2);
  });

  it('passes a 401 for a stream body through, not retried, and drops the token', async () => {
    const c = net.client();
    const first = await c.getAccessToken();
    net.auth.live.delete(first);
    const res = await send(agent(authInterceptor(c)), `${net.api.url}/api`, {
      method: 'POST',
      body: Readable.from([Buffer.from('streamed')]),
    });
    expect(res.status).toBe(401);
    expect(res.text).toBe('token rejected');
    expect(net.api.requests).toHaveLength(1);
    expect(await c.getAccessToken()).not.toBe(first); // the next caller gets a new token
    expect(net.tokenRequests()).toBe(2);
  });

  /** An API whose rejections send `chunk` (every 5 ms when `repeat`) and never end their body. */
  function endlessRejection(chunk: string, repeat: boolean): { closed: () => boolean } {
    let closed = false;
    net.api.handler = (req, res) => {
      const token = bearer(req);
      if (token !== undefined && net.auth.live.has(token)) return protectedApi(net.auth.live)(req, res);
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"', 'content-type': 'text/plain' });
      res.write(chunk);
      const timer = repeat ? setInterval(() => res.write(chunk), 5) : undefined;
      res.on('close', () => {
        clearInterval(timer);
        closed = true;
      });
    };
    return { closed: () => closed };
  }

  it('a 401 whose body never ends does not hang the request: the rest is discarded after a short wait and the retry goes ahead', async () => {
    const rejection = endlessRejection('still streaming', false);
    const c = net.client();
    const first = await c.getAccessToken();
    net.auth.live.delete(first);
    const started = performance.now();
    const res = await send(agent(authInterceptor(c)), `${net.api.url}/api`);
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(2500);
    expect(net.api.requests.map(bearer)).toEqual([first, expect.not.stringMatching(first)]);
    await until(() => rejection.closed(), 2000);
  });

  it('a 401 whose body streams on and on is aborted past 64 KiB, without waiting, and the retry goes ahead', async () => {
    const rejection = endlessRejection('x'.repeat(16 * 1024), true);
    const c = net.client();
    net.auth.live.delete(await c.getAccessToken());
    const started = performance.now();
    const res = await send(agent(authInterceptor(c)), `${net.api.url}/api`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ path: '/api' });
    // Well under the one-second wait: the byte bound cut it short.
    expect(performance.now() - started).toBeLessThan(900);
    await until(() => rejection.closed(), 2000);
  });

  it("through undici's fetch too, a never-ending 401 body does not hang the request", async () => {
    endlessRejection('still streaming', false);
    const c = net.client();
    net.auth.live.delete(await c.getAccessToken());
    const res = await undiciFetch(`${net.api.url}/api`, { dispatcher: agent(authInterceptor(c)) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ path: '/api' });
  });

  it('500 concurrent requests rejected at once make exactly 1 token request, and all succeed on retry', async () => {
    const n = 500;
    const c = net.client();
    const first = await c.getAccessToken();
    const { held } = (net.api.handler = herdHandler(net.auth.live, first, n));
    const d = agent(authInterceptor(c));
    const responses = await Promise.all(Array.from({ length: n }, () => send(d, `${net.api.url}/api`)));
    expect(held).toHaveLength(n);
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(new Set(net.api.requests.map(bearer).filter((t) => t !== first)).size).toBe(1);
    expect(net.tokenRequests()).toBe(2);
  });
});

describe('authInterceptor: waiting for a token', () => {
  it('holds no socket while the token is on its way', async () => {
    const api = await startServer(protectedApi(net.auth.live));
    extraServers.push(api);
    net.auth.options.delayMs = 500;
    const d = agent(authInterceptor(net.client({ apiUrl: api.url })));
    const pending = Promise.all(Array.from({ length: 20 }, () => send(d, `${api.url}/api`)));
    await until(() => net.auth.raw.requests.length === 1);
    await new Promise((r) => setTimeout(r, 250));
    expect(api.connections).toBe(0);
    expect(api.requests).toHaveLength(0);
    expect((await pending).map((r) => r.status)).toEqual(Array(20).fill(200));
  });

  it("reaches request() and fetch as the client's typed TIMEOUT error within timeoutMs", async () => {
    const hanging = await startServer(() => new Promise<void>(() => {}));
    extraServers.push(hanging);
    const timeoutMs = 300;
    const c = createTokenClient({
      grant: passwordGrant({ tokenUrl: `${hanging.url}/token`, clientId: 'app', username: 'alice', password: 'wonderland' }),
      apiUrl: net.api.url,
      timeoutMs,
    });
    try {
      const d = agent(authInterceptor(c));
      let started = performance.now();
      await expect(send(d, `${net.api.url}/api`)).rejects.toMatchObject({ code: ErrorCode.TIMEOUT });
      expect(performance.now() - started).toBeLessThan(timeoutMs + 700);
      started = performance.now();
      await expect(undiciFetch(`${net.api.url}/api`, { dispatcher: d })).rejects.toMatchObject({
        cause: { code: ErrorCode.TIMEOUT },
      });
      expect(performance.now() - started).toBeLessThan(timeoutMs + 700);
      expect(net.api.requests).toHaveLength(0);
    } finally {
      await c.close();
    }
  });
});
