/**
 * The eight TokenClient rules of DESIGN.md, each against a real token server on 127.0.0.1.
 * Only the clock is controlled (Date), so expiry can be reached without waiting.
 */
import { describe, expect, it } from 'vitest';
import {
  authorizationCodeGrant,
  ErrorCode,
  ReauthenticationRequiredError,
  SecretSet,
  TokenSet,
  type RefreshErrorEvent,
  type StoredTokenSet,
  type TokenStore,
  type TokenClient,
} from '../src/index.js';
import { usePasswordClients } from './helpers/password-clients.js';
import { fakeJwt, json, startServer } from './helpers/token-server.js';

const h = usePasswordClients();
const { client, advance } = h;

/** Waits until a condition holds, polling. */
async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > timeoutMs) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}


describe('rule 1: a fresh cached token is returned with no I/O', () => {
  it('answers 100 calls after the first from cache, even with the server gone', async () => {
    const c = client();
    const first = await c.getAccessToken();
    await h.server.close();
    const again = await Promise.all(Array.from({ length: 100 }, () => c.getAccessToken()));
    expect(new Set(again)).toEqual(new Set([first]));
    expect(h.server.tokenRequests()).toHaveLength(1);
  });
});

describe('rule 2: inside the refresh window the current token is served while one background refresh runs', () => {
  it('returns the old token at once and refreshes once in the background', async () => {
    const c = client({ refreshSkewSeconds: 60 });
    const first = await c.getAccessToken();
    advance(3600_000 - 30_000); // 30 s before expiry: inside the 60 s window
    h.server.options.delayMs = 300; // a slow refresh callers must not wait for
    const started = performance.now();
    const during = await Promise.all(Array.from({ length: 50 }, () => c.getAccessToken()));
    expect(performance.now() - started).toBeLessThan(200);
    expect(new Set(during)).toEqual(new Set([first]));
    // Once the refresh lands, the new token is served, from cache.
    let next = first;
    for (let i = 0; i < 200 && next === first; i++) {
      await new Promise((r) => setTimeout(r, 10));
      next = await c.getAccessToken();
    }
    expect(h.server.live.has(next) && next !== first).toBe(true);
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(1);
    expect(h.server.tokenRequests('password')).toHaveLength(1);
  });

  it('clamps the skew to half of a short lifetime', async () => {
    h.server.options.expiresIn = 10;
    const c = client({ refreshSkewSeconds: 300 });
    await c.getAccessToken();
    advance(4000); // 6 s left: outside a window clamped to 5 s
    await c.getAccessToken();
    await new Promise((r) => setTimeout(r, 50)); // room for a (wrong) background refresh to reach the server
    expect(h.server.tokenRequests()).toHaveLength(1);
    advance(1500); // 4.5 s left: inside
    await c.getAccessToken();
    await until(() => h.server.tokenRequests('refresh_token').length === 1);
  });
});

describe('rule 3: callers of a missing or expired token share one acquisition', () => {
  it('makes exactly one token request for 1,000 concurrent callers on an empty cache', async () => {
    const c = client();
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => c.getAccessToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(h.server.tokenRequests()).toHaveLength(1);
  });

  it('is single-flight within the process even with a store that has no lock', async () => {
    const entries = new Map<string, StoredTokenSet>();
    const store: TokenStore = {
      get: async (key) => entries.get(key),
      set: async (key, value) => void entries.set(key, value),
      delete: async (key) => void entries.delete(key),
    };
    const c = client({ store });
    await Promise.all(Array.from({ length: 1000 }, () => c.getAccessToken()));
    expect(h.server.tokenRequests()).toHaveLength(1);
  });

  it('makes exactly one refresh for 1,000 concurrent callers on an expired token', async () => {
    const c = client();
    const first = await c.getAccessToken();
    advance(3600_000 + 1000);
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => c.getAccessToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(first);
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(1);
    expect(h.server.tokenRequests()).toHaveLength(2);
  });

  it('shares a failure too: one request, every caller gets the same typed error', async () => {
    h.server.override = (_req, res) => (json(res, 400, { error: 'invalid_grant', error_description: 'locked' }), true);
    const c = client();
    const results = await Promise.allSettled(Array.from({ length: 200 }, () => c.getAccessToken()));
    expect(results.every((r) => r.status === 'rejected' && r.reason.code === ErrorCode.OAUTH)).toBe(true);
    expect(h.server.tokenRequests()).toHaveLength(1);
  });
});

