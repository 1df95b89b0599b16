import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from './redis-store.js';
import { deletePrefix, randomPrefix, redisTestGate } from './testing/index.js';

const gate = await redisTestGate('outbox claims across runners');
const T0 = 1_760_000_000_000;
const CLAIM = 10_000;

const entry = (id: string, createdAt = T0) => ({
  id,
  adapter: 'crm',
  kind: 'log-call' as const,
  payload: { id },
  createdAt,
});

if (gate.mustFail) {
  describe('redis outbox claims', () => {
    it('needs a reachable Redis', () => {
      throw new Error(gate.mustFail);
    });
  });
} else {
  describe.skipIf(!gate.run)('redis outbox claims: two runners on one outbox', () => {
    const prefixes: string[] = [];
    let open: RedisStore[] = [];
    /** Two stores (two runners) on one fresh prefix, with a clock the test sets. */
    const pair = async (now: { t: number }) => {
      const prefix = randomPrefix('claims');
      prefixes.push(prefix);
      const make = (owner: string) =>
        createRedisStore({ url: gate.url, prefix, owner, claimMs: CLAIM, clock: () => now.t });
      const stores = [await make('runner-a'), await make('runner-b')] as const;
      open.push(...stores);
      return stores;
    };
    afterEach(async () => {
      await Promise.all(open.map((store) => store.close()));
      open = [];
    });
    afterAll(async () => {
      for (const prefix of prefixes) await deletePrefix(gate.url, prefix);
    });

    it('concurrent due() calls of two runners never hand out one entry twice', async () => {
      const [a, b] = await pair({ t: T0 });
      for (let i = 0; i < 60; i++) await a.outbox.enqueue(entry(`e${String(i).padStart(2, '0')}`, T0 + i));
      const [fromA, fromB] = await Promise.all([
        a.outbox.due('crm', T0 + 100, 40),
        b.outbox.due('crm', T0 + 100, 40),
      ]);
      const byA = (fromA ?? []).map((e) => e.id);
      const byB = (fromB ?? []).map((e) => e.id);
      expect(byA.filter((id) => byB.includes(id))).toEqual([]);
      expect(byA.length + byB.length).toBe(60);
      expect(new Set([...byA, ...byB]).size).toBe(60);
    });

    it('entries held by one runner are skipped by the other until settled or expired', async () => {
      const now = { t: T0 };
      const [a, b] = await pair(now);
      await a.outbox.enqueue(entry('x', T0));
      expect((await a.outbox.due('crm', T0, 1)).map((e) => e.id)).toEqual(['x']);
      // For b, x is due when a's claim ends; a itself sees x due now.
      expect(await b.outbox.nextDueAt('crm')).toBe(T0 + CLAIM);
      expect(await a.outbox.nextDueAt('crm')).toBe(T0);
      await a.outbox.enqueue(entry('y', T0 + 1));
      expect((await b.outbox.due('crm', T0 + 1, 10)).map((e) => e.id)).toEqual(['y']);
      // a asks again: its own claims come back (renewed).
      expect((await a.outbox.due('crm', T0 + 2, 10)).map((e) => e.id)).toEqual(['x']);
      // a dies: once its claim has expired, b takes x over.
      expect(await b.outbox.due('crm', T0 + 2 + CLAIM - 1, 10)).toEqual([
        expect.objectContaining({ id: 'y' }),
      ]);
      expect((await b.outbox.due('crm', T0 + 2 + CLAIM, 10)).map((e) => e.id)).toEqual(['x', 'y']);
    });

    it('a late answer of a runner whose claim was taken over never revives a settled entry', async () => {
      const [a, b] = await pair({ t: T0 });
      await a.outbox.enqueue(entry('z', T0));
      await a.outbox.due('crm', T0, 1);
      await b.outbox.due('crm', T0 + CLAIM, 1);
      // b holds z now: a's retry and dead are ignored.
      await a.outbox.markRetry('z', { kind: 'transient', message: 'slow' }, T0 + 99_999, T0 + CLAIM + 1);
      await a.outbox.markDead('z', { kind: 'transient', message: 'gave up' }, T0 + CLAIM + 1);
      expect(await a.outbox.get('z')).toMatchObject({ status: 'pending', attempts: 0 });
      await b.outbox.markDelivered('z', { id: 'act-1' }, T0 + CLAIM + 2);
      // a delivered it too (the CRM's idempotency key made it one record): delivered stays delivered.
      await a.outbox.markRetry('z', { kind: 'transient', message: 'late' }, T0 + 99_999, T0 + CLAIM + 3);
      await a.outbox.markDelivered('z', { id: 'act-2' }, T0 + CLAIM + 3);
      expect(await a.outbox.get('z')).toMatchObject({ status: 'delivered', result: { id: 'act-1' } });
      expect(await a.outbox.counts()).toEqual({ pending: 0, delivered: 1, dead: 0 });
    });

    it('a retried entry is released: the other runner takes it when due', async () => {
      const [a, b] = await pair({ t: T0 });
      await a.outbox.enqueue(entry('r', T0));
      await a.outbox.due('crm', T0, 1);
      await a.outbox.markRetry('r', { kind: 'rate-limit', message: '429' }, T0 + 500, T0 + 10);
      expect(await b.outbox.nextDueAt('crm')).toBe(T0 + 500);
      expect((await b.outbox.due('crm', T0 + 500, 1)).map((e) => e.id)).toEqual(['r']);
    });

    it('Redis unreachable: entries wait in memory up to the bound, then new work is refused; all written once back', async () => {
      const prefix = randomPrefix('outage');
      prefixes.push(prefix);
      const errors: string[] = [];
      const store = await createRedisStore({
        url: gate.url,
        prefix,
        bufferLimit: 2,
        flushIntervalMs: 3_600_000,
        onError: (error) => errors.push(error.message),
      });
      open.push(store);
      store.redis.disconnect();
      expect(await store.outbox.enqueue(entry('o1'))).toBe(true);
      expect(await store.outbox.enqueue(entry('o2', T0 + 1))).toBe(true);
      expect(await store.outbox.enqueue(entry('o1'))).toBe(false);
      await expect(store.outbox.enqueue(entry('o3', T0 + 2))).rejects.toThrow(/refusing new work/);
      expect(store.buffered()).toBe(2);
      expect(errors.join('\n')).toContain('kept in memory');
      await store.redis.connect();
      expect(await store.flush()).toBe(0);
      expect((await store.outbox.list()).map((e) => [e.id, e.status])).toEqual([
        ['o1', 'pending'],
        ['o2', 'pending'],
      ]);
    });

    it('tokens never appear in keys: cursors are stored under a hash of the token', async () => {
      const [a] = await pair({ t: T0 });
      await a.cursors.set('SECRET-TOKEN-123', 'session-1');
      const keys = await a.redis.keys(`${a.keys.prefix}:*`);
      expect(keys.join(' ')).not.toContain('SECRET-TOKEN-123');
      expect(await a.cursors.get('SECRET-TOKEN-123')).toBe('session-1');
    });
  });
}
