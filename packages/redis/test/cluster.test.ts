/** Redis Cluster: the keys of one token share a hash tag, so every script touches one slot. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisSessionStore, redisTokenStore } from '../src/index.js';
import { sessionStoreConformance } from '../../core/test/helpers/session-store-conformance.js';
import { storeConformance } from '../../core/test/helpers/store-conformance.js';
import { CLIENT_KINDS } from './helpers/clients.js';
import { startCluster, type RedisCluster } from './helpers/redis-server.js';

let cluster: RedisCluster;
const closers: (() => Promise<void>)[] = [];
beforeAll(async () => {
  cluster = await startCluster();
}, 60_000);
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await cluster?.stop();
});

let n = 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
for (const kind of CLIENT_KINDS) {
  describe(`${kind.name} on a 3-node Cluster`, () => {
    const connect = async (): Promise<unknown> => {
      const { client, close } = await kind.connectCluster(cluster.nodes.map((s) => s.port));
      closers.push(close);
      return client;
    };
    storeConformance(`${kind.name} Cluster`, async () => {
      const store = redisTokenStore({ redis: await connect(), keyPrefix: `cl${n++}:`, encryptionKey: Buffer.alloc(32, 1) });
      closers.push(() => store.close());
      return store;
    });
    sessionStoreConformance(`${kind.name} Cluster`, async () => {
      const store = redisSessionStore({ redis: await connect(), keyPrefix: `cls${n++}:` });
      closers.push(() => store.close());
      return store;
    });

    it('notices cross the Cluster: a waiter wakes on the release, a cached read sees another instance\'s write', async () => {
      const prefix = `notice${n++}:`;
      const a = redisTokenStore({ redis: await connect(), keyPrefix: prefix, localCacheMs: 60_000 });
      const b = redisTokenStore({ redis: await connect(), keyPrefix: prefix, localCacheMs: 60_000 });
      closers.push(() => a.close(), () => b.close());
      await sleep(300); // both subscribed
      let released = 0;
      const first = a.withLock('k:lock', 20_000, async () => {
        await sleep(200);
        released = performance.now();
      });
      await sleep(50);
      const acquired = await b.withLock('k:lock', 20_000, () => Promise.resolve(performance.now()));
      await first;
      expect(acquired - released).toBeLessThan(1000);

      await a.set('k', { accessToken: 'one', tokenType: 'Bearer', issuedAt: Date.now() }, 60_000);
      expect((await b.get('k'))?.accessToken).toBe('one');
      await a.set('k', { accessToken: 'two', tokenType: 'Bearer', issuedAt: Date.now() }, 60_000);
      const end = Date.now() + 5000;
      let seen: string | undefined;
      while (Date.now() < end && (seen = (await b.get('k'))?.accessToken) !== 'two') await sleep(20);
      expect(seen).toBe('two');
    });

    it('spreads tokens over the slots, and a change made through one node reaches a reader on another', async () => {
      const redis = await connect();
      const a = redisTokenStore({ redis, keyPrefix: `spread${n}:` });
      const b = redisTokenStore({ redis: await connect(), keyPrefix: `spread${n++}:` });
      closers.push(() => a.close(), () => b.close());
      const keys = Array.from({ length: 12 }, (_, i) => `client-${i}`);
      for (const k of keys) await a.withLock(`${k}:lock`, 5000, () => a.set(k, { accessToken: `at-${k}`, tokenType: 'Bearer', issuedAt: Date.now() }, 60_000));
      for (const k of keys) expect((await b.get(k))?.accessToken).toBe(`at-${k}`);
      const counts = await Promise.all(cluster.nodes.map(async (node) => Number(await node.cli('DBSIZE'))));
      expect(counts.filter((c) => c > 0).length).toBeGreaterThan(1);
    });
  });
}
