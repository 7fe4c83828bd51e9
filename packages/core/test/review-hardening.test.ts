/**
 * An adversarial second look at the #13 hardening: the same classes of bug beside each fixed one.
 * A WAS / FIXED comment above a test names a problem this review found and how it was fixed; the
 * others guard behaviour that held and was not yet tested. Real HTTP on 127.0.0.1 only.
 */
import { inspect } from 'node:util';
import { fetch as undiciFetch, Agent, Dispatcher, request as undiciRequest } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  authInterceptor,
  createAuthorizedFetch,
  createTokenClient,
  ErrorCode,
  isProdoAuthError,
  passwordGrant,
  SecretSet,
  TokenSet,
  type Grant,
  type TokenClient,
  type TokenStore,
} from '../src/index.js';
import { startOAuthServer, type OAuthServer } from './helpers/oauth-server.js';
import { json, startServer, type TestServer } from './helpers/token-server.js';

const ACCESS = 'review-access-token-5f1c9a';
const REFRESH = 'review-refresh-token-7d2e4b';

/** A grant of our own shape (the Grant interface is public): no network, a known token. */
function fixedGrant(accessToken = ACCESS): Grant {
  return {
    type: 'review',
    cacheKey: 'review',
    secrets: new SecretSet(),
    canObtain: true,
    obtain: async () =>
      new TokenSet({ accessToken, refreshToken: REFRESH, expiresAt: Date.now() + 3_600_000, refreshExpiresAt: Date.now() + 7_200_000 }),
  };
}

/** Everything a log line could show of a value: inspect with hidden fields, deep, and JSON. */
function everything(value: unknown): string {
  let asJson = '';
  try {
    asJson = JSON.stringify(value) ?? '';
  } catch {
    // Circular: inspect covers it.
  }
  return `${inspect(value, { showHidden: true, depth: Infinity })}\n${asJson}`;
}

const clients: TokenClient[] = [];
const track = (c: TokenClient): TokenClient => (clients.push(c), c);
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

let auth: OAuthServer;
let api: TestServer;
let other: TestServer;
beforeAll(async () => {
  auth = await startOAuthServer();
  api = await startServer((req, res) => json(res, 200, { path: req.path }));
  other = await startServer((req, res) => json(res, 200, { path: req.path }));
});
afterAll(async () => {
  await Promise.all([auth.close(), api.close(), other.close()]);
});

describe('review: store errors reach store_error without the tokens', () => {
  // WAS: DefaultTokenClient#write and #claimRefresh (src/token-client.ts) emit the store's
  // error object as it is. A store's error may hold the value it was given: ioredis attaches
  // `command: { name, args }` to every ReplyError (OOM, READONLY replica, WRONGTYPE), and args[1]
  // is the serialised token set (access and refresh token) unless encryptionKey is set. A
  // `client.on('store_error', (e) => log.warn(e))` then writes both tokens to the logs.
  // FIXED: in token-client.ts, emit `sanitizeCause(error, (t) => this.#secrets.redact(t))` (or wrap it
  // in a ProdoAuthError with that sanitized cause) for every store_error, as transport.ts does for
  // dispatcher errors; the client's SecretSet already knows the recent tokens.
  it('store_error never carries the access or refresh token the store put in its error', async () => {
    const failingStore: TokenStore = {
      get: async () => undefined,
      set: async (key, value) => {
        // What ioredis throws for `SET key value PX ttl` on a full Redis.
        throw Object.assign(new Error("OOM command not allowed when used memory > 'maxmemory'."), {
          name: 'ReplyError',
          command: { name: 'set', args: [key, JSON.stringify(value), 'PX', '3600000'] },
        });
      },
      delete: async () => undefined,
    };
    const client = track(createTokenClient({ grant: fixedGrant(), store: failingStore }));
    const seen: unknown[] = [];
    client.on('store_error', (event) => seen.push(event));
    expect(await client.getAccessToken()).toBe(ACCESS);
    expect(seen.length).toBeGreaterThan(0);
    for (const event of seen) {
      const text = everything(event);
      expect(text).not.toContain(ACCESS);
      expect(text).not.toContain(REFRESH);
    }
  });
});

describe('review: a store that never answers', () => {
  // WAS: DefaultTokenClient#read / #write / #claimRefresh (src/token-client.ts) await the
  // store with no deadline. With a shared Redis that is down, ioredis queues commands until it
  // reconnects (enableOfflineQueue, maxRetriesPerRequest: null as BullMQ and many apps set it), so
  // store.get never settles, and every caller of the single-flight acquisition waits forever,
  // far past timeoutMs: the transport deadline fixed in #13 does not cover the store. DESIGN.md
  // says that with Redis down clients "fall back to their own memory cache and keep serving".
  // FIXED: bound each store call in token-client.ts (e.g. a `#storeCall(op, fn)` that races the
  // store's promise against a timer of timeoutMs, emits store_error with ErrorCode.TIMEOUT and
  // treats get as a miss, set as unrecorded); also bound withLock's wait for the lock.
  it('getAccessToken settles within a bound when store.get never answers', async () => {
    const stuckStore: TokenStore = {
      get: () => new Promise(() => undefined),
      set: async () => undefined,
      delete: async () => undefined,
    };
    const client = track(createTokenClient({ grant: fixedGrant(), store: stuckStore, timeoutMs: 300 }));
    const outcome = await Promise.race([
      client.getAccessToken().then(
        () => 'settled',
        () => 'settled',
      ),
      new Promise((r) => setTimeout(() => r('still pending'), 2000).unref()),
    ]);
    expect(outcome).toBe('settled');
  });
});

