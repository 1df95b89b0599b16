import { afterEach, beforeEach, describe, expect, it, type TestAPI } from 'vitest';
import type { NewOutboxEntry, Store } from '../../store/types.js';

/** Options of {@link describeStoreConformance}. */
export interface StoreConformanceOptions {
  /** Shown in the suite title (`memory`, `sqlite`). */
  readonly name: string;
  /** Makes a fresh, empty store. Called before every test; the suite closes it after. */
  readonly create: () => Promise<Store>;
}

const T0 = 1_760_000_000_000;

function entry(id: string, overrides: Partial<NewOutboxEntry> = {}): NewOutboxEntry {
  return {
    id,
    adapter: 'crm-a',
    kind: 'log-call',
    payload: { callId: id, nested: { seconds: 42, tags: ['a', 'b'] }, note: 'éàü ✓' },
    createdAt: T0,
    ...overrides,
  };
}

/**
 * The {@link Store} conformance suite: the behaviour the pipeline relies on, for every store
 * implementation (memory in core, SQLite in the runner, anything third parties write). Call it at
 * the top level of a vitest file: `describeStoreConformance({ name: 'sqlite', create })`.
 *
 * Checks: idempotent enqueue (also under concurrency), due ordering and limits, retry / dead /
 * delivered transitions with attempts and errors, requeue of dead letters, purge that spares
 * pending entries, list filters, counts, payload round-trip and isolation, cursors, snapshots, and
 * namespaced key-value state with TTL.
 */
