/** User sessions and login transactions shared by two instances, each with its own connections. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisSessionStore, type RedisSessionStoreOptions } from '../src/index.js';
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
    /** Two instances of one app: separate clients, one Redis. */
    const pair = async (options: Partial<RedisSessionStoreOptions> = {}) => {
      const keyPrefix = `s${n++}:`;
      const make = async () => {
        const { client, close } = await kind.connect(server.url);
        const store = redisSessionStore({ redis: client, keyPrefix, ...options });
        closers.push(close, () => store.close());
        return store;
      };
      return { a: await make(), b: await make(), keyPrefix };
    };

    it('a session written by one instance is served by the other, and a logout on one is seen by the other', async () => {
      const { a, b } = await pair();
      await a.set('session:abc', { createdAt: 1 }, 60_000);
      expect(await b.get('session:abc')).toEqual({ createdAt: 1 });
      await b.delete('session:abc');
      expect(await a.get('session:abc')).toBeUndefined();
    });

    it('a write cannot bring back a session that another instance deleted', async () => {
      const { a, b } = await pair();
      await a.set('session:abc', { createdAt: 1 }, 60_000);
      await b.delete('session:abc');
      // A late write from the first instance (a request that read the session before the logout).
      await a.set('session:abc', { createdAt: 1 }, 60_000);
      expect(await a.get('session:abc')).toBeUndefined();
      expect(await b.take('session:abc')).toBeUndefined();
    });

    it('a login transaction is taken once across instances', async () => {
      const { a, b } = await pair();
      await a.set('login:state', { verifier: 'v' }, 60_000);
      const got = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).take('login:state')));
      expect(got.filter((g) => g !== undefined)).toEqual([{ verifier: 'v' }]);
    });

    it('keys hold no session id in clear, every key expires, and an encrypted record holds no value in clear', async () => {
      const { a, keyPrefix } = await pair({ encryptionKey: Buffer.alloc(32, 3) });
      await a.set('session:id-in-clear', { user: 'alice-in-clear' }, 60_000);
      await a.set('session:deleted', { user: 'x' }, 60_000);
      await a.delete('session:deleted');
      const names = (await server.cli('--scan', '--pattern', `${keyPrefix}*`)).split('\n').filter(Boolean);
      expect(names).toHaveLength(2);
      for (const name of names) {
        expect(name).not.toMatch(/in-clear|deleted|session/);
        expect(Number(await server.cli('PTTL', name))).toBeGreaterThan(0);
        expect(await server.cli('GET', name)).not.toMatch(/alice/);
      }
      expect(await a.get('session:id-in-clear')).toEqual({ user: 'alice-in-clear' });
    });

    it('a record that fails to decrypt is a miss and an onError report, never a crash', async () => {
      const errors: Error[] = [];
      const { a, keyPrefix } = await pair({ encryptionKey: Buffer.alloc(32, 4), onError: (e) => errors.push(e) });
      await a.set('session:s', { v: 1 }, 60_000);
      const [name] = (await server.cli('--scan', '--pattern', `${keyPrefix}*`)).split('\n');
      // One bit of the ciphertext (`e<key id>.<iv>.<tag>.<ciphertext>`, base64url).
      const parts = (await server.cli('GET', name!)).split('.');
      const ciphertext = Buffer.from(parts[3]!, 'base64url');
      ciphertext[0]! ^= 1;
      parts[3] = ciphertext.toString('base64url');
      await server.cli('SET', name!, parts.join('.'), 'PX', '60000');
      expect(await a.get('session:s')).toBeUndefined();
      expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['ERR_PRODO_AUTH_STORE']);
    });
  });
}
