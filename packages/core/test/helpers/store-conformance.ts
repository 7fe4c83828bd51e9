/**
 * The behaviour every TokenStore must have, as one suite any store runs (memory today, Redis
 * next): call `storeConformance('name', makeStore)` from a test file.
 */
import { describe, expect, it } from 'vitest';
import type { StoredTokenSet, TokenStore } from '../../src/index.js';

const value = (accessToken: string): StoredTokenSet => ({ accessToken, tokenType: 'Bearer', issuedAt: Date.now() });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function storeConformance(name: string, makeStore: () => TokenStore | Promise<TokenStore>): void {
  describe(`TokenStore conformance: ${name}`, () => {
    it('returns what was set, and undefined for an unknown key', async () => {
      const store = await makeStore();
      await store.set('k', value('a'), 60_000);
      expect((await store.get('k'))?.accessToken).toBe('a');
      expect(await store.get('other')).toBeUndefined();
    });

    it('replaces a value, and deletes it', async () => {
      const store = await makeStore();
      await store.set('k', value('a'), 60_000);
      await store.set('k', value('b'), 60_000);
      expect((await store.get('k'))?.accessToken).toBe('b');
      await store.delete('k');
      expect(await store.get('k')).toBeUndefined();
      await store.delete('never-set'); // no error
    });

    it('forgets a value after its ttl, and keeps one with an infinite ttl', async () => {
      const store = await makeStore();
      await store.set('short', value('a'), 50);
      await store.set('forever', value('b'), Infinity);
      await sleep(80);
      expect(await store.get('short')).toBeUndefined();
      expect((await store.get('forever'))?.accessToken).toBe('b');
    });

    it('keeps every field of a stored token set', async () => {
      const store = await makeStore();
      const full: StoredTokenSet = {
        accessToken: 'at',
        tokenType: 'bearer',
        expiresAt: 1_900_000_000_000,
        refreshToken: 'rt',
        refreshExpiresAt: 1_900_000_100_000,
        scope: 'read write',
        issuedAt: 1_800_000_000_000,
        raw: { access_token: 'at', userid: 7 },
      };
      await store.set('full', full, 60_000);
      expect(await store.get('full')).toEqual(full);
    });

    it('withLock, when offered, runs one holder at a time per key', async () => {
      const store = await makeStore();
      if (store.withLock === undefined) return;
      let inside = 0;
      let most = 0;
      const run = (): Promise<void> =>
        store.withLock!('lock', 5000, async () => {
          most = Math.max(most, ++inside);
          await sleep(10);
          inside--;
        });
      await Promise.all(Array.from({ length: 5 }, run));
      expect(most).toBe(1);
      // A failing holder releases the lock.
      await expect(store.withLock('lock', 5000, () => Promise.reject(new Error('x')))).rejects.toThrow('x');
      expect(await store.withLock('lock', 5000, () => Promise.resolve('free'))).toBe('free');
    });
  });
}
