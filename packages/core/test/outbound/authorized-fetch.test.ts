/**
 * createAuthorizedFetch (and TokenClient#fetch, which shares its send-with-retry step) against a
 * real token server, a real protected API and an unrelated host, all on 127.0.0.1. Never a mock fetch.
 */
import { fetch as undiciFetch } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import {
  ConfigError,
  createAuthorizedFetch,
  createTokenClient,
  ErrorCode,
  isProdoAuthError,
  passwordGrant,
  PROCURIOS_MEDIA_TYPE,
} from '../../src/index.js';
import { json, startServer, type TestServer } from '../helpers/token-server.js';
import { bearer, herdHandler, protectedApi, rejectToken, startNetwork, until, type Network } from './fixtures.js';

let net: Network;
const extraServers: TestServer[] = [];

beforeAll(async () => {
  net = await startNetwork();
});
beforeEach(() => net.reset());
afterEach(() => net.closeClients());
afterAll(async () => {
  await Promise.all(extraServers.splice(0).map((s) => s.close()));
  await net.close();
});

async function extraServer(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const server = await startServer(...args);
  extraServers.push(server);
  return server;
}

const fetchImplementations = [
  ['the global fetch', undefined],
  ["undici's fetch", undiciFetch],
] as const;

describe('createAuthorizedFetch: types', () => {
  it("has the signature of the fetch it wraps: the global one by default, undici's when given it", () => {
    const c = net.client();
    expectTypeOf(createAuthorizedFetch(c)).toEqualTypeOf<typeof globalThis.fetch>();
    expectTypeOf(createAuthorizedFetch(c, { fetch: undiciFetch })).toEqualTypeOf<typeof undiciFetch>();
    // @ts-expect-error `fetch` must be a function
    createAuthorizedFetch(c, { fetch: 'https://api.example.com' });
  });
});

