import { afterAll, beforeAll, describe } from 'vitest';
import { redisSessionStore, redisTokenStore } from '../src/index.js';
import { sessionStoreConformance } from '../../core/test/helpers/session-store-conformance.js';
import { storeConformance } from '../../core/test/helpers/store-conformance.js';
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

let n = 0;
for (const kind of CLIENT_KINDS) {
  describe(kind.name, () => {
    const make = async <T extends { close(): Promise<void> }>(build: (redis: unknown, keyPrefix: string) => T): Promise<T> => {
      const { client, close } = await kind.connect(server.url);
      const store = build(client, `conf${n++}:`);
      closers.push(close, () => store.close());
      return store;
    };
    storeConformance(kind.name, () => make((redis, keyPrefix) => redisTokenStore({ redis, keyPrefix })));
    storeConformance(`${kind.name}, encrypted`, () =>
      make((redis, keyPrefix) => redisTokenStore({ redis, keyPrefix, encryptionKey: Buffer.alloc(32, 7) })),
    );
    sessionStoreConformance(kind.name, () => make((redis, keyPrefix) => redisSessionStore({ redis, keyPrefix })));
  });
}
