/**
 * The BullMQ outbox across runners, against the real Redis: two stores (two runners) on one
 * prefix. Lock expiry and BullMQ's stalled check run on Redis time, so the takeover tests wait
 * (bounded) for an outcome; they never assert how long it took.
 */

import { waitForValue } from '@cti-bridge/core/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { jobIdOf } from './bullmq-outbox.js';
import { createRedisStore, type RedisStore } from './redis-store.js';
import { deletePrefix, randomPrefix, redisTestGate } from './testing/index.js';

const gate = await redisTestGate('BullMQ outbox claims across runners');
const CLAIM = 800;

const entry = (id: string, createdAt = Date.now()) => ({
  id,
  adapter: 'crm',
  kind: 'log-call' as const,
  payload: { id },
  createdAt,
});

const waitFor = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs?: number) =>
  waitForValue(probe, what, { timeoutMs, intervalMs: 50 });

/**
 * A CRM that keys activities on the idempotency key, as every adapter does (Salesforce External
 * ID, HubSpot hs_call_external_id, Odoo marker): a second logCall with the same key finds the
 * first record and writes nothing.
 */
function idempotentCrm() {
  const records = new Map<string, { id: string }>();
  let calls = 0;
  return {
    records,
    calls: () => calls,
    logCall(idempotencyKey: string) {
      calls++;
      const found = records.get(idempotencyKey);
      if (found) return { ...found, created: false };
      const ref = { id: `act-${records.size + 1}` };
      records.set(idempotencyKey, ref);
      return { ...ref, created: true };
    },
  };
}

