/**
 * A TokenStore on Redis that makes a fleet of processes behave like one token client: one token
 * request per expiry between them, and a refresh token never presented twice.
 */
import { createHash, randomUUID } from 'node:crypto';
import { ConfigError, type StoredTokenSet, type TokenStore } from '@prodo-auth/core';
import { hashKey, makeCodec, UnreadableRecord, type Codec, type EncryptionKeyOption } from './codec.js';
import { openConnection, storeError, type Connection } from './connection.js';

export interface RedisTokenStoreOptions {
  /**
   * Your node-redis (`createClient()`, `createCluster()`; v5 or later) or ioredis (`new Redis()`,
   * `new Cluster()`; v5 or later) client. The store opens its own connections from it
   * (`duplicate()`), with no offline queue; yours is left as it is and stays yours to close.
   */
  redis: unknown;
  /**
   * Prefix of every key and of the notice channel.
   * @default 'prodo-auth:'
   */
  keyPrefix?: string | undefined;
  /** Encrypts every record with AES-256-GCM: one 32-byte key, or `[{ id, key }, ...]` (first encrypts, any decrypts). */
  encryptionKey?: EncryptionKeyOption | undefined;
  /**
   * Deadline of one Redis command, in ms: past it the operation fails with `ERR_PRODO_AUTH_STORE`
   * and the token client carries on with its own memory.
   * @default 1000
   */
  commandTimeoutMs?: number | undefined;
  /**
   * Longest time a read outside a lock is served from this process's cache without asking Redis:
   * the bound on staleness when a change notice is lost. 0 turns the cache off.
   * @default 1000
   */
  localCacheMs?: number | undefined;
  /**
   * Longest time a record is kept when the client asks for no expiry (a refresh token of unknown
   * lifetime): every key expires.
   * @default 2592000000 (30 days)
   */
  maxTtlMs?: number | undefined;
}

/** A TokenStore with the connections it opened. */
export interface RedisTokenStore extends TokenStore {
  withLock<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T>;
  /** Closes the store's own connections (not the client it was given). */
  close(): Promise<void>;
}


const SUFFIX = ':lock';
const LOCK_JITTER_MS = 25;

// Values are `<issuedAt>:<record>`: the issue time stays readable to the scripts (an encrypted
// record is opaque to Lua) so that "newer tokens win" is decided atomically in Redis.
const WRITE = `
if ARGV[1] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[1] then return 'LOCK_LOST' end
local cur = redis.call('GET', KEYS[1])
if cur then
  local i = tonumber(string.match(cur, '^(%d+):'))
  if i and i > tonumber(ARGV[2]) then return 'NEWER' end
end
redis.call('SET', KEYS[1], ARGV[2] .. ':' .. ARGV[3], 'PX', ARGV[4])
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 'OK'`;
const DELETE = `
local n = redis.call('DEL', KEYS[1])
if n > 0 then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return n`;
const DELETE_IF = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return -1 end
local t = redis.call('PTTL', KEYS[1])
if t < 0 then return 0 end
return t`;
const EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0`;

export interface Script {
  source: string;
  sha: string;
}

function positive(name: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new ConfigError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number of milliseconds`);
  }
  return value;
}

export function parsePrefix(value: unknown): string {
  if (value === undefined) return 'prodo-auth:';
  if (typeof value !== 'string' || /[{}\s]/.test(value)) {
    throw new ConfigError('keyPrefix must be a string without braces or whitespace (braces would change the Cluster hash tag)');
  }
  return value;
}

/**
 * Script runner: EVALSHA, and EVAL once when Redis does not know the script yet (a restart, a new
 * Cluster node).
 */
export function scripts(conn: Connection): (script: Script, keys: string[], args: string[]) => Promise<unknown> {
  return async (script, keys, args) => {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await conn.command(keys[0], ['EVALSHA', script.sha, ...tail]);
    } catch (error) {
      if (!/NOSCRIPT/.test(String((error as Error | undefined)?.message))) throw error;
      return conn.command(keys[0], ['EVAL', script.source, ...tail]);
    }
  };
}

export function script(source: string): Script {
  return { source, sha: sha1Hex(source) };
}

/**
 * A deadline for one store operation: Redis stopped fails at once (no offline queue), Redis hung
 * (`DEBUG SLEEP`, a network partition) fails here.
 */
export function withDeadline<T>(ms: number, what: string, run: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(storeError(`Redis did not answer the store's ${what} within ${ms} ms`)), ms);
  });
  const pending = run().catch((error: unknown) => {
    throw storeError(`Redis failed the store's ${what}`, error);
  });
  pending.catch(() => undefined);
  return Promise.race([pending, deadline]).finally(() => clearTimeout(timer));
}