describe('review: a token set of this copy from a custom grant is checked like any other', () => {
  // WAS: TokenSet.from (src/token-set.ts) returns an instance of this copy's TokenSet
  // unchecked (`if (tokenSet instanceof TokenSet) return tokenSet`), and the TokenSet constructor
  // does not validate. A JavaScript custom grant (Grant is a public interface) that builds
  // `new TokenSet({ accessToken: data.token })` from a response without that field makes the client
  // cache `undefined` and send `Authorization: Bearer undefined` for the whole lifetime: the bug of
  // #13 item 9, by the grant path instead of the store path. Foreign TokenSets are checked already.
  // FIXED: in TokenSet.from, run storedTokenSetIssues on the public fields for own instances too
  // (cheap: once per token response), throwing INVALID_RESPONSE as for foreign ones.
  it('a custom grant resolving with a TokenSet without an access token is an INVALID_RESPONSE', async () => {
    const grant: Grant = {
      ...fixedGrant(),
      obtain: async () => new TokenSet({ accessToken: undefined as unknown as string, expiresAt: Date.now() + 60_000 }),
    };
    const client = track(createTokenClient({ grant }));
    await expect(client.getAccessToken()).rejects.toMatchObject({ code: ErrorCode.INVALID_RESPONSE });
  });
});

