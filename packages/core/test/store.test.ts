import { describe, expect, it } from 'vitest';
import { memoryStore } from '../src/index.js';
import { storeConformance } from './helpers/store-conformance.js';

storeConformance('memoryStore()', () => memoryStore());

describe('memoryStore', () => {
  it('evicts the least recently used entry beyond maxEntries', async () => {
    const store = memoryStore({ maxEntries: 2 });
    const v = (accessToken: string) => ({ accessToken, tokenType: 'Bearer', issuedAt: 0 });
    await store.set('a', v('a'), 60_000);
    await store.set('b', v('b'), 60_000);
    await store.get('a'); // a is now the most recently used
    await store.set('c', v('c'), 60_000);
    expect(await store.get('b')).toBeUndefined();
    expect((await store.get('a'))?.accessToken).toBe('a');
    expect((await store.get('c'))?.accessToken).toBe('c');
  });
});