/**
 * A TokenStore shared through Redis.
 *
 * - Keys: `<prefix>{<hash>}:v` (the tokens) and `<prefix>{<hash>}:l` (the lock), where the hash is
 *   of the client's store key: no client id or user name in clear, and one Cluster slot per token,
 *   so every script touches one slot. Change notices go on one channel, `<prefix>notices`.
 * - The lock is `SET NX PX` with a random value, extended while its holder runs and released by
 *   compare-and-delete. A `set` made while this store holds the token's lock (the token client
 *   writes its spent marker and its new tokens inside `withLock`'s `fn`) is checked in the same
 *   script as the write: a holder paused past the lock's TTL and resumed cannot write. Every
 *   write also refuses to replace tokens issued later than its own (`issuedAt`), so tokens in
 *   Redis never go backwards.
 * - Reads inside the lock always go to Redis; reads outside it are served from a local cache kept
 *   coherent by the notices (and at most `localCacheMs` old when a notice is lost), used only
 *   while the notice connection listens.
 *
 * @throws ConfigError when an option is invalid (a key that is not 32 bytes, a client of another kind...)
 * @example
 * import { createClient } from 'redis';
 * const redis = await createClient({ url: process.env.REDIS_URL }).connect();
 * const store = redisTokenStore({ redis, encryptionKey: process.env.TOKEN_KEY });
 * const client = createTokenClient({ grant, store });
 */
