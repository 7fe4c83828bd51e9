/**
 * Errors while a request with the token is built or sent: through TokenClient#fetch,
 * createAuthorizedFetch and authInterceptor they reach the caller as ProdoAuthErrors whose message,
 * stack and cause chain hold no token. A custom Grant (a public interface) hands out tokens no
 * header can carry; real servers on 127.0.0.1, never a mock fetch.
 */
import { inspect } from 'node:util';
import { Agent, fetch as undiciFetch, request, type Dispatcher } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  authInterceptor,
  createAuthorizedFetch,
  createTokenClient,
  ErrorCode,
  isProdoAuthError,
  SecretSet,
  staticTokenGrant,
  TokenSet,
  type Grant,
  type TokenClient,
} from '../../src/index.js';
import { json, startServer, type TestServer } from '../helpers/token-server.js';

let api: TestServer;
const clients: TokenClient[] = [];
const agents: Agent[] = [];

beforeAll(async () => {
  api = await startServer((_req, res) => json(res, 200, { ok: true }));
});
beforeEach(() => {
  api.requests.length = 0;
});
afterEach(async () => {
  await Promise.all([...clients.splice(0).map((c) => c.close()), ...agents.splice(0).map((a) => a.close())]);
});
afterAll(async () => {
  await api.close();
});

/** A Grant anyone could write: it hands out `accessToken` as it is. */
function grantOf(accessToken: string): Grant {
  return {
    type: 'custom',
    cacheKey: `custom-${Math.random().toString(36).slice(2)}`,
    secrets: new SecretSet(),
    canObtain: true,
    obtain: () => Promise.resolve(new TokenSet({ accessToken, expiresAt: Date.now() + 3_600_000 })),
  };
}

function clientWith(grant: Grant, apiUrl = api.url): TokenClient {
  const c = createTokenClient({ grant, apiUrl, retry: { retries: 0 } });
  clients.push(c);
  return c;
}

function agent(c: TokenClient): Dispatcher {
  const a = new Agent();
  agents.push(a);
  return a.compose(authInterceptor(c));
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

/** Everything a log could show of an error: message, stack, hidden properties, the cause chain. */
function everything(error: unknown): string {
  return inspect(error, { showHidden: true, depth: 10 });
}

const unsendable: Array<[string, string]> = [
  ['CR LF and a header', 'abc\r\nX-Evil: 1'],
  ['LF', 'tok-abc\ndef-123'],
  ['NUL', 'tok-abc\u0000def-123'],
  ['a character above U+00FF', 'tok-abc\u20acdef-123'],
];

const senders: Array<[string, (c: TokenClient) => Promise<unknown>]> = [
  ['TokenClient#fetch', (c) => c.fetch('/api')],
  ['createAuthorizedFetch (global fetch)', (c) => createAuthorizedFetch(c)('/api')],
  ["createAuthorizedFetch (undici's fetch)", (c) => createAuthorizedFetch(c, { fetch: undiciFetch })('/api')],
  ['authInterceptor with request()', (c) => request(`${api.url}/api`, { dispatcher: agent(c) })],
];

describe.each(senders)('%s: a token no header can carry', (_name, send) => {
  it.each(unsendable)('with %s: rejects with INVALID_RESPONSE, sends nothing, never shows the token', async (_what, token) => {
    const error = await rejection(send(clientWith(grantOf(token))));
    expect(isProdoAuthError(error)).toBe(true);
    expect(error).toMatchObject({ code: ErrorCode.INVALID_RESPONSE });
    const shown = everything(error);
    expect(shown).not.toContain(token);
    expect(shown).not.toContain(JSON.stringify(token).slice(1, -1));
    expect(shown).not.toContain('X-Evil');
    expect(JSON.stringify(error)).not.toContain('X-Evil');
    expect(api.requests).toHaveLength(0);
  });
});

describe('authInterceptor with fetch: a token no header can carry', () => {
  it("reaches undici's fetch as the cause, INVALID_RESPONSE, without the token", async () => {
    const token = 'abc\r\nX-Evil: 1';
    const error = await rejection(undiciFetch(`${api.url}/api`, { dispatcher: agent(clientWith(grantOf(token))) }));
    expect((error as { cause?: unknown }).cause).toMatchObject({ code: ErrorCode.INVALID_RESPONSE });
    expect(everything(error)).not.toContain('X-Evil');
    expect(api.requests).toHaveLength(0);
  });
});

describe('a request with the token that cannot be sent', () => {
  const TOKEN = 'live-token-0123456789';
  let gone: string;
  beforeAll(async () => {
    const s = await startServer(() => undefined);
    gone = s.url;
    await s.close();
  });

  it.each(senders.slice(0, 3))('%s: the API down rejects with a NETWORK ProdoAuthError, its cause kept, no token', async (_name, send) => {
    const error = await rejection(send(clientWith(staticTokenGrant({ token: TOKEN }), gone)));
    expect(isProdoAuthError(error)).toBe(true);
    expect(error).toMatchObject({ code: ErrorCode.NETWORK });
    expect((error as Error).message).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/api: the request to the API could not be sent/);
    // The network error itself is still there for the caller to inspect.
    expect(everything(error)).toMatch(/ECONNREFUSED/);
    expect(everything(error)).not.toContain(TOKEN);
  });

  it("createAuthorizedFetch: the caller's own abort rejects with the caller's reason, not wrapped", async () => {
    api.handler = () => new Promise<void>(() => {}); // never answers
    try {
      const reason = new Error('caller gave up');
      const controller = new AbortController();
      const pending = createAuthorizedFetch(clientWith(staticTokenGrant({ token: TOKEN })))('/api', { signal: controller.signal });
      setTimeout(() => controller.abort(reason), 50);
      expect(await rejection(pending)).toBe(reason);
    } finally {
      api.handler = (_req, res) => json(res, 200, { ok: true });
    }
  });
});