describe('createAuthorizedFetch: which requests get the token', () => {
  it('adds the token for the API origin, resolving a relative path against apiUrl', async () => {
    const apiFetch = createAuthorizedFetch(net.client());
    const res = await apiFetch('/api/things');
    expect(res.status).toBe(200);
    const seen = net.api.requests[0]!;
    expect(seen.path).toBe('/api/things');
    expect(net.auth.live.has(bearer(seen)!)).toBe(true);
  });

  it('sends nothing to another origin: no token, no API headers, no token request', async () => {
    const apiFetch = createAuthorizedFetch(net.procuriosClient());
    const res = await apiFetch(`${net.other.url}/elsewhere`, { headers: { 'x-caller': 'kept' } });
    expect(res.status).toBe(200);
    const seen = net.other.requests[0]!;
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers.accept).not.toBe(PROCURIOS_MEDIA_TYPE);
    expect(seen.headers['x-caller']).toBe('kept');
    expect(net.tokenRequests()).toBe(0);
  });

  it('does not treat another origin\'s 401 as a token rejection', async () => {
    const c = net.client();
    const token = await c.getAccessToken();
    net.other.handler = (_req, res) => rejectToken(res);
    const res = await createAuthorizedFetch(c)(`${net.other.url}/x`);
    expect(res.status).toBe(401);
    expect(net.other.requests).toHaveLength(1);
    expect(await c.getAccessToken()).toBe(token);
    expect(net.tokenRequests()).toBe(1);
  });

  it('with `origins`, gives the token to exactly those origins', async () => {
    const apiFetch = createAuthorizedFetch(net.client(), { origins: [`${net.other.url}/any/path`] });
    await (await apiFetch(`${net.other.url}/x`)).arrayBuffer();
    expect(bearer(net.other.requests[0]!)).toBeDefined();
    // apiUrl is no longer allowed once `origins` is given.
    const res = await apiFetch(`${net.api.url}/api`);
    expect(res.status).toBe(401);
    expect(net.api.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('refuses to be created with no origin to send the token to', () => {
    const noApiUrl = net.client({ apiUrl: undefined });
    expect(() => createAuthorizedFetch(noApiUrl)).toThrow(ConfigError);
  });

  it('rejects a relative URL when the client has no apiUrl', async () => {
    const apiFetch = createAuthorizedFetch(net.client({ apiUrl: undefined }), { origins: [net.api.url] });
    await expect(apiFetch('/api')).rejects.toMatchObject({ code: ErrorCode.CONFIG });
  });

  it('leaves a caller-set Authorization alone: no token, no retry', async () => {
    const apiFetch = createAuthorizedFetch(net.client());
    const res = await apiFetch('/api', { headers: { Authorization: 'Basic dXNlcjpwYXNz' } });
    expect(res.status).toBe(401);
    expect(net.api.requests).toHaveLength(1);
    expect(net.api.requests[0]!.headers.authorization).toBe('Basic dXNlcjpwYXNz');
    expect(net.tokenRequests()).toBe(0);
  });

  it('leaves the Authorization of a Request input alone', async () => {
    const apiFetch = createAuthorizedFetch(net.client());
    const res = await apiFetch(new Request(`${net.api.url}/api`, { headers: { authorization: 'Basic abc' } }));
    expect(res.status).toBe(401);
    expect(net.api.requests.map((r) => r.headers.authorization)).toEqual(['Basic abc']);
    expect(net.tokenRequests()).toBe(0);
  });

  it("sends the client's API headers (the Procurios media type) unless the request sets its own Accept", async () => {
    const apiFetch = createAuthorizedFetch(net.procuriosClient());
    const byDefault = (await (await apiFetch('/api')).json()) as { accept: string };
    expect(byDefault.accept).toBe(PROCURIOS_MEDIA_TYPE);
    const own = (await (await apiFetch('/api', { headers: { Accept: 'text/csv' } })).json()) as { accept: string };
    expect(own.accept).toBe('text/csv');
    const ownOnRequest = (await (await apiFetch(new Request(`${net.api.url}/api`, { headers: { accept: 'text/plain' } }))).json()) as {
      accept: string;
    };
    expect(ownOnRequest.accept).toBe('text/plain');
  });
});

describe.each(fetchImplementations)('createAuthorizedFetch with %s: redirects', (_name, fetchImpl) => {
  it('never carries the token to another origin on a redirect', async () => {
    net.api.handler = (req, res) => {
      if (req.path === '/to-other') {
        res.writeHead(302, { location: `${net.other.url}/landing` }).end();
        return;
      }
      return protectedApi(net.auth.live)(req, res);
    };
    const apiFetch = createAuthorizedFetch(net.client(), { fetch: fetchImpl });
    const res = await apiFetch('/to-other');
    expect(res.status).toBe(200);
    expect(res.url).toBe(`${net.other.url}/landing`);
    // The API got the token, the other origin did not.
    expect(bearer(net.api.requests[0]!)).toBeDefined();
    expect(net.other.requests).toHaveLength(1);
    expect(net.other.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('keeps the token on a redirect within the origin', async () => {
    net.api.handler = (req, res) => {
      if (req.path === '/moved') {
        res.writeHead(307, { location: '/api/new-home' }).end();
        return;
      }
      return protectedApi(net.auth.live)(req, res);
    };
    const res = await createAuthorizedFetch(net.client(), { fetch: fetchImpl })('/moved');
    expect(res.status).toBe(200);
    expect(net.api.requests.map((r) => [r.path, bearer(r) !== undefined])).toEqual([
      ['/moved', true],
      ['/api/new-home', true],
    ]);
  });

  it("does not spend the token on a 401 from the origin a redirect led to", async () => {
    net.api.handler = (req, res) => {
      if (req.path === '/to-other') {
        res.writeHead(302, { location: `${net.other.url}/deny` }).end();
        return;
      }
      return protectedApi(net.auth.live)(req, res);
    };
    net.other.handler = (_req, res) => rejectToken(res);
    const c = net.client();
    const token = await c.getAccessToken();
    const res = await createAuthorizedFetch(c, { fetch: fetchImpl })('/to-other');
    expect(res.status).toBe(401);
    expect(net.api.requests).toHaveLength(1);
    expect(await c.getAccessToken()).toBe(token);
    expect(net.tokenRequests()).toBe(1);
  });
});

describe('createAuthorizedFetch: a rejected token', () => {
  it('on a 401, invalidates the token it used and retries once with a new one', async () => {
    const c = net.client();
    const first = await c.getAccessToken();
    net.auth.live.delete(first); // the API revoked it
    const res = await createAuthorizedFetch(c)('/api', { method: 'POST', body: 'payload' });
    expect(res.status).toBe(200);
    const tokens = net.api.requests.map(bearer);
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).toBe(first);
    expect(tokens[1]).not.toBe(first);
    expect(net.api.requests.map((r) => r.body)).toEqual(['payload', 'payload']);
    expect(net.tokenRequests()).toBe(2);
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
    const res = await createAuthorizedFetch(c)('/api');
    expect(res.status).toBe(200);
    expect(net.api.requests.map(bearer)).toEqual([first, expect.not.stringMatching(first)]);
  });

  it('does not retry a 403 that is not about the token (insufficient_scope)', async () => {
    net.api.handler = (_req, res) => {
      res.writeHead(403, { 'www-authenticate': 'Bearer error="insufficient_scope"' }).end();
    };
    const c = net.client();
    const token = await c.getAccessToken();
    const res = await createAuthorizedFetch(c)('/api');
    expect(res.status).toBe(403);
    expect(net.api.requests).toHaveLength(1);
    expect(await c.getAccessToken()).toBe(token);
  });

  it('invalidates exactly the token the request used: a late 401 keeps a newer token', async () => {
    const c = net.client();
    const first = await c.getAccessToken();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    net.api.handler = async (req, res) => {
      if (bearer(req) === first) await held; // answer only once the client has moved on to a newer token
      return protectedApi(net.auth.live)(req, res);
    };
    const pending = createAuthorizedFetch(c)('/api');
    await until(() => net.api.requests.length === 1);
    net.auth.live.delete(first);
    await c.invalidate(first);
    const second = await c.getAccessToken(); // token request 2
    release();
    const res = await pending;
    expect(res.status).toBe(200);
    // The late 401 for `first` did not throw `second` away: the retry used it, with no third request.
    expect(net.api.requests.map(bearer)).toEqual([first, second]);
    expect(net.tokenRequests()).toBe(2);
    expect(await c.getAccessToken()).toBe(second);
  });

  it('hands a second 401 to the caller with the response intact', async () => {
    net.auth.override = (req, res) => {
      if (req.path !== '/token') return false;
      json(res, 200, { access_token: `never-live-${net.auth.raw.requests.length}`, token_type: 'Bearer', expires_in: 60 });
      return true;
    };
    const res = await createAuthorizedFetch(net.client())('/api');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(await res.text()).toBe('token rejected');
    expect(net.api.requests).toHaveLength(2);
  });

  it('cancels the rejected response before the retry', async () => {
    let firstClosed = false;
    net.api.handler = (req, res) => {
      const token = bearer(req);
      if (token !== undefined && net.auth.live.has(token)) return protectedApi(net.auth.live)(req, res);
      // A rejection whose body never ends: only a cancel frees its connection.
      res.on('close', () => (firstClosed = true));
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' });
      res.write('still streaming');
    };
    const c = net.client();
    net.auth.live.delete(await c.getAccessToken());
    const res = await createAuthorizedFetch(c)('/api');
    expect(res.status).toBe(200);
    await until(() => firstClosed, 2000);
  });

  it('does not retry a stream body: invalidates the token, rejects with BODY_NOT_REPLAYABLE', async () => {
    const c = net.client();
    const first = await c.getAccessToken();
    net.auth.live.delete(first);
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'));
        controller.close();
      },
    });
    const error = await createAuthorizedFetch(c)('/api', { method: 'POST', body, duplex: 'half' } as RequestInit).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isProdoAuthError(error)).toBe(true);
    expect(error).toMatchObject({ code: ErrorCode.BODY_NOT_REPLAYABLE });
    expect((error as Error).message).toMatch(/stream/);
    expect((error as Error).message).toMatch(/buffer the body/);
    expect((error as Error).message).not.toContain(first);
    const response = (error as { response?: Response }).response;
    expect(response?.status).toBe(401);
    expect(await response?.text()).toBe('token rejected');
    expect(Object.keys(error as object)).not.toContain('response');
    expect(net.api.requests).toHaveLength(1);
    // The rejected token is gone: the next call gets a new one.
    expect(await c.getAccessToken()).not.toBe(first);
    expect(net.tokenRequests()).toBe(2);
  });

  it('does not retry a Request input that carries a body, and retries one that does not', async () => {
    const c = net.client();
    const apiFetch = createAuthorizedFetch(c);
    net.auth.live.delete(await c.getAccessToken());
    await expect(apiFetch(new Request(`${net.api.url}/api`, { method: 'PUT', body: 'in the request' }))).rejects.toMatchObject({
      code: ErrorCode.BODY_NOT_REPLAYABLE,
    });
    expect(net.api.requests).toHaveLength(1);

    net.auth.live.delete(await c.getAccessToken());
    const res = await apiFetch(new Request(`${net.api.url}/api`));
    expect(res.status).toBe(200);
    expect(net.api.requests).toHaveLength(3);
  });

  it('500 concurrent requests rejected at once make exactly 1 token request, and all succeed on retry', async () => {
    const n = 500;
    const c = net.client();
    const first = await c.getAccessToken();
    const { held } = (net.api.handler = herdHandler(net.auth.live, first, n));
    const apiFetch = createAuthorizedFetch(c);
    const responses = await Promise.all(Array.from({ length: n }, () => apiFetch('/api')));
    expect(held).toHaveLength(n);
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const retried = new Set(net.api.requests.map(bearer).filter((t) => t !== first));
    expect(retried.size).toBe(1);
    expect(net.tokenRequests()).toBe(2); // the first token, then exactly one for the 500 rejections
    await Promise.all(responses.map((r) => r.arrayBuffer()));
  });
});