if (gate.mustFail) {
  describe('bullmq outbox claims', () => {
    it('needs a reachable Redis', () => {
      throw new Error(gate.mustFail);
    });
  });
} else {
  describe.skipIf(!gate.run)('bullmq outbox: two runners on one outbox', () => {
    const prefixes: string[] = [];
    let open: RedisStore[] = [];
    const make = (prefix: string, owner: string) =>
      createRedisStore({
        url: gate.url,
        prefix,
        owner,
        outbox: 'bullmq',
        claimMs: CLAIM,
        stalledIntervalMs: 100,
      }).then((store) => {
        open.push(store);
        return store;
      });
    const pair = async () => {
      const prefix = randomPrefix('bullmq-claims');
      prefixes.push(prefix);
      return [await make(prefix, 'runner-a'), await make(prefix, 'runner-b')] as const;
    };
    afterEach(async () => {
      await Promise.all(open.map((store) => store.close()));
      open = [];
    });
    afterAll(async () => {
      for (const prefix of prefixes) await deletePrefix(gate.url, prefix);
    });

    it('entries are BullMQ jobs: one queue per adapter under the prefix, ids encoded', async () => {
      const [a] = await pair();
      expect(a.outboxEngine).toBe('bullmq');
      await a.outbox.enqueue(entry('hubspot:3f9a1c0b7d2e:call-1:log-call'));
      const job = await a.redis.hgetall(
        `${a.keys.prefix}:bq:crm:${jobIdOf('hubspot:3f9a1c0b7d2e:call-1:log-call')}`,
      );
      expect(JSON.parse(job.data ?? '{}')).toMatchObject({ id: 'hubspot:3f9a1c0b7d2e:call-1:log-call' });
      expect(await a.redis.llen(`${a.keys.prefix}:bq:crm:wait`)).toBe(1);
      // Nothing of the Lua outbox is written.
      expect(await a.redis.exists(`${a.keys.prefix}:ob:all`)).toBe(0);
    });

    it('concurrent due() calls of two runners never hand out one entry twice', async () => {
      const [a, b] = await pair();
      const t0 = Date.now() - 1_000;
      for (let i = 0; i < 60; i++) await a.outbox.enqueue(entry(`e${String(i).padStart(2, '0')}`, t0 + i));
      const now = Date.now();
      const [fromA, fromB] = await Promise.all([a.outbox.due('crm', now, 40), b.outbox.due('crm', now, 40)]);
      const byA = fromA.map((e) => e.id);
      const byB = fromB.map((e) => e.id);
      expect(byA.filter((id) => byB.includes(id))).toEqual([]);
      expect(byA.length + byB.length).toBe(60);
      expect(new Set([...byA, ...byB]).size).toBe(60);
    });

    it('a due() running while a held entry is settled never hands that entry out again', async () => {
      // The delivery worker asks for due entries while its deliveries finish: an entry settled
      // during the call must not come back (it would be delivered twice). Found by the benchmark.
      const [a] = await pair();
      for (let i = 0; i < 20; i++) {
        const id = `s${i}`;
        await a.outbox.enqueue(entry(id));
        expect((await a.outbox.due('crm', Date.now(), 1)).map((e) => e.id)).toEqual([id]);
        const [due] = await Promise.all([
          a.outbox.due('crm', Date.now(), 5),
          a.outbox.markDelivered(id, { id: `act-${id}` }, Date.now()),
        ]);
        expect(due.map((e) => e.id)).not.toContain(id);
      }
      expect(await a.outbox.counts()).toEqual({ pending: 0, delivered: 20, dead: 0 });
    });

    it('a job held by one runner is skipped by the other; the holder gets it back (lock renewed)', async () => {
      const [a, b] = await pair();
      await a.outbox.enqueue(entry('x'));
      expect((await a.outbox.due('crm', Date.now(), 1)).map((e) => e.id)).toEqual(['x']);
      expect(await b.outbox.due('crm', Date.now(), 10)).toEqual([]);
      // For b, x is due when a's lock ends, not now.
      const before = Date.now();
      expect(await b.outbox.nextDueAt('crm')).toBeGreaterThan(before);
      expect((await a.outbox.due('crm', Date.now(), 10)).map((e) => e.id)).toEqual(['x']);
      expect(await a.outbox.get('x')).toMatchObject({ status: 'pending' });
    });

    it('a runner that dies holding a job: the stalled check gives it to the other, and the CRM write stays single', async () => {
      const [a, b] = await pair();
      const crm = idempotentCrm();
      await a.outbox.enqueue(entry('call-1:log-call'));
      const [taken] = await a.outbox.due('crm', Date.now(), 1);
      expect(taken?.id).toBe('call-1:log-call');
      // a writes to the CRM, then dies before recording it (SIGKILL: no settle, no lock release).
      crm.logCall(taken?.id ?? '');
      open = open.filter((store) => store !== a);
      a.redis.disconnect();
      await a.close();
      // b's stalled check puts the job back once a's lock has expired; b delivers it again.
      const [again] = await waitFor('b to take the stalled job over', async () => {
        const due = await b.outbox.due('crm', Date.now(), 1);
        return due.length > 0 ? due : undefined;
      });
      expect(again).toMatchObject({ id: 'call-1:log-call', status: 'pending', attempts: 0 });
      const ref = crm.logCall(again?.id ?? '');
      expect(ref).toMatchObject({ id: 'act-1', created: false });
      await b.outbox.markDelivered('call-1:log-call', ref, Date.now());
      expect(crm.records.size).toBe(1);
      expect(crm.calls()).toBe(2);
      expect(await b.outbox.get('call-1:log-call')).toMatchObject({ status: 'delivered', result: ref });
      expect(await b.outbox.counts()).toEqual({ pending: 0, delivered: 1, dead: 0 });
    });

    it("a runner restarted under the same name waits for its predecessor's lock (no busy loop), then delivers", async () => {
      const prefix = randomPrefix('bullmq-restart-name');
      prefixes.push(prefix);
      const before = await make(prefix, 'runner-a');
      await before.outbox.enqueue(entry('x'));
      expect((await before.outbox.due('crm', Date.now(), 1)).map((e) => e.id)).toEqual(['x']);
      open = open.filter((store) => store !== before);
      before.redis.disconnect();
      await before.close();
      const after = await make(prefix, 'runner-a');
      const asked = Date.now();
      expect(await after.outbox.due('crm', asked, 1)).toEqual([]);
      // Not "due now" while the old lock lives: the delivery worker sleeps instead of spinning.
      expect(await after.outbox.nextDueAt('crm')).toBeGreaterThan(asked);
      const [x] = await waitFor('the restarted runner to take x', async () => {
        const due = await after.outbox.due('crm', Date.now(), 1);
        return due.length > 0 ? due : undefined;
      });
      expect(x?.id).toBe('x');
    });

    it('stalls are runner deaths, never a dead letter: a job stalled again and again stays pending', async () => {
      const prefix = randomPrefix('bullmq-stalls');
      prefixes.push(prefix);
      const watcher = await make(prefix, 'watcher');
      await watcher.outbox.enqueue(entry('s'));
      for (const owner of ['dies-1', 'dies-2', 'dies-3']) {
        const runner = await make(prefix, owner);
        await waitFor(`${owner} to take s`, async () => {
          const due = await runner.outbox.due('crm', Date.now(), 1);
          return due.length > 0 ? due : undefined;
        });
        open = open.filter((store) => store !== runner);
        runner.redis.disconnect();
        await runner.close();
        // The watcher's stalled check runs while it asks for due entries.
        await watcher.outbox.due('crm', Date.now() - 60_000, 1);
      }
      expect(await watcher.outbox.get('s')).toMatchObject({ status: 'pending', attempts: 0 });
      const [s] = await waitFor('the watcher to take s', async () => {
        const due = await watcher.outbox.due('crm', Date.now(), 1);
        return due.length > 0 ? due : undefined;
      });
      expect(s).toMatchObject({ id: 's', status: 'pending', attempts: 0 });
      // BullMQ marks a job stalled past maxStalledCount for failure ("defa"): never ours.
      const jobKey = `${watcher.keys.prefix}:bq:crm:${jobIdOf('s')}`;
      expect(await watcher.redis.hget(jobKey, 'stc')).toBe('3');
      expect(await watcher.redis.hexists(jobKey, 'defa')).toBe(0);
    });

    it('a late answer of a runner whose job was taken over changes nothing; delivered stays delivered', async () => {
      const [a, b] = await pair();
      await a.outbox.enqueue(entry('z'));
      await a.outbox.due('crm', Date.now(), 1);
      // a stalls (its lock is not renewed): b takes z over.
      await waitFor('b to take z over', async () => {
        const due = await b.outbox.due('crm', Date.now(), 1);
        return due.length > 0 ? due : undefined;
      });
      await a.outbox.markRetry('z', { kind: 'transient', message: 'slow' }, Date.now() + 60_000, Date.now());
      await a.outbox.markDead('z', { kind: 'transient', message: 'gave up' }, Date.now());
      expect(await a.outbox.get('z')).toMatchObject({ status: 'pending', attempts: 0 });
      await b.outbox.markDelivered('z', { id: 'act-1' }, Date.now());
      await a.outbox.markRetry('z', { kind: 'transient', message: 'late' }, Date.now() + 60_000, Date.now());
      await a.outbox.markDelivered('z', { id: 'act-2' }, Date.now());
      expect(await a.outbox.get('z')).toMatchObject({ status: 'delivered', result: { id: 'act-1' } });
      expect(await a.outbox.counts()).toEqual({ pending: 0, delivered: 1, dead: 0 });
      // A second enqueue of a delivered id changes nothing.
      expect(await b.outbox.enqueue(entry('z'))).toBe(false);
    });

    it('a retry is a delayed job released to every runner; a requeued dead letter is waiting at once', async () => {
      const [a, b] = await pair();
      await a.outbox.enqueue(entry('r'));
      await a.outbox.due('crm', Date.now(), 1);
      const retryAt = Date.now() + 60_000;
      await a.outbox.markRetry('r', { kind: 'rate-limit', message: '429' }, retryAt, Date.now());
      expect(await b.outbox.nextDueAt('crm')).toBe(retryAt);
      expect(await b.outbox.due('crm', Date.now(), 1)).toEqual([]);
      expect(await a.redis.zcard(`${a.keys.prefix}:bq:crm:delayed`)).toBe(1);

      await a.outbox.enqueue(entry('d'));
      const [d] = await a.outbox.due('crm', Date.now(), 1);
      expect(d?.id).toBe('d');
      await a.outbox.markDead('d', { kind: 'invalid', message: 'bad field' }, Date.now());
      expect((await b.outbox.list({ status: 'dead' })).map((e) => e.id)).toEqual(['d']);
      // `cti-runner outbox retry` from another process: b requeues, the job waits for anyone.
      expect(await b.outbox.requeue({ status: 'dead' }, Date.now())).toBe(1);
      expect(await a.redis.lrange(`${a.keys.prefix}:bq:crm:wait`, 0, -1)).toEqual([jobIdOf('d')]);
      expect(await a.outbox.due('crm', Date.now(), 5)).toEqual([
        expect.objectContaining({ id: 'd', attempts: 0, status: 'pending' }),
      ]);
    });
  });
}