describe('rule 4: refresh first, then the primary grant, else ReauthenticationRequiredError', () => {
  it('uses the refresh_token grant while the refresh token is valid', async () => {
    const c = client();
    const first = await c.getTokenSet();
    advance(3600_000);
    await c.getAccessToken();
    const [refresh] = h.server.tokenRequests('refresh_token');
    expect(refresh?.params.refresh_token).toBe(first.refreshToken);
    expect(h.server.tokenRequests('password')).toHaveLength(1);
  });

  it('falls back to the password grant on invalid_grant', async () => {
    const c = client();
    await c.getAccessToken();
    advance(3600_000);
    h.server.override = (req, res) =>
      req.params.grant_type === 'refresh_token' && (json(res, 400, { error: 'invalid_grant' }), true);
    const token = await c.getAccessToken();
    expect(h.server.live.has(token)).toBe(true);
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(1);
    expect(h.server.tokenRequests('password')).toHaveLength(2);
  });

  it('uses the primary grant when the server gave no refresh token', async () => {
    h.server.options.issueRefreshTokens = false;
    const c = client();
    await c.getAccessToken();
    advance(3600_000);
    await c.getAccessToken();
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(0);
    expect(h.server.tokenRequests('password')).toHaveLength(2);
  });

  it('does not try a refresh token past its refresh_expires_in', async () => {
    h.server.options.refreshExpiresIn = 60;
    h.server.options.expiresIn = 300;
    const c = client();
    await c.getAccessToken();
    advance(301_000);
    await c.getAccessToken();
    expect(h.server.tokenRequests('refresh_token')).toHaveLength(0);
    expect(h.server.tokenRequests('password')).toHaveLength(2);
  });

  it('throws ReauthenticationRequiredError when there are no primary credentials', async () => {
    const grant = authorizationCodeGrant({
      authorizeUrl: `${h.server.url}/authorize`,
      tokenUrl: h.server.tokenUrl,
      clientId: 'app',
      redirectUri: 'http://127.0.0.1/cb',
    });
    const c = client({ grant });
    await expect(c.getAccessToken()).rejects.toBeInstanceOf(ReauthenticationRequiredError);
    await c.setTokenSet(
      new TokenSet({ accessToken: 'seeded', refreshToken: 'unknown-to-server', expiresAt: Date.now() - 1 }),
    );
    const error = await c.getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReauthenticationRequiredError);
    expect((error as ReauthenticationRequiredError).code).toBe(ErrorCode.REAUTHENTICATION_REQUIRED);
    expect(((error as Error).cause as { error?: string }).error).toBe('invalid_grant');
  });
});

describe('rule 5: expiry', () => {
  it('counts expires_in from when the request was sent, not when the answer came', async () => {
    h.server.options.delayMs = 400;
    const c = client();
    const sent = Date.now();
    const set = await c.getTokenSet();
    expect(set.expiresAt).toBeGreaterThanOrEqual(sent + 3600_000);
    expect(set.expiresAt).toBeLessThan(sent + 3600_000 + 200);
  });

  it('takes the JWT exp when it is earlier than expires_in', async () => {
    const exp = Math.floor(Date.now() / 1000) + 120;
    h.server.override = (_req, res) =>
      (json(res, 200, { access_token: fakeJwt({ exp }), token_type: 'Bearer', expires_in: 3600 }), true);
    const c = client();
    expect((await c.getTokenSet()).expiresAt).toBe(exp * 1000);
    advance(121_000);
    await c.getAccessToken();
    expect(h.server.tokenRequests()).toHaveLength(2);
  });

  it('keeps expires_in when it is earlier than the JWT exp', async () => {
    const exp = Math.floor(Date.now() / 1000) + 7200;
    h.server.override = (_req, res) =>
      (json(res, 200, { access_token: fakeJwt({ exp }), token_type: 'Bearer', expires_in: 60 }), true);
    const set = await client().getTokenSet();
    expect(set.expiresAt! - set.issuedAt).toBe(60_000);
  });

  it('without either, the token is valid until the API rejects it', async () => {
    h.server.options.expiresIn = undefined;
    const c = client();
    const first = await c.getAccessToken();
    advance(365 * 24 * 3600_000);
    expect(await c.getAccessToken()).toBe(first);
    expect(h.server.tokenRequests()).toHaveLength(1);
    await c.invalidate(first);
    expect(await c.getAccessToken()).not.toBe(first);
  });
});

