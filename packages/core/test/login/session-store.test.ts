import { describe, expect, it } from 'vitest';
import { memorySessionStore } from '../../src/adapter.js';
import { sessionStoreConformance } from '../helpers/session-store-conformance.js';

sessionStoreConformance('memorySessionStore', () => memorySessionStore());

describe('memorySessionStore', () => {
  it('evicts the least recently used beyond maxEntries', async () => {
    const store = memorySessionStore({ maxEntries: 2 });
    await store.set('a', { v: 1 }, 60_000);
    await store.set('b', { v: 2 }, 60_000);
    await store.get('a');
    await store.set('c', { v: 3 }, 60_000);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toEqual({ v: 1 });
  });
});
