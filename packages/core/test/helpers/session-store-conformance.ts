/**
 * The behaviour every SessionStore must have, as one suite any store runs (memory today, Redis
 * next): call `sessionStoreConformance('name', makeStore)` from a test file.
 */
import { describe, expect, it } from 'vitest';
import type { SessionStore } from '../../src/adapter.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function sessionStoreConformance(name: string, makeStore: () => SessionStore | Promise<SessionStore>): void {
  describe(`SessionStore conformance: ${name}`, () => {
    it('returns what was set (JSON round trip), and undefined for an unknown key', async () => {
      const store = await makeStore();
      await store.set('k', { createdAt: 1_700_000_000_000, returnTo: '/x', flag: true, none: null }, 60_000);
      expect(await store.get('k')).toEqual({ createdAt: 1_700_000_000_000, returnTo: '/x', flag: true, none: null });
      expect(await store.get('other')).toBeUndefined();
    });

    it('replaces and deletes', async () => {
      const store = await makeStore();
      await store.set('k', { v: 1 }, 60_000);
      await store.set('k', { v: 2 }, 60_000);
      expect(await store.get('k')).toEqual({ v: 2 });
      await store.delete('k');
      expect(await store.get('k')).toBeUndefined();
      await store.delete('never-set');
    });

    it('forgets a value after its ttl', async () => {
      const store = await makeStore();
      await store.set('short', { v: 1 }, 50);
      await sleep(80);
      expect(await store.get('short')).toBeUndefined();
      expect(await store.take('short')).toBeUndefined();
    });

    it('take is read-and-delete: of 20 concurrent takes exactly one gets the value', async () => {
      const store = await makeStore();
      await store.set('state', { v: 'once' }, 60_000);
      const got = await Promise.all(Array.from({ length: 20 }, () => store.take('state')));
      expect(got.filter((g) => g !== undefined)).toEqual([{ v: 'once' }]);
      expect(await store.get('state')).toBeUndefined();
    });

    it('a stored value is a copy: changing the object afterwards changes nothing', async () => {
      const store = await makeStore();
      const value: Record<string, number> = { v: 1 };
      await store.set('k', value, 60_000);
      value.v = 2;
      expect(await store.get('k')).toEqual({ v: 1 });
    });
  });
}
