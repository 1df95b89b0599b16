import { describe, expect, it } from 'vitest';
import { describeStoreConformance } from '../testing/vitest/store-suite.js';
import { createMemoryStore } from './memory-store.js';

describeStoreConformance({ name: 'memory', create: async () => createMemoryStore() });

describe('createMemoryStore', () => {
  it('reads key-value expiry against the injected clock when no time is given', async () => {
    let now = 1_000;
    const store = createMemoryStore({ clock: () => now });
    await store.kv.set('ns', 'k', 'v', { ttlMs: 50 });
    now = 1_049;
    expect(await store.kv.get('ns', 'k')).toBe('v');
    now = 1_050;
    expect(await store.kv.get('ns', 'k')).toBeUndefined();
  });
});
