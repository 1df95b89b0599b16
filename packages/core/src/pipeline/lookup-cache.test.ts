import { describe, expect, it } from 'vitest';
import { memoryAdapter } from '../adapter/memory-adapter.js';
import { silentLogger } from '../logger.js';
import { parsePhone } from '../phone/index.js';
import { createMemoryStore } from '../store/memory-store.js';
import { kvAdapterState } from './connector.js';
import { createLookupCache } from './lookup-cache.js';

const ALICE = parsePhone('+33612345678');
const UNKNOWN = parsePhone('+33699999999');

function setup(ttlMs = 1_000) {
  let now = 0;
  const clock = () => now;
  const store = createMemoryStore();
  const crm = memoryAdapter({
    name: 'crm',
    contacts: [{ id: 'alice', name: 'Alice', phone: '+33612345678' }],
  });
  const target = { name: 'crm', adapter: crm };
  const cache = createLookupCache({
    clock,
    ttlMs,
    contextOf: (name) => ({ logger: silentLogger, state: kvAdapterState(store.kv, name, clock) }),
  });
  const lookups = () => crm.operations.filter((op) => op.operation === 'lookup').length;
  return { cache, target, lookups, advance: (ms: number) => (now += ms) };
}

describe('lookup cache', () => {
  it('shares one request between concurrent lookups and reuses the answer until it expires', async () => {
    const { cache, target, lookups, advance } = setup();
    const [a, b] = await Promise.all([
      cache.lookup(target, ALICE, 'screen-pop'),
      cache.lookup(target, ALICE, 'delivery'),
    ]);
    expect(a).toBe(b);
    expect(lookups()).toBe(1);
    expect(cache.settledMatch(target, ALICE)?.id).toBe('alice');
    advance(1_000);
    expect(cache.settledMatch(target, ALICE)).toBeUndefined();
    await cache.lookup(target, ALICE, 'delivery');
    expect(lookups()).toBe(2);
    expect(cache.stats()).toEqual({ lookups: 2, hits: 1 });
  });

  it('serves an expired answer that arrived since the call started', async () => {
    const { cache, target, lookups, advance } = setup();
    await cache.lookup(target, ALICE, 'screen-pop');
    advance(5_000);
    await cache.lookup(target, ALICE, 'delivery', new Date(0));
    expect(lookups()).toBe(1);
  });

  it('knows no match (null), a withheld number (null) and an unasked number (undefined)', async () => {
    const { cache, target } = setup();
    await cache.lookup(target, UNKNOWN, 'screen-pop');
    expect(cache.settledMatch(target, UNKNOWN)).toBeNull();
    expect(cache.settledMatch(target, parsePhone(''))).toBeNull();
    expect(cache.settledMatch(target, ALICE)).toBeUndefined();
  });

  it('firstMatch skips lookup:false adapters, reports a failing one and tries the next', async () => {
    const { cache, target } = setup();
    const failing = memoryAdapter({ name: 'failing' });
    failing.failNext('transient');
    const errors: string[] = [];
    const found = await cache.firstMatch(
      [{ name: 'skipped', adapter: failing, lookup: false }, { name: 'failing', adapter: failing }, target],
      ALICE,
      1_000,
      (_error, adapter) => errors.push(adapter),
    );
    expect(found.adapter).toBe('crm');
    expect(found.matches[0]?.id).toBe('alice');
    expect(errors).toEqual(['failing']);
    expect(await cache.firstMatch([target], UNKNOWN, 1_000, () => {})).toEqual({ matches: [] });
  });
});