describe('review: the transport deadline with dispatchers that misbehave', () => {
  const grantFor = (tokenUrl: string): Grant =>
    passwordGrant({ tokenUrl, clientId: 'app', clientSecret: 'client-secret-9f8e', username: 'alice', password: 'p@ss w/rd+1' });

  it('a dispatcher that never calls its handler and ignores the abort signal fails at timeoutMs with ERR_PRODO_AUTH_TIMEOUT', async () => {
    class BlackHole extends Dispatcher {
      override dispatch(): boolean {
        return true;
      }
    }
    const blackHole = new BlackHole();
    const client = track(createTokenClient({ grant: grantFor(auth.tokenUrl), dispatcher: blackHole, timeoutMs: 300, retry: { retries: 0 } }));
    const started = performance.now();
    const error = await client.getAccessToken().catch((e: unknown) => e);
    expect(isProdoAuthError(error) && error.code).toBe(ErrorCode.TIMEOUT);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('a dispatcher that throws an error holding the request as sent gives an error without any secret', async () => {
    // A custom dispatcher (a logging wrapper, an old proxy agent) that puts the request in its error.
    class Leaky extends Dispatcher {
      override dispatch(opts: Dispatcher.DispatchOptions): boolean {
        const headers = JSON.stringify(opts.headers);
        throw Object.assign(new Error(`cannot send ${headers} ${String(opts.body)}`), {
          code: 'ECONNRESET',
          request: { headers: opts.headers, body: opts.body },
        });
      }
    }
    const leaky = new Leaky();
    const client = track(createTokenClient({ grant: grantFor(auth.tokenUrl), dispatcher: leaky, timeoutMs: 1000, retry: { retries: 0 } }));
    const events: unknown[] = [];
    client.on('refresh_error', (e) => events.push(e));
    const error = await client.getAccessToken().catch((e: unknown) => e);
    expect(isProdoAuthError(error) && error.code).toBe(ErrorCode.NETWORK);
    const basic = Buffer.from('app:client-secret-9f8e').toString('base64');
    for (const text of [everything(error), String((error as Error).stack), everything(events)]) {
      for (const secret of ['client-secret-9f8e', 'p@ss w/rd+1', 'p%40ss+w%2Frd%2B1', basic]) expect(text).not.toContain(secret);
    }
  });
});

describe('review: what is checked is what is sent, in more URL forms', () => {
  // Inputs that all point at `other` (or nowhere) in some spelling; none may carry the token there.
  const otherForms = (port: string): string[] => [
    `http:127.0.0.1:${port}/x`,
    `HTTP:127.0.0.1:${port}/x`,
    `//127.0.0.1:${port}/x`,
    `\\\\127.0.0.1:${port}/x`,
    `/\t/127.0.0.1:${port}/x`,
    `\n//127.0.0.1:${port}/x`,
    `http://127.0.0.%31:${port}/x`,
    `http://0x7f.0.0.1:${port}/x`,
    `http://2130706433:${port}/x`,
    `http://127.1:${port}/x`,
    `http://127.0.0.1:${port}\t/x`,
    `http://user@127.0.0.1:${port}/x`,
    `http://127.0.0.1:0${port}/x`,
  ];

  it('createAuthorizedFetch (global and undici fetch) never sends the token to another port of the same host', async () => {
    const port = new URL(other.url).port;
    for (const fetchImpl of [undefined, undiciFetch]) {
      const client = track(createTokenClient({ grant: fixedGrant(), apiUrl: `${api.url}/api` }));
      const apiFetch = createAuthorizedFetch(client, fetchImpl === undefined ? {} : { fetch: fetchImpl as typeof fetch });
      other.requests.length = 0;
      for (const input of otherForms(port)) {
        const res = await apiFetch(input).catch((e: unknown) => e);
        if (res instanceof Response || (res as { status?: unknown }).status !== undefined) await (res as Response).arrayBuffer();
      }
      expect(other.requests.length).toBeGreaterThan(0);
      expect(other.requests.map((r) => r.headers.authorization)).toEqual(other.requests.map(() => undefined));
    }
  });

  it('client.fetch refuses every other-port spelling with a ConfigError and sends nothing', async () => {
    const port = new URL(other.url).port;
    const client = track(createTokenClient({ grant: fixedGrant(), apiUrl: `${api.url}/api` }));
    other.requests.length = 0;
    for (const input of otherForms(port)) {
      const error = await client.fetch(input).then(
        (r) => r,
        (e: unknown) => e,
      );
      expect(isProdoAuthError(error) && error.code, input).toBe(ErrorCode.CONFIG);
    }
    expect(other.requests).toEqual([]);
  });

  it('authInterceptor never adds the token for an origin spelt differently from the API', async () => {
    const port = new URL(other.url).port;
    const client = track(createTokenClient({ grant: fixedGrant(), apiUrl: api.url }));
    const agent = new Agent().compose(authInterceptor(client));
    other.requests.length = 0;
    try {
      for (const origin of [`http://127.0.0.1:${port}`, `http://127.1:${port}`, `http://0x7f.0.0.1:${port}`, `http://127.0.0.1:0${port}`]) {
        const { body } = await undiciRequest(`${origin}/x`, { dispatcher: agent });
        await body.dump();
      }
    } finally {
      await agent.close();
    }
    expect(other.requests.length).toBe(4);
    expect(other.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
  });
});

describe('review: options are read from the object given, not from its prototype chain', () => {
  // WAS: createAuthorizedFetch and authInterceptor read `options.origins` /
  // `options.dangerouslyAllowInsecureHttp` with a plain property read (src/outbound/authorized-fetch.ts,
  // src/outbound/undici-interceptor.ts), and allowedOrigins (src/outbound/origins.ts) does the same
  // for attachProdoAuth; the default options object is `{}`. An inherited `origins` is therefore
  // honoured: a prototype pollution anywhere in the app (a deep merge of request JSON, a vulnerable
  // query-string parser) that sets `Object.prototype.origins` makes every adapter built with default
  // options send the token to the attacker's origin. checkFields in src/validation.ts has the same
  // shape (`input[key]` for known keys, Object.keys for unknown ones), so a polluted
  // `dangerouslyAllowInsecureHttp: true` turns off the http-off-loopback rule of every factory.
  // FIXED: read options through one helper that takes own properties only
  // (`Object.hasOwn(o, k) ? o[k] : undefined`) in allowedOrigins, createAuthorizedFetch,
  // authInterceptor, attachProdoAuth and checkFields (src/validation.ts).
  it('an inherited `origins` (a polluted Object.prototype) never widens where the token goes', async () => {
    const client = track(createTokenClient({ grant: fixedGrant(), apiUrl: api.url }));
    const proto = Object.prototype as { origins?: unknown };
    proto.origins = [other.url];
    let apiFetch: typeof fetch;
    try {
      apiFetch = createAuthorizedFetch(client);
    } finally {
      delete proto.origins;
    }
    other.requests.length = 0;
    const res = await apiFetch(`${other.url}/x`);
    await res.arrayBuffer();
    expect(other.requests).toHaveLength(1);
    expect(other.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('an inherited dangerouslyAllowInsecureHttp never lets a plain-http token endpoint off loopback through', () => {
    const proto = Object.prototype as { dangerouslyAllowInsecureHttp?: unknown };
    proto.dangerouslyAllowInsecureHttp = true;
    try {
      expect(() =>
        passwordGrant({ tokenUrl: 'http://auth.example.com/token', clientId: 'app', username: 'alice', password: 'wonderland' }),
      ).toThrow(expect.objectContaining({ code: ErrorCode.CONFIG }));
    } finally {
      delete proto.dangerouslyAllowInsecureHttp;
    }
  });
});
