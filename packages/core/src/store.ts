import type { StoredTokenSet } from './token-set.js';

/**
 * Where token clients keep their tokens. `memoryStore()` serves one process; a shared store (Redis)
 * lets a fleet share tokens, and its `withLock` makes one refresh serve the whole fleet.
 *
 * What a store shared by several clients (processes, or clients in one process) must provide:
 * - `get` returns what the last `set` for the key stored, as every sharer sees it (no stale
 *   replica reads), or undefined once it expired or was deleted; values round-trip as JSON.
 *   A value of the wrong shape is reported as a `store_error`, deleted and read as a miss.
 * - `withLock` for the guarantee of one token request per expiry and of a refresh token never
 *   presented twice: it must exclude every other holder of the same key across all sharers until
 *   `fn` settles or `ttlMs` passes. Without it, the client records its claim on a refresh in the
 *   entry, waits 50 ms and re-reads before presenting the refresh token; of clients that raced,
 *   the one whose claim survived refreshes and the others wait for its result. That is safe only
 *   while a store's writes land within those 50 ms; a store that cannot promise it must offer
 *   `withLock`.
 * - Before presenting a refresh token, the client overwrites the entry with the same tokens minus
 *   the refresh token, so that a client that dies or fails to write its result never leaves a spent
 *   refresh token for another to send again. When that write fails, the refresh token is not
 *   presented at all: the client uses its primary credentials (or reports that the user must log in)
 *   and keeps the refresh token for when the store is back.
 */
export interface TokenStore {
  /** The value under `key`, or undefined (null is read as undefined too). */
  get(key: string): Promise<StoredTokenSet | undefined>;
  /** Stores a value for `ttlMs` milliseconds (`Infinity`: until deleted or evicted). */
  set(key: string, value: StoredTokenSet, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Runs `fn` while holding a lock on `key` that expires after `ttlMs`, so that only one holder
   * at a time, across every process sharing the store, requests tokens for that key. A store
   * shared by several clients should offer it: see {@link TokenStore}.
   */
  withLock?<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T>;
}

export interface MemoryStoreOptions {
  /**
   * Most entries kept; the least recently used is evicted beyond it.
   * @default 10000
   */
  maxEntries?: number | undefined;
}

interface Entry {
  value: StoredTokenSet;
  expiresAt: number;
}

/**
 * An in-process TokenStore: a Map with expiry and a size cap. The default store.
 *
 * @example
 * const store = memoryStore({ maxEntries: 1000 });
 * const a = createTokenClient({ grant, store });
 */
/** The stores memoryStore() made: they answer at once, so their calls need no deadline timer. */
const answersAtOnce = new WeakSet<TokenStore>();

/** Whether `store` is one of memoryStore()'s (not a copy or a wrapper of one). */
export const isMemoryStore = (store: TokenStore): boolean => answersAtOnce.has(store);

export function memoryStore(options: MemoryStoreOptions = {}): TokenStore {
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, Entry>();
  const locks = new Map<string, Promise<unknown>>();
  const store: TokenStore = {
    get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return Promise.resolve(undefined);
      if (Date.now() >= entry.expiresAt) {
        entries.delete(key);
        return Promise.resolve(undefined);
      }
      // Re-insert to keep Map order = least recently used first.
      entries.delete(key);
      entries.set(key, entry);
      return Promise.resolve(entry.value);
    },
    set(key, value, ttlMs) {
      entries.delete(key);
      if (ttlMs > 0) {
        entries.set(key, { value, expiresAt: Date.now() + ttlMs });
        if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      }
      return Promise.resolve();
    },
    delete(key) {
      entries.delete(key);
      return Promise.resolve();
    },
    // The token client already makes one request per process; this serialises clients that
    // share one memory store under the same key.
    async withLock(key, _ttlMs, fn) {
      const previous = locks.get(key) ?? Promise.resolve();
      const run = previous.then(fn, fn);
      const tail = run.catch(() => undefined);
      locks.set(key, tail);
      try {
        return await run;
      } finally {
        if (locks.get(key) === tail) locks.delete(key);
      }
    },
  };
  answersAtOnce.add(store);
  return store;
}