describe('rule 6: invalidate(token) only drops that token', () => {
  it('a late invalidate(oldToken) keeps the newer token', async () => {
    const c = client();
    const old = await c.getAccessToken();
    await c.invalidate(old);
    const newer = await c.getAccessToken();
    expect(newer).not.toBe(old);
    await c.invalidate(old); // the late 401 of a request that used `old`
    expect(await c.getAccessToken()).toBe(newer);
    expect(h.server.tokenRequests()).toHaveLength(2);
  });

  it('keeps the refresh token when the access token is dropped', async () => {
    const c = client();
    const set = await c.getTokenSet();
    await c.invalidate();
    await c.getAccessToken();
    expect(h.server.tokenRequests('refresh_token')[0]?.params.refresh_token).toBe(set.refreshToken);
  });
});

describe('rule 7: a refresh token is never sent twice', () => {
  it('always sends the newest one, each exactly once, over many rotations', async () => {
    const c = client();
    const issued: Array<string | undefined> = [];
    c.on('token', (e) => issued.push(e.tokenSet.refreshToken));
    for (let i = 0; i < 10; i++) {
      await c.getAccessToken();
      advance(3600_000);
    }
    const sent = h.server.receivedRefreshTokens();
    expect(sent).toHaveLength(9);
    expect(new Set(sent).size).toBe(9);
    // Each refresh sent the token issued by the response just before it.
    expect(sent).toEqual(issued.slice(0, 9));
  });

  it('keeps using a refresh token the server returned again unchanged (no rotation)', async () => {
    h.server.options.rotate = false;
    const c = client();
    const first = await c.getTokenSet();
    for (let i = 0; i < 3; i++) {
      advance(3600_000);
      await c.getAccessToken();
    }
    expect(h.server.receivedRefreshTokens()).toEqual([first.refreshToken, first.refreshToken, first.refreshToken]);
    expect(h.server.tokenRequests('password')).toHaveLength(1);
  });

  it('does not resend a refresh token whose outcome was unclear (5xx), but logs in again', async () => {
    const c = client({ retry: { retries: 3, minDelayMs: 1, maxDelayMs: 5 } });
    const set = await c.getTokenSet();
    advance(3600_000);
    h.server.override = (req, res) =>
      req.params.grant_type === 'refresh_token' && (json(res, 500, { message: 'oops' }), true);
    const token = await c.getAccessToken();
    expect(h.server.live.has(token)).toBe(true);
    expect(h.server.receivedRefreshTokens()).toEqual([set.refreshToken]);
    expect(h.server.tokenRequests('password')).toHaveLength(2);
  });

  it('does not resend a refresh token after a dropped connection', async () => {
    const c = client({ retry: { retries: 3, minDelayMs: 1, maxDelayMs: 5 } });
    await c.getAccessToken();
    advance(3600_000);
    h.server.override = (req, res) => req.params.grant_type === 'refresh_token' && (res.socket?.destroy(), true);
    await c.getAccessToken();
    expect(h.server.receivedRefreshTokens()).toHaveLength(1);
    expect(h.server.tokenRequests('password')).toHaveLength(2);
  });
});

describe('rule 7, the other side: a refresh token that never left the machine is not spent', () => {
  it('keeps it when the token endpoint refused the connection, and uses it once the server is back', async () => {
    const port = Number(new URL(h.server.url).port);
    await h.server.close(); // connections to this port are now refused
    const grant = authorizationCodeGrant({
      authorizeUrl: `${h.server.url}/authorize`,
      tokenUrl: h.server.tokenUrl,
      clientId: 'app',
      redirectUri: 'http://127.0.0.1/cb',
    });
    const c = client({ grant });
    await c.setTokenSet(new TokenSet({ accessToken: 'old', refreshToken: 'still-good', expiresAt: Date.now() - 1 }));
    const refused = await c.getAccessToken().catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: ErrorCode.NETWORK, requestSent: false });
    const back = await startServer((req, res) => {
      const ok = req.params.refresh_token === 'still-good';
      json(res, ok ? 200 : 400, ok ? { access_token: 'renewed', token_type: 'Bearer' } : { error: 'invalid_grant' });
    }, port);
    try {
      expect(await c.getAccessToken()).toBe('renewed');
      expect(back.requests.map((r) => r.params.refresh_token)).toEqual(['still-good']);
    } finally {
      await back.close();
    }
  });
});

