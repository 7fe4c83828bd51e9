/**
 * The token client and the store it is given: what it does with a value of the wrong shape, and
 * how clients sharing one store keep rule 7 (a refresh token is never sent twice) when the store
 * has no `withLock` or its writes fail. Real token server on 127.0.0.1; only Date is faked.
 */
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  isProdoAuthError,
  memoryStore,
  TokenSet,
  type StoreErrorEvent,
  type StoredTokenSet,
  type TokenStore,
} from '../src/index.js';
import { usePasswordClients } from './helpers/password-clients.js';

const h = usePasswordClients();
const { client, advance } = h;

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

interface RemoteLikeStore extends TokenStore {
  entries: Map<string, { value: unknown; expiresAt: number }>;
  /** Makes `set` reject for the values it returns true for. */
  failSet?: ((value: StoredTokenSet) => boolean) | undefined;
}

/**
 * A shared store the way a remote one behaves: every call takes a turn of the event loop, values
 * cross it as JSON, and there is no `withLock` unless asked for.
 */
function remoteLikeStore(options: { lock?: boolean } = {}): RemoteLikeStore {
  const entries = new Map<string, { value: unknown; expiresAt: number }>();
  const locking = memoryStore();
  const store: RemoteLikeStore = {
    entries,
    async get(key) {
      await tick();
      const e = entries.get(key);
      if (e === undefined || Date.now() >= e.expiresAt) return undefined;
      return JSON.parse(JSON.stringify(e.value)) as StoredTokenSet;
    },
    async set(key, value, ttlMs) {
      await tick();
      if (store.failSet?.(value)) throw new Error('store write failed');
      entries.set(key, { value: JSON.parse(JSON.stringify(value)), expiresAt: Date.now() + ttlMs });
    },
    async delete(key) {
      await tick();
      entries.delete(key);
    },
  };
  if (options.lock) store.withLock = (key, ttlMs, fn) => locking.withLock!(key, ttlMs, fn);
  return store;
}

/** How often each refresh token reached the server, for those sent more than once. */
function presentedTwice(): string[] {
  const counts = new Map<string, number>();
  for (const t of h.server.receivedRefreshTokens()) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts].filter(([, n]) => n > 1).map(([t]) => t);
}


describe('a store value of the wrong shape is reported, deleted and read as a miss', () => {
  const bad: Array<[string, unknown, string]> = [
    ['an empty object', {}, 'accessToken'],
    ['a numeric accessToken', { accessToken: 42, tokenType: 'Bearer', issuedAt: 1 }, 'accessToken'],
    ['a string', 'not-a-token-set', 'must be an object'],
    ['null fields', { accessToken: null, tokenType: null, issuedAt: null }, 'issuedAt'],
    [
      'a non-finite expiry and a refresh token of the wrong type',
      { accessToken: 'stored-secret-at', tokenType: 'Bearer', issuedAt: 1, expiresAt: 'soon', refreshToken: ['stored-secret-rt'] },
      'expiresAt',
    ],
  ];

  for (const [label, value, field] of bad) {
    it(`never sends Bearer undefined for ${label}: store_error names the field, the key is deleted, a real token is fetched`, async () => {
      const store = remoteLikeStore();
      const c = client({ store, storeKey: 'k' });
      store.entries.set('k', { value, expiresAt: Infinity });
      const errors: StoreErrorEvent[] = [];
      c.on('store_error', (e) => errors.push(e));

      const token = await c.getAccessToken();
      expect(h.server.live.has(token)).toBe(true);
      expect(await c.authorizationHeader()).toBe(`Bearer ${token}`);
      const res = await c.fetch('/api');
      expect(res.status).toBe(200);

      expect(errors).toHaveLength(1);
      const [{ operation, error }] = errors as [StoreErrorEvent];
      expect(operation).toBe('get');
      expect(isProdoAuthError(error)).toBe(true);
      expect((error as { code: string }).code).toBe(ErrorCode.INVALID_STORED_VALUE);
      const message = (error as Error).message;
      expect(message).toContain(field);
      expect(message).not.toMatch(/stored-secret|not-a-token-set|soon|42/);
      // The bad value is gone; what is there now is the client's own, valid set.
      expect(TokenSet.fromStored(store.entries.get('k')?.value).accessToken).toBe(token);
      expect(h.server.tokenRequests()).toHaveLength(1);
    });
  }

  it('reads null optional fields (a store that serialises undefined as null) as absent', async () => {
    const store = remoteLikeStore();
    const c = client({ store, storeKey: 'k' });
    const value = { accessToken: 'kept', tokenType: 'Bearer', issuedAt: Date.now(), expiresAt: Date.now() + 60_000, refreshToken: null, scope: null, raw: null };
    store.entries.set('k', { value, expiresAt: Infinity });
    const errors: StoreErrorEvent[] = [];
    c.on('store_error', (e) => errors.push(e));
    expect(await c.getAccessToken()).toBe('kept');
    expect(errors).toEqual([]);
    expect(h.server.tokenRequests()).toHaveLength(0);
  });
});