export function redisTokenStore(options: RedisTokenStoreOptions): RedisTokenStore {
  if (typeof options !== 'object' || options === null) throw new ConfigError('redisTokenStore needs an options object: { redis }');
  const prefix = parsePrefix(options.keyPrefix);
  const commandTimeoutMs = positive('commandTimeoutMs', options.commandTimeoutMs, 1000);
  const localCacheMs = positive('localCacheMs', options.localCacheMs, 1000, true);
  const maxTtlMs = positive('maxTtlMs', options.maxTtlMs, 30 * 24 * 3600 * 1000);
  const codec: Codec = makeCodec(options.encryptionKey);
  const conn = openConnection(options.redis, commandTimeoutMs);
  const run = scripts(conn);
  const S = {
    write: script(WRITE),
    delete: script(DELETE),
    deleteIf: script(DELETE_IF),
    acquire: script(ACQUIRE),
    extend: script(EXTEND),
    release: script(RELEASE),
  };
  const channel = `${prefix}notices`;
  const instance = randomUUID();
  /**
   * The locks this store holds now, by tag: a `set` or `get` of a token whose lock is held here
   * is the holder's (the token client writes only from inside `withLock`'s `fn` while it holds
   * it; a write that races it from the same process is as much this process's). AsyncLocalStorage
   * could tell the holder's async context apart exactly, but once used it makes every promise of
   * the process slower: the warm getAccessToken() path ran at 0.36 of the memory store's speed.
   */
  const held = new Map<string, string>();
  const cache = new Map<string, { value: StoredTokenSet | undefined; expiresAt: number; cachedAt: number }>();
  const waiters = new Map<string, Set<() => void>>();
  let closed = false;
  /** Whether the notice connection listens: the local cache serves only while it does. */
  let listening = false;

  /** A token's tag: the hash of its store key. */
  const tagOf = (key: string): string => hashKey(key);
  /**
   * The token client locks `<store key>:lock`: that lock gets its token's tag, so that the value
   * and its lock share one Cluster slot and one script can check the lock and write the value.
   */
  const lockTagOf = (key: string): string => hashKey(key.endsWith(SUFFIX) ? key.slice(0, -SUFFIX.length) : key);
  const valueKey = (tag: string): string => `${prefix}{${tag}}:v`;
  const lockKey = (tag: string): string => `${prefix}{${tag}}:l`;

  conn.subscribe(
    channel,
    (message) => {
      const [from, tag] = message.split('|');
      if (tag === undefined) return;
      if (from !== instance) cache.delete(tag);
      for (const wake of waiters.get(tag) ?? []) wake();
    },
    // Notices may be missed while not listening: no cache then, and none kept from before.
    (now) => {
      listening = now;
      cache.clear();
    },
  );

  const op = <T>(what: string, call: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(storeError('The Redis token store was closed'));
    return withDeadline(commandTimeoutMs, what, async () => {
      await conn.ready;
      return call();
    });
  };

  const readRedis = async (tag: string): Promise<StoredTokenSet | undefined> => {
    const key = valueKey(tag);
    const raw = await op('get', () => conn.command(key, ['GET', key]));
    if (typeof raw !== 'string') return undefined;
    const at = raw.indexOf(':');
    let value: StoredTokenSet;
    try {
      value = JSON.parse(codec.decode(key, raw.slice(at + 1))) as StoredTokenSet;
    } catch (error) {
      // Unreadable (tampered, moved, an unknown key id): removed, so that it cannot block the
      // next write with its issuedAt, and reported to the token client as a store error (a miss).
      await op('delete', () => run(S.deleteIf, [key], [raw])).catch(() => undefined);
      const reason = error instanceof UnreadableRecord ? error.message : 'it is not valid JSON';
      throw storeError(`A stored token record could not be read and was removed: ${reason}`);
    }
    return value;
  };

  const remember = (tag: string, value: StoredTokenSet | undefined, ttlMs: number): void => {
    if (localCacheMs === 0 || !listening) return;
    const now = Date.now();
    cache.set(tag, { value, expiresAt: now + ttlMs, cachedAt: now });
    if (cache.size > 10_000) cache.delete(cache.keys().next().value!);
  };

  const store: RedisTokenStore = {
    async get(key) {
      const tag = tagOf(key);
      if (!held.has(tag)) {
        const hit = cache.get(tag);
        const now = Date.now();
        // A copy, as Redis would give: a caller changing it changes nothing here.
        if (hit !== undefined && now < hit.expiresAt && now - hit.cachedAt < localCacheMs) return structuredClone(hit.value);
      }
      const value = await readRedis(tag);
      remember(tag, value, localCacheMs);
      return value;
    },

    async set(key, value, ttlMs) {
      const tag = tagOf(key);
      const token = held.get(tag) ?? '';
      const ttl = Math.max(1, Math.ceil(Math.min(ttlMs, maxTtlMs)));
      const issuedAt = Math.max(0, Math.floor(Number(value.issuedAt) || 0));
      const vkey = valueKey(tag);
      const record = codec.encode(vkey, JSON.stringify(value));
      cache.delete(tag);
      const result = await op('set', () =>
        run(S.write, [vkey, lockKey(tag)], [token, String(issuedAt), record, String(ttl), channel, `${instance}|${tag}`]),
      );
      if (result === 'LOCK_LOST') {
        throw storeError('The write was refused: this process no longer holds the refresh lock (it expired while the process was paused), so another process may have newer tokens');
      }
      if (result === 'NEWER') throw storeError('The write was refused: Redis holds tokens issued later than these');
      remember(tag, structuredClone(value), Math.min(ttl, localCacheMs));
    },

    async delete(key) {
      const tag = tagOf(key);
      cache.delete(tag);
      await op('delete', () => run(S.delete, [valueKey(tag)], [channel, `${instance}|${tag}`]));
    },

    async withLock(key, ttlMs, fn) {
      const tag = lockTagOf(key);
      const lkey = lockKey(tag);
      const token = randomUUID();
      // The lock lives in Redis for half of `ttlMs` (the token client asks for twice its request
      // deadline plus a second, so this is still longer than one token request) and is extended
      // while its holder runs. A holder that died is thus taken over within half the time the
      // token client waits for the lock before it gives up and goes alone: a lock that lasted the
      // whole `ttlMs` would expire just as its waiters give up, and each would refresh on its own.
      const leaseMs = Math.max(1, Math.ceil(ttlMs / 2));
      const ttl = String(leaseMs);
      // Bounded: past this the waiter fails, and its token client carries on alone.
      const giveUpAt = performance.now() + ttlMs + commandTimeoutMs;
      for (;;) {
        const notice = listen(tag);
        try {
          const pttl = Number(await op('lock', () => run(S.acquire, [lkey], [token, ttl])));
          if (pttl === -1) break;
          if (closed) throw storeError('The Redis token store was closed');
          const left = giveUpAt - performance.now();
          if (left <= 0) throw storeError(`The refresh lock was still held by another process after ${Math.round(ttlMs)} ms`);
          // Wake on the holder's release notice or, at the latest, when its lock expires (a notice
          // can be lost, a holder can die): with jitter, so that waiters do not retry in step.
          await notice.wait(Math.min(left, pttl) + Math.random() * LOCK_JITTER_MS);
        } finally {
          notice.stop();
        }
      }
      // Extend while the holder runs (a slow refresh); a paused or dead holder stops extending.
      const extend = setInterval(
        () => void op('lock', () => run(S.extend, [lkey], [token, ttl])).catch(() => undefined),
        Math.max(50, leaseMs / 3),
      );
      extend.unref();
      held.set(tag, token);
      try {
        return await fn();
      } finally {
        if (held.get(tag) === token) held.delete(tag);
        clearInterval(extend);
        await op('lock', () => run(S.release, [lkey], [token, channel, `${instance}|${tag}`])).catch(() => undefined);
      }
    },

    async close() {
      closed = true;
      for (const set of waiters.values()) for (const wake of set) wake();
      cache.clear();
      await conn.close();
    },
  };

  /**
   * Listens for `tag`'s next notice from now on: armed before the attempt to take the lock, so
   * that a release landing between that attempt and the wait is not missed. `wait(ms)` resolves
   * on the notice (at once if it already came) or after `ms`.
   */
  function listen(tag: string): { wait(ms: number): Promise<void>; stop(): void } {
    let noticed = false;
    let onNotice: (() => void) | undefined;
    let set = waiters.get(tag);
    if (set === undefined) waiters.set(tag, (set = new Set()));
    const wake = (): void => {
      noticed = true;
      onNotice?.();
    };
    set.add(wake);
    const stop = (): void => {
      set.delete(wake);
      if (set.size === 0 && waiters.get(tag) === set) waiters.delete(tag);
    };
    return {
      stop,
      wait: (ms) =>
        new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            onNotice = undefined;
            // A little jitter after a notice too: the next holder is whoever asks first.
            setTimeout(resolve, Math.random() * 5);
          };
          const timer = setTimeout(done, ms);
          if (noticed) done();
          else onNotice = done;
        }),
    };
  }

  return store;
}

function sha1Hex(source: string): string {
  return createHash('sha1').update(source).digest('hex');
}
