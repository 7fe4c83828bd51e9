/**
 * User sessions and login transactions in Redis, so that any instance serves any user: a login's
 * transaction is taken once, a logout on one instance is seen by every other at its next request,
 * and a late write cannot bring back a session another instance deleted.
 */
import { ConfigError } from '@prodo-auth/core';
import type { SessionRecord, SessionStore } from '@prodo-auth/core/adapter';
import { hashKey, makeCodec, UnreadableRecord, type Codec, type EncryptionKeyOption } from './codec.js';
import { openConnection, storeError } from './connection.js';
import { parsePrefix, script, scripts, withDeadline } from './token-store.js';

export interface RedisSessionStoreOptions {
  /** Your node-redis or ioredis client (Cluster included): the store opens its own connections from it. */
  redis: unknown;
  /**
   * Prefix of every key.
   * @default 'prodo-auth:'
   */
  keyPrefix?: string | undefined;
  /** Encrypts every record with AES-256-GCM, as `redisTokenStore` does. */
  encryptionKey?: EncryptionKeyOption | undefined;
  /**
   * Deadline of one Redis command, in ms.
   * @default 1000
   */
  commandTimeoutMs?: number | undefined;
  /** Told about a record that could not be read (it is then a miss, and removed). Never given a value. */
  onError?: ((error: Error) => void) | undefined;
}

/** A SessionStore with the connections it opened. */
export interface RedisSessionStore extends SessionStore {
  /** Closes the store's own connections (not the client it was given). */
  close(): Promise<void>;
}

/**
 * A deleted record leaves this tombstone for the rest of the record's lifetime: a `set` racing a
 * logout on another instance finds it and writes nothing. Session ids and `state`s are random, so
 * no legitimate write ever targets a deleted key.
 */
const TOMBSTONE = 'x';
/** How long a tombstone stays when the deleted record had no expiry. */
const TOMBSTONE_MS = 24 * 3600 * 1000;

const SET = `
if redis.call('GET', KEYS[1]) == '${TOMBSTONE}' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;
// GETDEL, except that a tombstone stays (and reads as nothing).
const TAKE = `
local v = redis.call('GET', KEYS[1])
if not v or v == '${TOMBSTONE}' then return false end
redis.call('DEL', KEYS[1])
return v`;
const DELETE = `
local t = redis.call('PTTL', KEYS[1])
if t == -2 then return 0 end
if t < 0 then t = ${TOMBSTONE_MS} end
redis.call('SET', KEYS[1], '${TOMBSTONE}', 'PX', math.max(t, 1000))
return 1`;

/**
 * A SessionStore shared through Redis, for `createProdoAuth({ ..., sessionStore })`. Reads always
 * go to Redis (no local cache): a logout must be seen by every instance at once, and the login
 * flow reads once per request.
 *
 * @throws ConfigError when an option is invalid
 * @example
 * const sessionStore = redisSessionStore({ redis, encryptionKey: process.env.SESSION_KEY });
 */
export function redisSessionStore(options: RedisSessionStoreOptions): RedisSessionStore {
  if (typeof options !== 'object' || options === null) throw new ConfigError('redisSessionStore needs an options object: { redis }');
  const prefix = parsePrefix(options.keyPrefix);
  const timeout = options.commandTimeoutMs ?? 1000;
  if (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout)) {
    throw new ConfigError('commandTimeoutMs must be a positive number of milliseconds');
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') throw new ConfigError('onError must be a function');
  const codec: Codec = makeCodec(options.encryptionKey);
  const conn = openConnection(options.redis, timeout);
  const run = scripts(conn);
  const S = { set: script(SET), take: script(TAKE), delete: script(DELETE) };
  let closed = false;
  const redisKey = (key: string): string => `${prefix}s:${hashKey(key)}`;
  const op = <T>(what: string, call: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(storeError('The Redis session store was closed'));
    return withDeadline(timeout, what, async () => {
      await conn.ready;
      return call();
    });
  };
  const decode = async (key: string, raw: unknown): Promise<SessionRecord | undefined> => {
    if (typeof raw !== 'string' || raw === TOMBSTONE) return undefined;
    try {
      const value: unknown = JSON.parse(codec.decode(key, raw));
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as SessionRecord;
      throw new UnreadableRecord('the record is not a JSON object');
    } catch (error) {
      const reason = error instanceof UnreadableRecord ? error.message : 'it is not valid JSON';
      await op('delete', () => conn.command(key, ['DEL', key])).catch(() => undefined);
      options.onError?.(storeError(`A stored session record could not be read and was removed: ${reason}`));
      return undefined;
    }
  };
  const store: RedisSessionStore = {
    async get(key) {
      const k = redisKey(key);
      return decode(k, await op('get', () => conn.command(k, ['GET', k])));
    },
    async take(key) {
      const k = redisKey(key);
      return decode(k, await op('take', () => run(S.take, [k], [])));
    },
    async set(key, value, ttlMs) {
      const k = redisKey(key);
      const ttl = Math.ceil(ttlMs);
      if (!(ttl > 0)) {
        await store.delete(key);
        return;
      }
      const record = codec.encode(k, JSON.stringify(value));
      await op('set', () => run(S.set, [k], [record, String(ttl)]));
    },
    async delete(key) {
      const k = redisKey(key);
      await op('delete', () => run(S.delete, [k], []));
    },
    async close() {
      closed = true;
      await conn.close();
    },
  };
  return store;
}