export function describeStoreConformance(options: StoreConformanceOptions): void {
  describe(`Store conformance: ${options.name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await options.create();
    });
    afterEach(async () => {
      await store.close();
    });

    enqueueChecks(it, () => store);
    dueAndRetryChecks(it, () => store);
    deliveredChecks(it, () => store);
    deadLetterChecks(it, () => store);
    listAndPurgeChecks(it, () => store);
    countsAndStateChecks(it, () => store);
    stateChecks(it, () => store);
  });
}

/** The checks of enqueueing and payloads. */
function enqueueChecks(it: TestAPI, store: () => Store): void {
  it('outbox.enqueue: records a pending entry once; the same id again changes nothing', async () => {
    expect(await store().outbox.enqueue(entry('e1')), 'enqueue of a new id must return true').toBe(true);
    expect(
      await store().outbox.enqueue(entry('e1', { payload: { other: true }, createdAt: T0 + 5 })),
      'enqueue of an id already there must return false and change nothing',
    ).toBe(false);
    const stored = await store().outbox.get('e1');
    expect(stored, 'a new entry must be pending, with 0 attempts, due at its createdAt').toMatchObject({
      id: 'e1',
      adapter: 'crm-a',
      kind: 'log-call',
      status: 'pending',
      attempts: 0,
      createdAt: T0,
      nextAttemptAt: T0,
    });
    expect(
      stored?.payload,
      'the payload must come back as it was enqueued (the second enqueue must not replace it)',
    ).toEqual(entry('e1').payload);
    expect(stored?.lastError, 'a new entry has no lastError').toBeUndefined();
    expect(await store().outbox.get('missing'), 'get of an unknown id must give undefined').toBeUndefined();
  });

  it('outbox.enqueue: concurrent enqueues of one id accept exactly one', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store().outbox.enqueue(entry('same', { createdAt: T0 + i }))),
    );
    expect(
      results.filter(Boolean),
      'concurrent enqueues of one id: exactly one may return true (the outbox id is the idempotency key)',
    ).toHaveLength(1);
    expect(
      await store().outbox.list(),
      'concurrent enqueues of one id stored more than one entry',
    ).toHaveLength(1);
  });

  it('outbox.payload: round-trips JSON and is not shared with the caller', async () => {
    const payload = { list: [1, 2, { deep: 'x' }], flag: false, none: null };
    await store().outbox.enqueue(entry('p1', { payload }));
    payload.list.push(99);
    const read = await store().outbox.get('p1');
    expect(
      read?.payload,
      "the payload must round-trip as JSON, untouched by later changes to the caller's object",
    ).toEqual({ list: [1, 2, { deep: 'x' }], flag: false, none: null });
    (read?.payload as { flag: boolean }).flag = true;
    expect(
      (await store().outbox.get('p1'))?.payload,
      'changing a payload read back changed the stored entry (return copies)',
    ).toMatchObject({ flag: false });
  });
}

/** The checks of due order and retries. */
function dueAndRetryChecks(it: TestAPI, store: () => Store): void {
  it('outbox.due: pending entries of one adapter due now, oldest first, limited', async () => {
    await store().outbox.enqueue(entry('late', { createdAt: T0 + 3000 }));
    await store().outbox.enqueue(entry('first', { createdAt: T0 }));
    await store().outbox.enqueue(entry('second', { createdAt: T0 + 1000 }));
    await store().outbox.enqueue(entry('other-adapter', { adapter: 'crm-b', createdAt: T0 }));
    expect(
      (await store().outbox.due('crm-a', T0 + 2000, 10)).map((e) => e.id),
      "due must give the adapter's pending entries due at now, oldest first",
    ).toEqual(['first', 'second']);
    expect(
      (await store().outbox.due('crm-a', T0 + 5000, 2)).map((e) => e.id),
      'due must honour its limit, oldest first',
    ).toEqual(['first', 'second']);
    expect(
      (await store().outbox.due('crm-a', T0 + 5000, 10)).map((e) => e.id),
      'due must give every due entry of the adapter, oldest first',
    ).toEqual(['first', 'second', 'late']);
    expect(
      (await store().outbox.due('crm-b', T0, 10)).map((e) => e.id),
      "due must give only the asked adapter's entries",
    ).toEqual(['other-adapter']);
    expect(await store().outbox.due('crm-a', T0 - 1, 10), 'due before any entry is due must give []').toEqual(
      [],
    );
    expect(
      await store().outbox.nextDueAt('crm-a'),
      "nextDueAt must give the earliest nextAttemptAt of the adapter's pending entries",
    ).toBe(T0);
    expect(
      await store().outbox.nextDueAt('nobody'),
      'nextDueAt of an adapter with nothing pending must give undefined',
    ).toBeUndefined();
  });

  it('outbox.retry: counts the attempt, keeps the error, reschedules; due order follows nextAttemptAt', async () => {
    await store().outbox.enqueue(entry('a', { createdAt: T0 }));
    await store().outbox.enqueue(entry('b', { createdAt: T0 + 10 }));
    await store().outbox.markRetry('a', { kind: 'rate-limit', message: 'slow down' }, T0 + 60_000, T0 + 20);
    const a = await store().outbox.get('a');
    expect(
      a,
      'markRetry must count the attempt, keep the error and reschedule at nextAttemptAt',
    ).toMatchObject({
      status: 'pending',
      attempts: 1,
      nextAttemptAt: T0 + 60_000,
      updatedAt: T0 + 20,
      lastError: { kind: 'rate-limit', message: 'slow down' },
    });
    expect(
      (await store().outbox.due('crm-a', T0 + 30, 10)).map((e) => e.id),
      'an entry rescheduled by markRetry must not be due before its nextAttemptAt',
    ).toEqual(['b']);
    expect(await store().outbox.nextDueAt('crm-a'), 'nextDueAt must follow the rescheduled entries').toBe(
      T0 + 10,
    );
    await store().outbox.markRetry('b', { kind: 'transient', message: '503' }, T0 + 90_000, T0 + 40);
    expect(await store().outbox.nextDueAt('crm-a'), 'nextDueAt must follow the rescheduled entries').toBe(
      T0 + 60_000,
    );
    expect(
      (await store().outbox.due('crm-a', T0 + 100_000, 10)).map((e) => e.id),
      'due must order entries by nextAttemptAt',
    ).toEqual(['a', 'b']);
    await store().outbox.markRetry('a', { kind: 'transient', message: 'again' }, T0 + 95_000, T0 + 61_000);
    expect(
      (await store().outbox.due('crm-a', T0 + 100_000, 10)).map((e) => e.id),
      'due must order entries by nextAttemptAt after a second retry',
    ).toEqual(['b', 'a']);
    expect((await store().outbox.get('a'))?.attempts, 'markRetry must count every attempt').toBe(2);
  });
}

/** The checks of delivery. */
function deliveredChecks(it: TestAPI, store: () => Store): void {
  it('outbox.delivered: keeps the result and leaves the due list', async () => {
    await store().outbox.enqueue(entry('d'));
    await store().outbox.markDelivered('d', { id: 'act-1', created: true }, T0 + 500);
    expect(
      await store().outbox.get('d'),
      'markDelivered must keep the result and mark the entry delivered',
    ).toMatchObject({
      status: 'delivered',
      updatedAt: T0 + 500,
      result: { id: 'act-1', created: true },
    });
    expect(
      await store().outbox.due('crm-a', T0 + 10_000, 10),
      'a delivered entry must not be due again (it would be written twice)',
    ).toEqual([]);
    expect(
      await store().outbox.nextDueAt('crm-a'),
      'nextDueAt must ignore delivered entries',
    ).toBeUndefined();
  });
}

/** The checks of dead letters. */
function deadLetterChecks(it: TestAPI, store: () => Store): void {
  it('outbox.dead: a dead letter is listed, not due, and requeue makes it pending again', async () => {
    await store().outbox.enqueue(entry('x', { createdAt: T0 }));
    await store().outbox.enqueue(entry('y', { createdAt: T0 + 1 }));
    await store().outbox.enqueue(entry('z', { createdAt: T0 + 2, adapter: 'crm-b' }));
    await store().outbox.markRetry('x', { kind: 'transient', message: '500' }, T0 + 100, T0 + 50);
    await store().outbox.markDead('x', { kind: 'transient', message: 'gave up' }, T0 + 200);
    await store().outbox.markDead('y', { kind: 'invalid', message: 'bad field' }, T0 + 300);
    await store().outbox.markDead('z', { kind: 'auth', message: 'token expired' }, T0 + 400);
    expect(
      await store().outbox.get('x'),
      'markDead must make a dead letter, counting the attempt and keeping the last error',
    ).toMatchObject({
      status: 'dead',
      attempts: 2,
      lastError: { kind: 'transient', message: 'gave up' },
    });
    expect(await store().outbox.due('crm-a', T0 + 10_000, 10), 'a dead letter must not be due').toEqual([]);
    expect(
      (await store().outbox.list({ status: 'dead' })).map((e) => e.id),
      "list({ status: 'dead' }) must give every dead letter, oldest first",
    ).toEqual(['x', 'y', 'z']);
    expect(
      (await store().outbox.list({ status: 'dead', adapter: 'crm-a' })).map((e) => e.id),
      'list must combine the status and adapter filters',
    ).toEqual(['x', 'y']);
    expect(
      await store().outbox.requeue({ adapter: 'crm-a', ids: ['x'] }, T0 + 1000),
      'requeue must say how many dead letters it made pending',
    ).toBe(1);
    expect(
      await store().outbox.get('x'),
      'a requeued dead letter must be pending, attempts reset, due at the requeue time',
    ).toMatchObject({
      status: 'pending',
      attempts: 0,
      nextAttemptAt: T0 + 1000,
    });
    expect(
      (await store().outbox.due('crm-a', T0 + 1000, 10)).map((e) => e.id),
      'a requeued dead letter must be due at once',
    ).toEqual(['x']);
    // requeue only touches dead letters.
    expect(
      await store().outbox.requeue({}, T0 + 2000),
      'requeue must touch dead letters only, and say how many',
    ).toBe(2);
    expect(await store().outbox.requeue({}, T0 + 3000), 'requeue with no dead letter left must give 0').toBe(
      0,
    );
    expect(await store().outbox.counts(), 'counts after requeue: every entry pending').toEqual({
      pending: 3,
      delivered: 0,
      dead: 0,
    });
  });
}

/** The checks of lists and purges. */
function listAndPurgeChecks(it: TestAPI, store: () => Store): void {
  it('outbox.list: filters by status, adapter, ids, updatedBefore, limit, oldest first', async () => {
    for (let i = 0; i < 5; i++) {
      await store().outbox.enqueue(entry(`l${i}`, { createdAt: T0 + i, adapter: i % 2 ? 'crm-b' : 'crm-a' }));
    }
    await store().outbox.markDelivered('l0', {}, T0 + 100);
    await store().outbox.markDead('l1', { kind: 'invalid', message: 'no' }, T0 + 200);
    expect(
      (await store().outbox.list()).map((e) => e.id),
      'list without a filter must give every entry, oldest first',
    ).toEqual(['l0', 'l1', 'l2', 'l3', 'l4']);
    expect(
      (await store().outbox.list({ status: 'pending' })).map((e) => e.id),
      'list must filter by status',
    ).toEqual(['l2', 'l3', 'l4']);
    expect(
      (await store().outbox.list({ adapter: 'crm-b' })).map((e) => e.id),
      'list must filter by adapter',
    ).toEqual(['l1', 'l3']);
    expect(
      (await store().outbox.list({ ids: ['l4', 'l0'] })).map((e) => e.id),
      'list must filter by ids, oldest first',
    ).toEqual(['l0', 'l4']);
    expect(
      (await store().outbox.list({ updatedBefore: T0 + 150 })).map((e) => e.id),
      'list must filter by updatedBefore',
    ).toEqual(['l0', 'l2', 'l3', 'l4']);
    expect(
      (await store().outbox.list({ limit: 2 })).map((e) => e.id),
      'list must honour its limit, oldest first',
    ).toEqual(['l0', 'l1']);
  });

  it('outbox.purge: deletes what matches, sparing pending entries unless asked by status', async () => {
    await store().outbox.enqueue(entry('keep', { createdAt: T0 }));
    await store().outbox.enqueue(entry('done', { createdAt: T0 + 1 }));
    await store().outbox.enqueue(entry('dead', { createdAt: T0 + 2 }));
    await store().outbox.markDelivered('done', {}, T0 + 10);
    await store().outbox.markDead('dead', { kind: 'auth', message: 'x' }, T0 + 10);
    expect(
      await store().outbox.purge({}),
      'purge({}) must delete delivered and dead entries only, and say how many',
    ).toBe(2);
    expect(
      (await store().outbox.list()).map((e) => e.id),
      'purge({}) deleted a pending entry (a call would never be logged)',
    ).toEqual(['keep']);
    expect(await store().outbox.purge({ ids: ['keep'] }), 'purge by ids must spare a pending entry').toBe(0);
    expect(
      await store().outbox.purge({ status: 'pending' }),
      "purge({ status: 'pending' }) must delete pending entries when asked",
    ).toBe(1);
    expect(await store().outbox.list(), 'nothing must be left after purging every status').toEqual([]);
    // A purged id may be enqueued again.
    expect(await store().outbox.enqueue(entry('done')), 'a purged id may be enqueued again').toBe(true);
  });
}

/** The checks of counts. */
function countsAndStateChecks(it: TestAPI, store: () => Store): void {
  it('outbox.counts: by status, per adapter or overall, zeros included', async () => {
    expect(
      await store().outbox.counts(),
      'counts of an empty outbox must give zeros for every status',
    ).toEqual({ pending: 0, delivered: 0, dead: 0 });
    await store().outbox.enqueue(entry('c1'));
    await store().outbox.enqueue(entry('c2'));
    await store().outbox.enqueue(entry('c3', { adapter: 'crm-b' }));
    await store().outbox.markDelivered('c1', {}, T0 + 1);
    await store().outbox.markDead('c3', { kind: 'invalid', message: 'x' }, T0 + 1);
    expect(await store().outbox.counts(), 'counts must count every status overall').toEqual({
      pending: 1,
      delivered: 1,
      dead: 1,
    });
    expect(await store().outbox.counts('crm-a'), "counts must count one adapter's entries").toEqual({
      pending: 1,
      delivered: 1,
      dead: 0,
    });
    expect(await store().outbox.counts('crm-b'), "counts must count one adapter's entries").toEqual({
      pending: 0,
      delivered: 0,
      dead: 1,
    });
  });
}

/** The checks of cursors, snapshots and key-value state. */
function stateChecks(it: TestAPI, store: () => Store): void {
  it('cursors: one session per token, overwritten by set', async () => {
    expect(await store().cursors.get('tok-1'), 'a cursor never set must give undefined').toBeUndefined();
    await store().cursors.set('tok-1', 'session-a');
    await store().cursors.set('tok-2', 'session-x');
    await store().cursors.set('tok-1', 'session-b');
    expect(await store().cursors.get('tok-1'), "cursors.set must overwrite the token's session").toBe(
      'session-b',
    );
    expect(await store().cursors.get('tok-2'), 'cursors must be kept per token').toBe('session-x');
  });

  it('snapshots: save and load by key, large values intact', async () => {
    expect(
      await store().snapshots.load('tracker:t'),
      'a snapshot never saved must give undefined',
    ).toBeUndefined();
    const big = JSON.stringify({
      calls: Array.from({ length: 2000 }, (_, i) => ({ id: `c${i}`, n: 'é' })),
    });
    await store().snapshots.save('tracker:t', 'v1');
    await store().snapshots.save('tracker:t', big);
    await store().snapshots.save('tracker:u', 'other');
    expect(
      await store().snapshots.load('tracker:t'),
      'a large snapshot must come back intact, the last save winning',
    ).toBe(big);
    expect(await store().snapshots.load('tracker:u'), 'snapshots must be kept per key').toBe('other');
  });

  it('kv: namespaced values, overwrite and delete', async () => {
    await store().kv.set('salesforce', 'token', 'abc');
    await store().kv.set('hubspot', 'token', 'def');
    expect(await store().kv.get('salesforce', 'token'), 'kv must keep values per namespace').toBe('abc');
    expect(await store().kv.get('hubspot', 'token'), 'kv must keep values per namespace').toBe('def');
    expect(
      await store().kv.get('odoo', 'token'),
      'kv.get of a key never set must give undefined',
    ).toBeUndefined();
    await store().kv.set('salesforce', 'token', 'abc2');
    expect(await store().kv.get('salesforce', 'token'), 'kv.set must overwrite').toBe('abc2');
    await store().kv.delete('salesforce', 'token');
    expect(await store().kv.get('salesforce', 'token'), 'kv.delete must delete').toBeUndefined();
    expect(await store().kv.get('hubspot', 'token'), "kv.delete must delete only its namespace's key").toBe(
      'def',
    );
    await store().kv.delete('salesforce', 'never-set');
  });

  it('kv: a value with a TTL expires at now + ttl (explicit clock)', async () => {
    await store().kv.set('ns', 'short', 'v', { ttlMs: 1000, now: T0 });
    await store().kv.set('ns', 'forever', 'w', { now: T0 });
    expect(
      await store().kv.get('ns', 'short', T0 + 999),
      'a value with a TTL must live until now + ttl',
    ).toBe('v');
    expect(
      await store().kv.get('ns', 'short', T0 + 1000),
      'a value with a TTL must be gone at now + ttl',
    ).toBeUndefined();
    expect(await store().kv.get('ns', 'forever', T0 + 10 ** 9), 'a value without TTL must never expire').toBe(
      'w',
    );
    // Setting again without a TTL makes it permanent.
    await store().kv.set('ns', 'short', 'v2', { now: T0 + 2000 });
    expect(
      await store().kv.get('ns', 'short', T0 + 10 ** 9),
      'setting a value again without TTL must make it permanent',
    ).toBe('v2');
  });
}
