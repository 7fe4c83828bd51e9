/** The Redis token store's own guarantees, in one process against a real redis-server. */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, type StoredTokenSet } from '@prodo-auth/core';
import { redisTokenStore, type RedisTokenStoreOptions } from '../src/index.js';
import { CLIENT_KINDS } from './helpers/clients.js';
import { startRedis, type RedisServer } from './helpers/redis-server.js';

let server: RedisServer;
const closers: (() => Promise<void>)[] = [];
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await server?.stop();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const tokens = (accessToken: string, issuedAt = Date.now(), refreshToken?: string): StoredTokenSet => ({
  accessToken,
  tokenType: 'Bearer',
  issuedAt,
  expiresAt: issuedAt + 3_600_000,
  refreshToken,
});
const KEY_A = Buffer.alloc(32, 0xa1);
const KEY_B = Buffer.alloc(32, 0xb2);

let n = 0;
for (const kind of CLIENT_KINDS) {
  describe(kind.name, () => {
    const open = async (options: Partial<RedisTokenStoreOptions> = {}, prefix = `t${n++}:`) => {
      const { client, close } = await kind.connect(server.url);
      const store = redisTokenStore({ redis: client, keyPrefix: prefix, ...options });
      closers.push(close, () => store.close());
      return store;
    };
    const keysOf = async (prefix: string): Promise<string[]> => (await server.cli('--scan', '--pattern', `${prefix}*`)).split('\n').filter(Boolean);

    it('keeps no client id or user name in clear in a key name, and every key expires', async () => {
      const prefix = `names${n++}:`;
      const store = await open({}, prefix);
      const key = 'prodo-auth:password:client-alice:user-bob@example.com';
      await store.withLock(`${key}:lock`, 60_000, async () => {
        await store.set(key, tokens('at-1'), Infinity);
        const names = await keysOf(prefix);
        expect(names).toHaveLength(2);
        for (const name of names) {
          expect(name).not.toMatch(/alice|bob|password/);
          expect(Number(await server.cli('PTTL', name))).toBeGreaterThan(0);
        }
        // The value and its lock share one hash tag: one Cluster slot.
        const tags = names.map((name) => /\{([^}]+)\}/.exec(name)![1]);
        expect(tags[0]).toBe(tags[1]);
      });
    });

    it('refuses a write from a holder whose lock expired while it was paused, and keeps the newer tokens', async () => {
      const a = await open({}, `lost${n}:`);
      const b = await open({}, `lost${n++}:`);
      let late: unknown;
      await a.withLock('k:lock', 200, async () => {
        // "Paused" past the lock's TTL: the interval that extends it cannot run while the event loop is blocked.
        const end = Date.now() + 400;
        while (Date.now() < end);
        await b.withLock('k:lock', 5000, () => b.set('k', tokens('at-b', Date.now()), 60_000));
        late = await a.set('k', tokens('at-a-late', Date.now() + 1), 60_000).catch((e: unknown) => e);
      });
      expect((late as { code?: string }).code).toBe(ErrorCode.STORE);
      expect((late as Error).message).toMatch(/no longer holds the refresh lock/);
      expect((await b.get('k'))?.accessToken).toBe('at-b');
    });

    it('extends the lock while a slow holder runs: no second holder meanwhile', async () => {
      const a = await open({}, `slow${n}:`);
      const b = await open({}, `slow${n++}:`);
      let inside = 0;
      let most = 0;
      const hold = (store: typeof a) =>
        store.withLock('k:lock', 300, async () => {
          most = Math.max(most, ++inside);
          await sleep(800);
          inside--;
        });
      await Promise.all([hold(a), sleep(50).then(() => hold(b))]);
      expect(most).toBe(1);
    });

    it('a store key ending in :lock is a token of its own, not the token that lock guards', async () => {
      const store = await open({ localCacheMs: 0 });
      await store.set('k', tokens('token-of-k'), 60_000);
      await store.set('k:lock', tokens('token-of-k-lock'), 60_000);
      expect((await store.get('k'))?.accessToken).toBe('token-of-k');
      expect((await store.get('k:lock'))?.accessToken).toBe('token-of-k-lock');
    });

    it('never lets older tokens replace newer ones in Redis', async () => {
      const store = await open();
      const now = Date.now();
      await store.set('k', tokens('newer', now), 60_000);
      const refused = await store.set('k', tokens('older', now - 1000), 60_000).catch((e: unknown) => e);
      expect((refused as { code?: string }).code).toBe(ErrorCode.STORE);
      expect((await store.get('k'))?.accessToken).toBe('newer');
      // The same generation may be rewritten (the spent marker, an invalidation).
      await store.set('k', { ...tokens('newer', now), expiresAt: 0 }, 60_000);
      expect((await store.get('k'))?.expiresAt).toBe(0);
    });

    it('a waiter wakes on the release notice, well before the lock TTL', async () => {
      const a = await open({}, `wake${n}:`);
      const b = await open({}, `wake${n++}:`);
      let released = 0;
      const first = a.withLock('k:lock', 10_000, async () => {
        await sleep(200);
        released = performance.now();
      });
      await sleep(50);
      const acquired = await b.withLock('k:lock', 10_000, () => Promise.resolve(performance.now()));
      await first;
      expect(acquired - released).toBeLessThan(1000);
    });

    it('a waiter takes over a lock whose holder died, when its TTL runs out', async () => {
      const a = await open({}, `dead${n}:`);
      // A holder that died: its lock is left in Redis, with nobody to release or extend it.
      await server.cli('SET', `dead${n}:{${await tagOf(a, 'k')}}:l`, 'someone-dead', 'PX', '600');
      const started = performance.now();
      expect(await a.withLock('k:lock', 10_000, () => Promise.resolve('mine'))).toBe('mine');
      const waited = performance.now() - started;
      expect(waited).toBeGreaterThan(400);
      expect(waited).toBeLessThan(3000);
      n++;
    });

    it('serves reads outside a lock from its cache, and sees another instance\'s write through its notice', async () => {
      const prefix = `cache${n++}:`;
      const a = await open({ localCacheMs: 60_000 }, prefix);
      const b = await open({ localCacheMs: 60_000 }, prefix);
      await sleep(300); // until they listen for notices: no cache before (a notice could be missed)
      await a.set('k', tokens('one'), 60_000);
      expect((await b.get('k'))?.accessToken).toBe('one');
      const before = await getCalls();
      for (let i = 0; i < 100; i++) await b.get('k');
      expect((await getCalls()) - before).toBe(0);
      await b.get('k');
      await a.set('k', tokens('two'), 60_000);
      const end = Date.now() + 5000;
      let seen: string | undefined;
      while (Date.now() < end && (seen = (await b.get('k'))?.accessToken) !== 'two') await sleep(20);
      expect(seen).toBe('two');
      // Inside the lock it reads Redis itself.
      await a.set('k', tokens('three'), 60_000);
      expect(await b.withLock('k:lock', 5000, async () => (await b.get('k'))?.accessToken)).toBe('three');
    });

    it('encrypts: the raw value holds no token, and it round-trips', async () => {
      const prefix = `enc${n++}:`;
      const store = await open({ encryptionKey: KEY_A }, prefix);
      await store.set('k', tokens('access-secret-value', Date.now(), 'refresh-secret-value'), 60_000);
      const [name] = await keysOf(prefix);
      const raw = await server.cli('GET', name!);
      expect(raw).not.toMatch(/secret-value/);
      expect((await store.get('k'))?.refreshToken).toBe('refresh-secret-value');
    });

    it('a flipped bit is a miss and a store error, and the record is removed', async () => {
      const prefix = `flip${n++}:`;
      const store = await open({ encryptionKey: KEY_A, localCacheMs: 0 }, prefix);
      await store.set('k', tokens('at'), 60_000);
      const [name] = await keysOf(prefix);
      // One bit of the ciphertext (`<issuedAt>:e<key id>.<iv>.<tag>.<ciphertext>`, base64url).
      const raw = await server.cli('GET', name!);
      const parts = raw.split('.');
      const ciphertext = Buffer.from(parts[3]!, 'base64url');
      ciphertext[0]! ^= 1;
      parts[3] = ciphertext.toString('base64url');
      await server.cli('SET', name!, parts.join('.'), 'PX', '60000');
      const error = await store.get('k').catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe(ErrorCode.STORE);
      expect((error as Error).message).toMatch(/changed, or copied from another key/);
      expect(await store.get('k')).toBeUndefined();
    });

    it('a record moved to another key fails to decrypt', async () => {
      const prefix = `moved${n++}:`;
      const store = await open({ encryptionKey: KEY_A, localCacheMs: 0 }, prefix);
      await store.set('alice', tokens('alice-token'), 60_000);
      await store.set('mallory', tokens('mallory-token'), 60_000);
      const names = await keysOf(prefix);
      const alice = names.find((x) => x.includes(`{${tagOfKey('alice')}}`))!;
      const mallory = names.find((x) => x !== alice)!;
      await server.cli('SET', mallory, await server.cli('GET', alice), 'PX', '60000');
      const error = await store.get('mallory').catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe(ErrorCode.STORE);
      expect((await store.get('alice'))?.accessToken).toBe('alice-token');
    });

    it('rotates keys: a record sealed with the old key reads with [new, old]; an unknown key id is a miss and an error', async () => {
      const prefix = `rot${n++}:`;
      const old = await open({ encryptionKey: [{ id: 'k1', key: KEY_A }], localCacheMs: 0 }, prefix);
      await old.set('k', tokens('sealed-with-k1'), 60_000);
      const rotated = await open({ encryptionKey: [{ id: 'k2', key: KEY_B }, { id: 'k1', key: KEY_A }], localCacheMs: 0 }, prefix);
      expect((await rotated.get('k'))?.accessToken).toBe('sealed-with-k1');
      await rotated.set('k', tokens('sealed-with-k2'), 60_000);
      const [name] = await keysOf(prefix);
      expect(await server.cli('GET', name!)).toMatch(/^\d+:ek2\./);
      const error = await old.get('k').catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe(ErrorCode.STORE);
      expect((error as Error).message).toMatch(/key id 'k2', which is not in encryptionKey/);
    });

    it('opened while Redis is down: operations fail within their deadline, and it works once Redis is up', async () => {
      const own = await startRedis();
      closers.push(() => own.stop());
      const { client, close } = await kind.connect(own.url);
      closers.push(close);
      await own.stop();
      const store = redisTokenStore({ redis: client, keyPrefix: `down${n++}:`, commandTimeoutMs: 300 });
      closers.push(() => store.close());
      const started = performance.now();
      const error = await store.get('k').catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe(ErrorCode.STORE);
      expect(performance.now() - started).toBeLessThan(1000);
      await own.start();
      const end = Date.now() + 10_000;
      let stored = false;
      while (!stored && Date.now() < end) {
        stored = await store.set('k', tokens('after-start'), 60_000).then(() => true, () => false);
        if (!stored) await sleep(100);
      }
      expect(stored).toBe(true);
      expect((await store.get('k'))?.accessToken).toBe('after-start');
    });

    it('Redis stopped under a connected store: a write fails at once with a store error that carries no token', async () => {
      const own = await startRedis();
      closers.push(() => own.stop());
      const { client, close } = await kind.connect(own.url);
      closers.push(close);
      const store = redisTokenStore({ redis: client, keyPrefix: `stopped${n++}:`, commandTimeoutMs: 2000 });
      closers.push(() => store.close());
      await store.set('k', tokens('before'), 60_000);
      await own.stop();
      await sleep(200);
      const started = performance.now();
      const error = await store.set('k', tokens('at-stopped-secret', Date.now(), 'rt-stopped-secret'), 60_000).catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe(ErrorCode.STORE);
      // No offline queue: it did not wait for the deadline (2 s), let alone for a reconnect.
      expect(performance.now() - started).toBeLessThan(1000);
      expect(inspect(error, { depth: 10, showHidden: true }) + JSON.stringify(error)).not.toMatch(/stopped-secret/);
    });

    it('fails fast with a store error when Redis is hung, carrying no token', async () => {
      const store = await open({ commandTimeoutMs: 300 });
      const hung = server.cli('DEBUG', 'SLEEP', '1.5');
      await sleep(100);
      const started = performance.now();
      const error = await store.set('k', tokens('at-hung-secret', Date.now(), 'rt-hung-secret'), 60_000).catch((e: unknown) => e);
      const took = performance.now() - started;
      await hung;
      expect((error as { code?: string }).code).toBe(ErrorCode.STORE);
      expect(took).toBeLessThan(1000);
      expect(inspect(error, { depth: 10 }) + JSON.stringify(error)).not.toMatch(/hung-secret/);
    });
  });
}