describe('createAuthorizedFetch: waiting for a token', () => {
  it('holds no socket while the token is on its way', async () => {
    const api = await extraServer(protectedApi(net.auth.live));
    net.auth.options.delayMs = 500;
    const apiFetch = createAuthorizedFetch(net.client({ apiUrl: api.url }));
    const pending = Promise.all(Array.from({ length: 20 }, () => apiFetch('/api')));
    await until(() => net.auth.raw.requests.length === 1);
    await new Promise((r) => setTimeout(r, 250));
    expect(api.connections).toBe(0);
    expect(api.requests).toHaveLength(0);
    const responses = await pending;
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(net.tokenRequests()).toBe(1);
  });

  it('rejects with the typed TIMEOUT error within the client\'s timeoutMs when the token endpoint hangs', async () => {
    const hanging = await extraServer(() => new Promise<void>(() => {}));
    const timeoutMs = 300;
    const c = createTokenClient({
      grant: passwordGrant({ tokenUrl: `${hanging.url}/token`, clientId: 'app', username: 'alice', password: 'wonderland' }),
      apiUrl: net.api.url,
      timeoutMs,
    });
    try {
      const started = performance.now();
      await expect(createAuthorizedFetch(c)('/api')).rejects.toMatchObject({ code: ErrorCode.TIMEOUT });
      expect(performance.now() - started).toBeLessThan(timeoutMs + 700);
      expect(net.api.requests).toHaveLength(0);
    } finally {
      await c.close();
    }
  });

  it('rejects with the typed NETWORK error when the token endpoint is down', async () => {
    const gone = await startServer(() => undefined);
    await gone.close();
    const c = net.client({
      grant: passwordGrant({ tokenUrl: `${gone.url}/token`, clientId: 'app', username: 'alice', password: 'wonderland' }),
      timeoutMs: 2000,
    });
    await expect(createAuthorizedFetch(c)('/api')).rejects.toMatchObject({ code: ErrorCode.NETWORK });
    expect(net.api.requests).toHaveLength(0);
  });
});

describe('TokenClient#fetch shares the rules', () => {
  it('does not retry a stream body: rejects with BODY_NOT_REPLAYABLE and drops the token', async () => {
    const c = net.client();
    const first = await c.getAccessToken();
    net.auth.live.delete(first);
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'));
        controller.close();
      },
    });
    await expect(c.fetch('/api', { method: 'POST', body, duplex: 'half' })).rejects.toMatchObject({
      code: ErrorCode.BODY_NOT_REPLAYABLE,
    });
    expect(net.api.requests).toHaveLength(1);
    expect(await c.getAccessToken()).not.toBe(first);
  });

  it('still refuses another origin than apiUrl, with a ConfigError', async () => {
    const c = net.client();
    await expect(c.fetch(`${net.other.url}/x`)).rejects.toBeInstanceOf(ConfigError);
    expect(net.other.requests).toHaveLength(0);
  });
});
