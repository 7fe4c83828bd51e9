import type { StoredTokenSet } from './token-set.js';

/**
 * Where token clients keep their tokens. `memoryStore()` serves one process; a shared store (Redis)
 * lets a fleet share tokens, and its `withLock` makes one refresh serve the whole fleet.
 */
export interface TokenStore {
  get(key: string): Promise<StoredTokenSet | undefined>;
  /** Stores a value for `ttlMs` milliseconds (`Infinity`: until deleted or evicted). */
  set(key: string, value: StoredTokenSet, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Runs `fn` while holding a lock on `key` that expires after `ttlMs`, so that only one holder
   * at a time, across every process sharing the store, requests tokens for that key.
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
export function memoryStore(options: MemoryStoreOptions = {}): TokenStore {
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, Entry>();
  const locks = new Map<string, Promise<unknown>>();
  return {
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
}