async function getCalls(): Promise<number> {
  const stats = await server.cli('INFO', 'commandstats');
  return Number(/cmdstat_get:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

import { createHash } from 'node:crypto';
function tagOfKey(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 32);
}
async function tagOf(_store: unknown, key: string): Promise<string> {
  return Promise.resolve(tagOfKey(key));
}

describe('options', () => {
  it('refuses a client that is neither node-redis nor ioredis, a key that is not 32 bytes, and bad ids', () => {
    const fake = { get: () => undefined };
    for (const [options, message] of [
      [{ redis: fake }, /node-redis client .* or an ioredis client/],
      [{ redis: undefined }, /not undefined/],
      [{ redis: fake, encryptionKey: 'short' }, /encryptionKey must be a 32-byte key/],
      [{ redis: fake, encryptionKey: Buffer.alloc(16) }, /encryptionKey must be a 32-byte key/],
      [{ redis: fake, encryptionKey: [] }, /at least one/],
      [{ redis: fake, encryptionKey: [{ id: 'a.b', key: KEY_A }] }, /encryptionKey\[0\]\.id/],
      [{ redis: fake, keyPrefix: 'a{b}' }, /keyPrefix/],
      [{ redis: fake, commandTimeoutMs: 0 }, /commandTimeoutMs/],
    ] as const) {
      let error: unknown;
      try {
        redisTokenStore(options as RedisTokenStoreOptions);
      } catch (e) {
        error = e;
      }
      expect((error as { code?: string }).code, String(message)).toBe(ErrorCode.CONFIG);
      expect((error as Error).message).toMatch(message);
    }
  });
});