describe('rule 7 across clients sharing a store', () => {
  it('two clients on a shared store without withLock present each rotating refresh token once', async () => {
    const store = remoteLikeStore();
    const a = client({ store });
    const b = client({ store });
    const first = await a.getAccessToken();
    expect(await b.getAccessToken()).toBe(first); // from the store
    for (let round = 0; round < 4; round++) {
      advance(3600_000 + 1000);
      const [ta, tb] = await Promise.all([a.getAccessToken(), b.getAccessToken()]);
      expect(h.server.live.has(ta)).toBe(true);
      expect(h.server.live.has(tb)).toBe(true);
    }
    expect(presentedTwice()).toEqual([]);
    expect(h.server.receivedRefreshTokens()).toHaveLength(4);
    // The client that lost the race waited for the winner's tokens instead of logging in.
    expect(h.server.tokenRequests('password')).toHaveLength(1);
  });

  it('a client that finds another refreshing keeps serving the still-valid access token', async () => {
    const store = remoteLikeStore();
    const a = client({ store });
    const first = await a.getAccessToken();
    advance(3600_000 - 30_000); // inside the refresh window, still valid
    h.server.options.delayMs = 300;
    expect(await a.getAccessToken()).toBe(first); // starts the background refresh
    const deadline = performance.now() + 2000;
    while (h.server.tokenRequests('refresh_token').length === 0 && performance.now() < deadline) await tick();
    const c = client({ store });
    const started = performance.now();
    expect(await c.getAccessToken()).toBe(first);
    expect(performance.now() - started).toBeLessThan(200);
    expect(h.server.tokenRequests()).toHaveLength(2);
  });

  it('when writing the new tokens fails, the spent refresh token is not left for another client', async () => {
    const store = remoteLikeStore({ lock: true });
    const a = client({ store });
    const b = client({ store });
    const errors: StoreErrorEvent[] = [];
    a.on('store_error', (e) => errors.push(e));
    const first = await a.getTokenSet();
    await b.getAccessToken();
    advance(3600_000 + 1000);
    // The record of the spent token (no refresh token in it) lands; the new tokens do not.
    store.failSet = (value) => value.refreshToken !== undefined;
    expect(h.server.live.has(await a.getAccessToken())).toBe(true);
    expect(errors.map((e) => e.operation)).toEqual(['set']);
    expect(h.server.live.has(await b.getAccessToken())).toBe(true);
    expect(h.server.receivedRefreshTokens()).toEqual([first.refreshToken]);
    expect(h.server.tokenRequests('password')).toHaveLength(2);
  });

  it('when the store cannot record a refresh token as spent, no client presents it', async () => {
    const store = remoteLikeStore({ lock: true });
    const a = client({ store });
    const b = client({ store });
    const errors: StoreErrorEvent[] = [];
    a.on('store_error', (e) => errors.push(e));
    await a.getAccessToken();
    await b.getAccessToken();
    advance(3600_000 + 1000);
    store.failSet = () => true; // the store takes no writes at all
    expect(h.server.live.has(await a.getAccessToken())).toBe(true);
    expect(h.server.live.has(await b.getAccessToken())).toBe(true);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.operation === 'set')).toBe(true);
    expect(h.server.receivedRefreshTokens()).toEqual([]);
    expect(h.server.tokenRequests('password')).toHaveLength(3);
  });
});