describe('rule 8: while a refresh fails, a still-valid token keeps being served', () => {
  it('serves the current token and reports refresh_error', async () => {
    const c = client();
    const events: RefreshErrorEvent[] = [];
    c.on('refresh_error', (e) => events.push(e));
    const first = await c.getAccessToken();
    advance(3600_000 - 10_000); // inside the window, still valid
    h.server.override = (_req, res) => (json(res, 503, { message: 'down' }), true);
    expect(await c.getAccessToken()).toBe(first);
    // One event for the failed refresh, one for the failed fallback login; both while serving.
    await until(() => events.length === 2);
    expect(events.map((e) => e.servingCurrentToken)).toEqual([true, true]);
    expect(await c.getAccessToken()).toBe(first);
    // It keeps serving; the background retries are spaced out, not one per call.
    for (let i = 0; i < 20; i++) await c.getAccessToken();
    expect(h.server.tokenRequests().length).toBeLessThan(6);
  });

  it('fails once the token has expired too', async () => {
    const c = client();
    await c.getAccessToken();
    h.server.override = (_req, res) => (json(res, 503, { message: 'down' }), true);
    advance(3600_000 + 1);
    const error = await c.getAccessToken().catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe(ErrorCode.HTTP_STATUS);
  });
});

describe('lifecycle', () => {
  it('close() rejects later calls with a typed error', async () => {
    const c = client();
    await c.getAccessToken();
    await c.close();
    await expect(c.getAccessToken()).rejects.toMatchObject({ code: ErrorCode.CLOSED });
  });

  it('close() aborts a request in flight', async () => {
    h.server.options.delayMs = 2000;
    const c = client();
    const pending = c.getAccessToken().catch((e: unknown) => e);
    await until(() => h.server.raw.requests.length === 1);
    await c.close();
    expect(((await pending) as { code?: string }).code).toBe(ErrorCode.CLOSED);
  });

  it('supports await using', async () => {
    let closedClient: TokenClient;
    {
      await using c = client();
      closedClient = c;
      await c.getAccessToken();
    }
    await expect(closedClient.getAccessToken()).rejects.toMatchObject({ code: ErrorCode.CLOSED });
  });

  it('emits token and token_request events without token values', async () => {
    const c = client();
    const seen: string[] = [];
    c.on('token', (e) => seen.push(`token:${e.source}:${JSON.stringify(e.tokenSet)}`));
    c.on('token_request', (e) => seen.push(`request:${e.kind}:${e.outcome}:${e.grant}`));
    const token = await c.getAccessToken();
    expect(seen).toEqual([expect.stringMatching(/^request:obtain:success:password$/), expect.stringMatching(/^token:obtain:/)]);
    expect(seen.join()).not.toContain(token);
  });
});

describe('fetch()', () => {
  it('adds the token, and on a 401 invalidates it and retries once with a new one', async () => {
    const c = client();
    const first = await c.getAccessToken();
    h.server.live.delete(first); // the API revoked it
    const res = await c.fetch('/api');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: string };
    expect(body.token).not.toBe(first);
    expect(h.server.raw.requestsTo('/api')).toHaveLength(2);
  });

  it('hands a second 401 to the caller intact', async () => {
    const c = client();
    h.server.override = (req, res) => {
      if (req.path !== '/token') return false;
      json(res, 200, { access_token: `never-live-${h.server.raw.requests.length}`, token_type: 'Bearer', expires_in: 60 });
      return true;
    };
    const res = await c.fetch('/api');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    expect(h.server.raw.requestsTo('/api')).toHaveLength(2);
  });

  it('refuses to send the token to another origin than apiUrl', async () => {
    const c = client();
    await expect(c.fetch('http://127.0.0.2:1/elsewhere')).rejects.toMatchObject({ code: ErrorCode.CONFIG });
    expect(h.server.tokenRequests()).toHaveLength(0);
  });
});

describe('custom grants', () => {
  const custom = (result: unknown) => ({
    type: 'custom',
    cacheKey: `custom-${Math.random()}`,
    secrets: new SecretSet(),
    canObtain: true,
    obtain: () => Promise.resolve(result as TokenSet),
  });

  it('a grant resolving with an accessToken that is not a string is a typed error, never Bearer undefined', async () => {
    const c = client({ grant: custom({ accessToken: 42 }) });
    const error = await c.authorizationHeader().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.INVALID_RESPONSE });
    expect((error as Error).message).toContain('accessToken');
  });

  it('a grant resolving with a plain object of the TokenSet shape works', async () => {
    const c = client({ grant: custom({ accessToken: 'duck', expiresAt: Date.now() + 60_000 }) });
    expect(await c.authorizationHeader()).toBe('Bearer duck');
    expect((await c.getTokenSet()).tokenType).toBe('Bearer');
  });
});
