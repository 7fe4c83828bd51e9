/** Where user sessions and login transactions are kept: an interface, and the in-memory default. */

/** A JSON-safe record: what a session store keeps (a session, a login in progress). */
export type SessionRecord = Readonly<Record<string, string | number | boolean | null>>;

/**
 * Server-side storage for user sessions and login transactions. Keys are hashes (never a session
 * id or a `state` in clear) and values round-trip as JSON. The login flow writes only at sign-in
 * and logout, and when a login starts; an ordinary request only reads.
 *
 * What a store must provide, checked by the shared conformance suite:
 * - `get` returns what the last `set` stored, as every sharer of the store sees it, or undefined
 *   once it expired (`ttlMs`) or was deleted or taken.
 * - `take` reads and deletes in one step: of any number of concurrent `take`s of a key, exactly
 *   one gets the value (a login's `state` works once). Redis: `GETDEL`.
 */
export interface SessionStore {
  get(key: string): Promise<SessionRecord | undefined>;
  /** Stores `value` for `ttlMs` milliseconds. */
  set(key: string, value: SessionRecord, ttlMs: number): Promise<void>;
  /** Returns the value and deletes it, atomically; undefined when there is none. */
  take(key: string): Promise<SessionRecord | undefined>;
  delete(key: string): Promise<void>;
}

export interface MemorySessionStoreOptions {
  /**
   * Most records kept; the least recently used is evicted beyond it (its user is signed out).
   * @default 100000
   */
  maxEntries?: number | undefined;
}

/**
 * A SessionStore in this process's memory: a Map with expiry and a size cap. The default; a
 * fleet of processes needs a shared store.
 *
 * @example
 * const auth = createProdoAuth({ ...options, sessionStore: memorySessionStore({ maxEntries: 50_000 }) });
 */
export function memorySessionStore(options: MemorySessionStoreOptions = {}): SessionStore {
  const maxEntries = options.maxEntries ?? 100_000;
  // A read moves an entry to the newest end (Map order is least recently used first), unless it
  // is already among the newest sixteenth: a session read on every request then costs no
  // delete and re-insert, and an entry that far from the oldest end is not the next one evicted.
  // With a small maxEntries the window is only the newest entry: the order stays exact.
  const window = Math.floor(maxEntries / 16);
  /** Counts insertions: an entry's `seq` minus this tells how many came after it. */
  let seq = 0;
  const entries = new Map<string, { value: SessionRecord; expiresAt: number; seq: number }>();
  const read = (key: string, remove: boolean): SessionRecord | undefined => {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (Date.now() >= entry.expiresAt) {
      entries.delete(key);
      return undefined;
    }
    if (remove) entries.delete(key);
    else if (seq - entry.seq > window) {
      entries.delete(key);
      entry.seq = ++seq;
      entries.set(key, entry);
    }
    return entry.value;
  };
  return {
    get: (key) => Promise.resolve(read(key, false)),
    take: (key) => Promise.resolve(read(key, true)),
    set(key, value, ttlMs) {
      entries.delete(key);
      if (ttlMs > 0) {
        // A copy, as a shared store would keep: a caller mutating its object changes nothing here.
        entries.set(key, { value: { ...value }, expiresAt: Date.now() + ttlMs, seq: ++seq });
        if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      }
      return Promise.resolve();
    },
    delete(key) {
      entries.delete(key);
      return Promise.resolve();
    },
  };
}
