import { describe, expect, it } from 'vitest';
import { AdapterError } from '../adapter/errors.js';
import { type MemoryAdapterOptions, memoryAdapter } from '../adapter/memory-adapter.js';
import { normalizeEvent } from '../ovh/index.js';
import type { OvhEvent, RawOvhEvent } from '../ovh/types.js';
import { createMemoryStore } from '../store/memory-store.js';
import type { Store } from '../store/types.js';
import { createScenario } from '../testing/scenario/index.js';
import { waitFor, waitForValue } from '../testing/wait/index.js';
import { createConnector, idempotencyKey } from './connector.js';
import type { ConnectorOptions, ScreenPop } from './types.js';

const TOKEN = 'tok-main';

/** An async iterable fed by hand. */
function pushStream() {
  const queue: OvhEvent[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  return {
    push(...events: OvhEvent[]) {
      queue.push(...events);
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<OvhEvent> {
      for (;;) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (ended) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
  };
}

/** Fake time: sleeping advances the clock at once. */
function fakeTime(start = Date.UTC(2026, 0, 5, 12)) {
  let now = start;
  return {
    clock: () => now,
    sleep: async (ms: number) => {
      now += Math.max(0, ms);
      await Promise.resolve();
    },
    advance(ms: number) {
      now += ms;
    },
  };
}

function normalize(raw: readonly RawOvhEvent[]): OvhEvent[] {
  return raw.map((r) => {
    const result = normalizeEvent(r, { token: TOKEN });
    if (!result.ok) throw new Error(result.error);
    return result.event;
  });
}

const scenario = () => createScenario({ token: TOKEN });

function setup(
  overrides: Partial<ConnectorOptions> & { adapter?: MemoryAdapterOptions; store?: Store } = {},
) {
  const time = fakeTime();
  const stream = pushStream();
  const adapter = memoryAdapter({
    contacts: [{ id: 'alice', name: 'Alice Martin', phone: '06 12 34 56 78' }],
    ...overrides.adapter,
  });
  const store = overrides.store ?? createMemoryStore({ clock: time.clock });
  const connector = createConnector({
    stream,
    store,
    routes: { [TOKEN]: { adapters: [{ name: 'memory', adapter }] } },
    clock: time.clock,
    sleep: time.sleep,
    random: () => 0.5,
    housekeepingIntervalMs: 0,
    delivery: { baseDelayMs: 1_000, maxAttempts: 5, timeoutMs: 200 },
    // these tests look at a call right after its end: no settle window unless a test asks for one
    tracker: { settleMs: 0 },
    ...overrides,
  });
  const pops: ScreenPop[] = [];
  connector.on('screen-pop', (pop) => pops.push(pop));
  const errors: unknown[] = [];
  connector.on('error', (e) => errors.push(e));
  return { time, stream, adapter, store, connector, pops, errors };
}

/**
 * The memory adapter (Alice on file) with every lookup's purpose recorded; `held` lookups wait
 * until `answer()` (a CRM queue that answers late).
 */
function lookupRecorder(options: { held?: boolean; base?: ReturnType<typeof memoryAdapter> } = {}) {
  const base =
    options.base ??
    memoryAdapter({ contacts: [{ id: 'alice', name: 'Alice Martin', phone: '06 12 34 56 78' }] });
  const purposes: Array<string | undefined> = [];
  let answer: () => void = () => {};
  const adapter = {
    ...base,
    findContacts: (
      query: Parameters<typeof base.findContacts>[0],
      ctx: Parameters<typeof base.findContacts>[1],
    ) => {
      purposes.push(ctx.purpose);
      if (!options.held) return base.findContacts(query, ctx);
      return new Promise<Awaited<ReturnType<typeof base.findContacts>>>((resolve) => {
        answer = () => resolve(base.findContacts(query, ctx));
      });
    },
    logCall: base.logCall.bind(base),
  };
  return { base, adapter, purposes, answer: () => answer() };
}

const answeredCall = (callId = 'call-1', from = '0612345678') =>
  normalize(
    scenario().inboundAnswered({ from, to: '0972101010', ringSeconds: 5, talkSeconds: 42, callId }).events(),
  );

describe('createConnector — screen pops and logging', () => {
  it('idempotency keys are stable and never carry the event token itself', () => {
    const key = idempotencyKey('memory', TOKEN, 'call-1', 'log-call');
    expect(key).toMatch(/^memory:[0-9a-f]{12}:call-1:log-call$/);
    expect(key).not.toContain(TOKEN);
    expect(idempotencyKey('memory', TOKEN, 'call-1', 'log-call')).toBe(key);
    expect(idempotencyKey('memory', 'other-token', 'call-1', 'log-call')).not.toBe(key);
  });

  it('pops the caller on ringing and logs the ended call once, with one lookup for ring + end', async () => {
    const { stream, adapter, connector, pops, store } = setup();
    await connector.start();
    stream.push(...answeredCall());
    stream.end();
    await connector.drain();
    expect(pops).toHaveLength(1);
    expect(pops[0]).toMatchObject({
      token: TOKEN,
      adapter: 'memory',
      url: 'https://crm.memory.invalid/contacts/alice',
      matches: [expect.objectContaining({ id: 'alice', displayName: 'Alice Martin' })],
      call: expect.objectContaining({ id: 'call-1', state: 'ringing' }),
    });
    expect(pops[0]?.latencyMs).toBeGreaterThanOrEqual(0);
    expect(adapter.operations.filter((o) => o.operation === 'lookup')).toHaveLength(1);
    expect(adapter.activities).toHaveLength(1);
    expect(adapter.activities[0]).toMatchObject({
      idempotencyKey: idempotencyKey('memory', TOKEN, 'call-1', 'log-call'),
      contactId: 'alice',
      direction: 'inbound',
      outcome: 'answered',
      durationSeconds: 42,
    });
    expect(await store.outbox.get(idempotencyKey('memory', TOKEN, 'call-1', 'log-call'))).toMatchObject({
      status: 'delivered',
    });
    expect(connector.stats()).toMatchObject({ calls: 1, screenPops: 1, delivered: 1, lookups: 1 });
    await connector.stop();
  });

  it('writes the outbox entry before the adapter is called', async () => {
    const seen: unknown[] = [];
    const time = fakeTime();
    const store = createMemoryStore({ clock: time.clock });
    const { stream, connector } = setup({
      store,
      adapter: {
        beforeOperation: async (operation, detail) => {
          if (operation === 'write') seen.push(await store.outbox.get(detail.key ?? ''));
        },
      },
    });
    await connector.start();
    stream.push(...answeredCall());
    stream.end();
    await connector.drain();
    expect(seen).toEqual([expect.objectContaining({ status: 'pending', kind: 'log-call', attempts: 0 })]);
    await connector.stop();
  });

  it('fans out to every adapter; the first adapter with a match wins the screen pop', async () => {
    const time = fakeTime();
    const stream = pushStream();
    const first = memoryAdapter({ name: 'first' });
    const second = memoryAdapter({
      name: 'second',
      contacts: [{ id: 'bob', name: 'Bob', phone: '+33612345678' }],
    });
    const connector = createConnector({
      stream,
      store: createMemoryStore({ clock: time.clock }),
      routes: {
        [TOKEN]: {
          adapters: [
            { name: 'first', adapter: first },
            { name: 'second', adapter: second },
          ],
        },
      },
      clock: time.clock,
      tracker: { settleMs: 0 },
      sleep: time.sleep,
      housekeepingIntervalMs: 0,
    });
    const pops: ScreenPop[] = [];
    connector.on('screen-pop', (p) => pops.push(p));
    await connector.start();
    stream.push(...answeredCall());
    stream.end();
    await connector.drain();
    expect(pops.map((p) => [p.adapter, p.matches.map((m) => m.id)])).toEqual([['second', ['bob']]]);
    expect(first.activities.map((a) => [a.externalId, a.contactId])).toEqual([['call-1', undefined]]);
    expect(second.activities.map((a) => [a.externalId, a.contactId])).toEqual([['call-1', 'bob']]);
    expect(first.operations.filter((o) => o.operation === 'lookup')).toHaveLength(1);
    expect(second.operations.filter((o) => o.operation === 'lookup')).toHaveLength(1);
    await connector.stop();
  });

  it('unknown caller policies: log-only, create-contact and skip', async () => {
    for (const unknownCaller of ['log-only', 'create-contact', 'skip'] as const) {
      const { stream, adapter, connector } = setup({ policies: { unknownCaller } });
      const delivered: unknown[] = [];
      connector.on('delivered', (d) => delivered.push(d.result));
      await connector.start();
      stream.push(...answeredCall('unknown-1', '0699001122'));
      stream.end();
      await connector.drain();
      const calls = adapter.activities.filter((a) => a.type === 'call');
      if (unknownCaller === 'skip') {
        expect(calls).toEqual([]);
        expect(delivered).toEqual([{ skipped: 'unknown caller (policy skip)' }]);
      } else if (unknownCaller === 'create-contact') {
        const created = adapter.contacts.find((c) => c.phones.includes('+33699001122'));
        expect(created).toBeDefined();
        expect(calls.map((a) => a.contactId)).toEqual([created?.id]);
      } else {
        expect(calls.map((a) => a.contactId)).toEqual([undefined]);
        expect(adapter.contacts).toHaveLength(1);
      }
      await connector.stop();
    }
  });

  it('an adapter with lookup: false is never asked who called and logs every call', async () => {
    const time = fakeTime();
    const stream = pushStream();
    const sink = memoryAdapter({ name: 'sink', contacts: [{ id: 'a', name: 'A', phone: '0612345678' }] });
    const connector = createConnector({
      stream,
      store: createMemoryStore({ clock: time.clock }),
      routes: { [TOKEN]: { adapters: [{ name: 'sink', adapter: sink, lookup: false }] } },
      policies: { unknownCaller: 'skip' },
      clock: time.clock,
      tracker: { settleMs: 0 },
      sleep: time.sleep,
      housekeepingIntervalMs: 0,
    });
    const pops: ScreenPop[] = [];
    connector.on('screen-pop', (p) => pops.push(p));
    await connector.start();
    stream.push(...answeredCall('nl-1'));
    stream.end();
    await connector.drain();
    expect(sink.operations.filter((o) => o.operation === 'lookup')).toEqual([]);
    expect(sink.activities.map((a) => [a.externalId, a.contactId])).toEqual([['nl-1', undefined]]);
    expect(pops.map((p) => p.matches.length)).toEqual([0]);
    await connector.stop();
  });

  it('skips internal calls by default and logs them with internalCalls: log', async () => {
    const internal = normalize(
      scenario()
        .inboundMissed({ from: '0972101011', to: '0972101099', ringSeconds: 3 })
        .inboundAnswered({ from: '0972101099', to: '0972101010', ringSeconds: 2, talkSeconds: 9 })
        .events(),
    );
    for (const internalCalls of ['skip', 'log'] as const) {
      const { stream, adapter, connector, pops } = setup({
        policies: { internalCalls },
        tracker: { ownLines: ['0972101011'] },
      });
      await connector.start();
      stream.push(...internal);
      stream.end();
      await connector.drain();
      expect(adapter.activities.map((a) => a.direction)).toEqual(
        internalCalls === 'skip' ? [] : ['internal', 'internal'],
      );
      expect(pops).toHaveLength(internalCalls === 'skip' ? 0 : 2);
      await connector.stop();
    }
  });

  it('creates a follow-up task for a missed call when asked, owned per the owner map', async () => {
    const time = fakeTime();
    const stream = pushStream();
    const adapter = memoryAdapter({ contacts: [{ id: 'alice', name: 'Alice', phone: '0612345678' }] });
    const connector = createConnector({
      stream,
      store: createMemoryStore({ clock: time.clock }),
      routes: {
        [TOKEN]: {
          adapters: [{ name: 'memory', adapter, ownerMap: { '09 72 10 10 10': 'user-42' } }],
          lineLabels: { '+33972101010': 'Reception' },
          policies: { missedCallFollowUp: true },
        },
      },
      clock: time.clock,
      tracker: { settleMs: 0 },
      sleep: time.sleep,
      housekeepingIntervalMs: 0,
    });
    await connector.start();
    stream.push(
      ...normalize(
        scenario()
          .inboundMissed({ from: '0612345678', to: '0972101010', ringSeconds: 20, callId: 'm-1' })
          .events(),
      ),
    );
    stream.end();
    await connector.drain();
    const byType = Object.fromEntries(adapter.activities.map((a) => [a.type, a]));
    expect(byType.call).toMatchObject({ outcome: 'missed', ownerId: 'user-42', contactId: 'alice' });
    expect(byType.call?.body).toContain('Reception');
    expect(byType.task).toMatchObject({
      ownerId: 'user-42',
      contactId: 'alice',
      idempotencyKey: idempotencyKey('memory', TOKEN, 'm-1', 'follow-up'),
    });
    await connector.stop();
  });

  it('logs queue sessions, owned by the answering agent', async () => {
    const time = fakeTime();
    const stream = pushStream();
    const adapter = memoryAdapter();
    const connector = createConnector({
      stream,
      store: createMemoryStore({ clock: time.clock }),
      routes: {
        [TOKEN]: {
          adapters: [{ name: 'memory', adapter, ownerMap: { agent_0033972101011_id: 'agent-user' } }],
        },
      },
      clock: time.clock,
      tracker: { settleMs: 0 },
      sleep: time.sleep,
      housekeepingIntervalMs: 0,
    });
    await connector.start();
    stream.push(
      ...normalize(
        scenario()
          .queueAnswered({
            queue: '0972101020',
            caller: '0612345678',
            agents: ['0972101011'],
            answeredBy: '0972101011',
            waitSeconds: 12,
            talkSeconds: 30,
            memberUuid: 'mem-1',
          })
          .queueAbandoned({
            queue: '0972101020',
            caller: '0698765432',
            agents: [],
            waitSeconds: 50,
            reason: 'TIMEOUT',
          })
          .events(),
      ),
    );
    stream.end();
    await connector.drain();
    const sessions = adapter.activities.filter((a) => a.type === 'queue-session');
    expect(sessions.map((a) => [a.outcome, a.ownerId])).toEqual([
      ['answered', 'agent-user'],
      ['timeout', undefined],
    ]);
    expect(sessions[0]?.idempotencyKey).toBe(idempotencyKey('memory', TOKEN, 'mem-1', 'queue-session'));
    await connector.stop();
  });

  it('reuses a lookup within the cache TTL and looks up again after it', async () => {
    const { stream, adapter, connector, time } = setup({ lookupCacheTtlMs: 10_000 });
    await connector.start();
    stream.push(...answeredCall('c-1'));
    stream.push(...answeredCall('c-2'));
    await waitFor(() => adapter.activities.length === 2, 'both calls written');
    expect(adapter.operations.filter((o) => o.operation === 'lookup')).toHaveLength(1);
    time.advance(10_001);
    stream.push(...answeredCall('c-3'));
    stream.end();
    await connector.drain();
    expect(adapter.operations.filter((o) => o.operation === 'lookup')).toHaveLength(2);
    // c-2's ring reuses c-1's lookup; the ends reuse the settled result without asking the cache.
    expect(connector.stats()).toMatchObject({ lookups: 2, lookupCacheHits: 1 });
    await connector.stop();
  });

  it('tells the adapter why it looks up (screen-pop on ring), and times the cache from the answer', async () => {
    let advance = (_ms: number) => {};
    const { base, adapter, purposes } = lookupRecorder({
      base: memoryAdapter({
        contacts: [{ id: 'alice', name: 'Alice Martin', phone: '06 12 34 56 78' }],
        // a lookup that waits 20 s in the CRM's queue before it is answered
        beforeOperation: (operation) => {
          if (operation === 'lookup') advance(20_000);
        },
      }),
    });
    const { stream, connector, time } = setup({
      lookupCacheTtlMs: 15_000,
      lookupTimeoutMs: 60_000,
      routes: { [TOKEN]: { adapters: [{ name: 'memory', adapter }] } },
    });
    advance = time.advance;
    await connector.start();
    stream.push(...answeredCall('p-1'));
    await waitFor(() => base.activities.length === 1, 'the call written');
    // the answer came 20 s after the request: the 15 s cache entry still serves the next ring
    stream.push(...answeredCall('p-2'));
    stream.end();
    await connector.drain();
    expect(purposes).toEqual(['screen-pop']);
    await connector.stop();
  });

  it('a screen pop that misses its deadline leaves its lookup running: delivery uses its answer, no second lookup', async () => {
    const { base, adapter, purposes, answer } = lookupRecorder({ held: true });
    const { stream, connector, pops } = setup({
      lookupTimeoutMs: 30,
      routes: { [TOKEN]: { adapters: [{ name: 'memory', adapter }] } },
    });
    await connector.start();
    const events = answeredCall('late-1');
    stream.push(events[0] as OvhEvent);
    await waitFor(() => pops.length === 1, 'the screen pop');
    expect(pops[0]?.matches).toEqual([]);
    answer();
    stream.push(...events.slice(1));
    stream.end();
    await connector.drain();
    expect(purposes, 'the late lookup was asked again for delivery').toEqual(['screen-pop']);
    expect(base.activities.map((a) => a.contactId)).toEqual(['alice']);
    await connector.stop();
  });

  it('a lookup still queued past the cache time is joined by the delivery, not asked twice', async () => {
    let advance = (_ms: number) => {};
    const { base, adapter, purposes, answer } = lookupRecorder({ held: true });
    const { stream, connector, pops, time } = setup({
      lookupCacheTtlMs: 15_000,
      lookupTimeoutMs: 30,
      routes: { [TOKEN]: { adapters: [{ name: 'memory', adapter }] } },
    });
    advance = time.advance;
    await connector.start();
    const events = answeredCall('queued-1');
    stream.push(events[0] as OvhEvent);
    await waitFor(() => pops.length === 1, 'the screen pop');
    // the lookup waits in the CRM's queue for 90 s, longer than the 15 s cache time
    advance(90_000);
    stream.push(...events.slice(1));
    // the delivery has looked the caller up: it joined the queued lookup, or asked again
    await waitFor(
      () => connector.stats().lookupCacheHits + purposes.length - 1 >= 1,
      'the delivery to look the caller up',
    );
    answer();
    stream.end();
    await connector.drain();
    expect(purposes, 'the delivery asked again while the first lookup was still queued').toEqual([
      'screen-pop',
    ]);
    expect(base.activities.map((a) => a.contactId)).toEqual(['alice']);
    await connector.stop();
  });

  it('a delivery long after the call uses the answer that arrived during the call, whatever its age', async () => {
    const { base, adapter, purposes } = lookupRecorder();
    const { stream, connector, pops, time } = setup({
      lookupCacheTtlMs: 60_000,
      routes: { [TOKEN]: { adapters: [{ name: 'memory', adapter }] } },
    });
    await connector.start();
    const events = answeredCall('lagging-1');
    stream.push(events[0] as OvhEvent);
    await waitFor(() => pops.length === 1, 'the screen pop');
    expect(pops[0]?.matches[0]?.id).toBe('alice');
    // the call's delivery comes 10 minutes later (a backlog), long past the 60 s cache time
    time.advance(10 * 60_000);
    stream.push(...events.slice(1));
    stream.end();
    await connector.drain();
    expect(purposes, 'the lagging delivery asked the CRM again').toEqual(['screen-pop']);
    expect(base.activities.map((a) => a.contactId)).toEqual(['alice']);
    await connector.stop();
  });

  it('rejects routes that give two different adapters one name', () => {
    expect(() =>
      createConnector({
        stream: pushStream(),
        store: createMemoryStore(),
        routes: {
          a: { adapters: [{ name: 'crm', adapter: memoryAdapter() }] },
          b: { adapters: [{ name: 'crm', adapter: memoryAdapter() }] },
        },
      }),
    ).toThrow(/adapter name "crm".*two different adapters/);
    expect(() =>
      createConnector({ stream: pushStream(), store: createMemoryStore(), routes: { a: { adapters: [] } } }),
    ).toThrow(/invalid connector routes/);
  });
});

describe('createConnector — delivery under failure', () => {
  it('a flaky CRM (429 + Retry-After, 5xx bursts, timeouts): every call logged exactly once', async () => {
    let clock = () => 0;
    const writeTimes: number[] = [];
    let writes = 0;
    let slowInFlight = 0;
    // Script per write attempt: 429 (Retry-After 7 s), three 503s, a timeout whose write lands late, then fine.
    const script = ['429', '503', '503', '503', 'slow', 'ok', '500', 'ok', 'slow', '429'];
    const { stream, adapter, connector, time } = setup({
      adapter: {
        capabilities: { batchLogCall: false },
        beforeOperation: async (operation) => {
          if (operation !== 'write') return;
          writeTimes.push(clock());
          const step = script[writes++] ?? 'ok';
          if (step === '429')
            throw new AdapterError('rate-limit', 'slow down', { retryAfterMs: 7_000, status: 429 });
          if (step === '503' || step === '500') throw new AdapterError('transient', `CRM answered ${step}`);
          if (step === 'slow') {
            slowInFlight++;
            await new Promise((resolve) => setTimeout(resolve, 300));
            slowInFlight--;
          }
        },
      },
      delivery: { baseDelayMs: 100, maxAttempts: 10, timeoutMs: 50, concurrency: 1 },
    });
    clock = time.clock;
    const retryAfterGaps: number[] = [];
    await connector.start();
    const ids = ['f-1', 'f-2', 'f-3', 'f-4'];
    for (const id of ids) stream.push(...answeredCall(id));
    stream.end();
    await connector.drain();
    // Late writes of timed-out attempts land after the retry: still one activity per call.
    await waitFor(() => slowInFlight === 0, 'the late writes to land');
    expect(writes, 'every scripted attempt ran').toBeGreaterThanOrEqual(script.length);
    for (const id of ids) expect(adapter.activitiesFor(id), id).toHaveLength(1);
    expect(adapter.activities).toHaveLength(ids.length);
    expect(await connector.outbox.counts()).toEqual({ pending: 0, delivered: 4, dead: 0 });
    // The attempt after a 429 waited at least its Retry-After.
    retryAfterGaps.push((writeTimes[1] ?? 0) - (writeTimes[0] ?? 0));
    expect(retryAfterGaps[0]).toBeGreaterThanOrEqual(7_000);
    expect(connector.stats().retries).toBeGreaterThanOrEqual(7);
    await connector.stop();
  });

  it('a CRM that keeps failing ends in dead letters; replay delivers them once it recovers', async () => {
    let down = true;
    const { stream, adapter, connector } = setup({
      adapter: {
        beforeOperation: (operation) => {
          if (operation === 'write' && down) throw new AdapterError('transient', 'CRM answered 503');
        },
      },
      delivery: { maxAttempts: 3, baseDelayMs: 10 },
    });
    const dead: string[] = [];
    connector.on('dead-letter', (d) => dead.push(d.entry.id));
    await connector.start();
    stream.push(...answeredCall('d-1'), ...answeredCall('d-2'));
    stream.end();
    await connector.drain();
    expect(dead.sort()).toEqual([
      idempotencyKey('memory', TOKEN, 'd-1', 'log-call'),
      idempotencyKey('memory', TOKEN, 'd-2', 'log-call'),
    ]);
    const letters = await connector.outbox.listDeadLetters();
    expect(letters.map((l) => [l.attempts, l.lastError?.kind])).toEqual([
      [3, 'transient'],
      [3, 'transient'],
    ]);
    expect(adapter.activities).toHaveLength(0);
    down = false;
    expect(await connector.outbox.replayDeadLetters({ adapter: 'memory' })).toBe(2);
    await connector.drain();
    expect(adapter.activities.map((a) => a.externalId).sort()).toEqual(['d-1', 'd-2']);
    expect(await connector.outbox.counts('memory')).toEqual({ pending: 0, delivered: 2, dead: 0 });
    await connector.stop();
  });

  it('an auth failure pauses the adapter: no dead letter, every entry delivered once the credentials work', async () => {
    const { stream, adapter, connector, time } = setup();
    // the credentials are refused for the first 12 writes (several pauses), then fixed
    adapter.failNext('auth', 12, { on: 'write' });
    const paused: number[] = [];
    connector.on('adapter-paused', (event) => paused.push(event.until - time.clock()));
    await connector.start();
    for (let i = 0; i < 10; i++) stream.push(...answeredCall(`a-${i}`, `06123456${String(10 + i)}`));
    stream.end();
    await connector.drain();
    expect(await connector.outbox.listDeadLetters()).toEqual([]);
    expect(adapter.activities).toHaveLength(10);
    for (let i = 0; i < 10; i++) expect(adapter.activitiesFor(`a-${i}`)).toHaveLength(1);
    // paused, and each pause longer than the one before (a slow retry, not a dead letter)
    expect(paused.length).toBeGreaterThanOrEqual(2);
    expect(paused[1]).toBeGreaterThan(paused[0] as number);
    await connector.stop();
  });

  it('an entry another process made due again (outbox retry on the shared store) is delivered without a restart', async () => {
    const { stream, adapter, connector, store } = setup({ outboxPollIntervalMs: 20 });
    adapter.failNext('invalid', 1, { on: 'write' });
    await connector.start();
    stream.push(...answeredCall('x-1'));
    stream.end();
    await connector.drain();
    expect(await connector.outbox.listDeadLetters()).toHaveLength(1);
    // what `cti-runner outbox retry` does from another process: straight on the store, no notify()
    expect(await store.outbox.requeue({ status: 'dead' }, Date.UTC(2026, 0, 5, 13))).toBe(1);
    await waitFor(() => adapter.activitiesFor('x-1').length === 1, 'the call x-1 written');
    await connector.stop();
  });

  it('a Retry-After longer than the cap is cut to the cap; a daily-quota wait is kept whole', async () => {
    const waits = async (error: AdapterError) => {
      let clock = () => 0;
      const writeTimes: number[] = [];
      const { stream, connector, time } = setup({
        adapter: {
          capabilities: { batchLogCall: false },
          beforeOperation: (operation) => {
            if (operation !== 'write') return;
            writeTimes.push(clock());
            if (writeTimes.length === 1) throw error;
          },
        },
        delivery: { baseDelayMs: 1, maxAttempts: 5, timeoutMs: 200, maxRetryAfterMs: 120_000 },
      });
      clock = time.clock;
      await connector.start();
      stream.push(...answeredCall('r-1'));
      stream.end();
      await connector.drain();
      await connector.stop();
      return (writeTimes[1] ?? 0) - (writeTimes[0] ?? 0);
    };
    const capped = await waits(
      new AdapterError('rate-limit', 'slow down', { retryAfterMs: 3_600_000, status: 429 }),
    );
    expect(capped).toBeGreaterThanOrEqual(120_000);
    expect(capped).toBeLessThan(3_600_000);
    const daily = await waits(
      new AdapterError('rate-limit', 'daily quota', { retryAfterMs: 3_600_000, status: 429, quota: 'daily' }),
    );
    expect(daily).toBeGreaterThanOrEqual(3_600_000);
  });

  it('batches due calls through logCalls when the adapter can', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let first = true;
    let held = false;
    const { stream, adapter, connector, store } = setup({
      adapter: {
        beforeOperation: async (operation) => {
          if (operation === 'write' && first) {
            first = false;
            held = true;
            await gate;
          }
        },
      },
      delivery: { concurrency: 1, batchSize: 10, timeoutMs: 5_000 },
    });
    await connector.start();
    stream.push(...answeredCall('b-0'));
    await waitFor(() => held, "b-0's write in flight, alone");
    for (const id of ['b-1', 'b-2', 'b-3', 'b-4']) stream.push(...answeredCall(id));
    // the four calls wait in the outbox meanwhile (b-0 is pending too until its write ends)
    await waitFor(async () => (await store.outbox.counts()).pending >= 5, 'five calls in the outbox');
    expect((await store.outbox.counts()).pending).toBe(5);
    release();
    stream.end();
    await connector.drain();
    const writes = adapter.operations.filter((o) => o.operation === 'write');
    expect(writes).toHaveLength(2);
    expect(writes[1]?.key?.split(',')).toHaveLength(4);
    expect(adapter.activities).toHaveLength(5);
    await connector.stop();
  });

  it('never runs more deliveries at once than the adapter concurrency', async () => {
    let inFlight = 0;
    let started = 0;
    let most = 0;
    const { stream, adapter, connector } = setup({
      adapter: {
        capabilities: { batchLogCall: false },
        beforeOperation: async (operation) => {
          if (operation !== 'write') return;
          inFlight++;
          started++;
          most = Math.max(most, inFlight);
          // a write lasts until a second one runs beside it (or none is left to come), then some
          // turns of the event loop more: the two slots are seen full however slow the machine,
          // and a third delivery, were it let through, would start meanwhile
          await waitFor(() => inFlight >= 2 || started === 8, 'a second write in flight');
          for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
          inFlight--;
        },
      },
      delivery: { concurrency: 2, timeoutMs: 5_000 },
    });
    await connector.start();
    for (let i = 0; i < 8; i++) stream.push(...answeredCall(`k-${i}`));
    stream.end();
    await connector.drain();
    expect(adapter.activities).toHaveLength(8);
    expect(most).toBe(2);
    await connector.stop();
  });

  it('one slow delivery does not hold back the next ones (free slots keep working)', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { stream, adapter, connector } = setup({
      adapter: {
        capabilities: { batchLogCall: false },
        beforeOperation: async (operation, detail) => {
          if (operation === 'write' && detail.key?.includes(':s-0:')) await gate;
        },
      },
      delivery: { concurrency: 2, timeoutMs: 5_000 },
    });
    await connector.start();
    stream.push(...answeredCall('s-0'));
    await waitFor(() => adapter.operations.some((o) => o.key?.includes(':s-0:')), "s-0's write started");
    for (const id of ['s-1', 's-2', 's-3']) stream.push(...answeredCall(id));
    await waitFor(() => adapter.activities.length === 3, 'the three calls written');
    expect(adapter.activitiesFor('s-0')).toHaveLength(0);
    release();
    stream.end();
    await connector.drain();
    expect(adapter.activities).toHaveLength(4);
    await connector.stop();
  });

  it('a slow CRM does not hold back screen pops of other tokens', async () => {
    const time = fakeTime();
    const stream = pushStream();
    let releaseSlow: () => void = () => {};
    const slowGate = new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    const slow = memoryAdapter({
      name: 'slow',
      contacts: [{ id: 's', name: 'Slow Contact', phone: '0611111111' }],
      beforeOperation: () => slowGate,
    });
    const fast = memoryAdapter({
      name: 'fast',
      contacts: [{ id: 'f', name: 'Fast Contact', phone: '0622222222' }],
    });
    const connector = createConnector({
      stream,
      store: createMemoryStore({ clock: time.clock }),
      routes: {
        'tok-slow': { adapters: [{ name: 'slow', adapter: slow }] },
        'tok-fast': { adapters: [{ name: 'fast', adapter: fast }] },
      },
      clock: time.clock,
      tracker: { settleMs: 0 },
      sleep: time.sleep,
      housekeepingIntervalMs: 0,
      lookupTimeoutMs: 60_000,
    });
    const pops: ScreenPop[] = [];
    let fastPopped: () => void = () => {};
    const fastPop = new Promise<void>((resolve) => {
      fastPopped = resolve;
    });
    connector.on('screen-pop', (pop) => {
      pops.push(pop);
      if (pop.token === 'tok-fast') fastPopped();
    });
    await connector.start();
    const ring = (token: string, from: string, callId: string) =>
      normalize(
        createScenario({ token }).inboundMissed({ from, to: '0972101010', ringSeconds: 10, callId }).events(),
      );
    const slowCall = ring('tok-slow', '0611111111', 'slow-1');
    const fastCall = ring('tok-fast', '0622222222', 'fast-1');
    stream.push(slowCall[0] as OvhEvent, fastCall[0] as OvhEvent);
    await fastPop;
    expect(pops.map((p) => [p.token, p.matches[0]?.id])).toEqual([['tok-fast', 'f']]);
    releaseSlow();
    stream.push(slowCall[1] as OvhEvent, fastCall[1] as OvhEvent);
    stream.end();
    await connector.drain();
    expect(pops.map((p) => [p.token, p.matches[0]?.id])).toEqual([
      ['tok-fast', 'f'],
      ['tok-slow', 's'],
    ]);
    expect(slow.activities).toHaveLength(1);
    expect(fast.activities).toHaveLength(1);
    await connector.stop();
  });
});

describe('createConnector — housekeeping', () => {
  it('tick() closes an orphan call, logs it as inferred and saves the snapshot', async () => {
    const { stream, adapter, connector, time, store } = setup({ tracker: { ringingTimeoutMs: 60_000 } });
    await connector.start();
    const [ring] = answeredCall('o-1');
    stream.push(ring as OvhEvent);
    await waitFor(() => connector.stats().inFlight.calls === 1, 'the call in flight');
    await connector.tick();
    expect(adapter.activities).toHaveLength(0);
    time.advance(60_000);
    await connector.tick();
    stream.end();
    await connector.drain();
    expect(adapter.activities).toEqual([expect.objectContaining({ externalId: 'o-1', outcome: 'missed' })]);
    expect(adapter.activities[0]?.record).toMatchObject({ inferred: true });
    expect(JSON.parse((await store.snapshots.load('tracker')) ?? '{}').calls).toEqual([]);
    await connector.stop();
  });
});

describe('createConnector — settle window', () => {
  it('an end that comes a poll before its answer is logged once, with the right times, after the window', async () => {
    const { stream, adapter, connector, pops, time } = setup({ tracker: { settleMs: 3_000 } });
    await connector.start();
    const [ring, answer, end] = answeredCall() as [OvhEvent, OvhEvent, OvhEvent];
    stream.push({ ...ring, poll: 1 }, { ...end, poll: 1 });
    await waitFor(() => pops.length === 1, 'the screen pop');
    stream.push({ ...answer, poll: 2 });
    // held: the answer is read, the call is still in flight and nothing is written before the window ends
    await waitFor(() => connector.stats().events === 3, 'the answer to be read');
    expect(connector.stats().inFlight.calls, 'the call is held for the settle window').toBe(1);
    expect(adapter.activities).toHaveLength(0);
    time.advance(3_000);
    await waitFor(() => adapter.activities.length === 1, 'the call written');
    expect(adapter.activities[0]).toMatchObject({ outcome: 'answered', durationSeconds: 42 });
    expect(connector.stats()).toMatchObject({ calls: 1, screenPops: 1 });
    await connector.stop();
  });

  it('drain() finishes the calls still settling (the stream ended: nothing more can come)', async () => {
    const { stream, adapter, connector } = setup({ tracker: { settleMs: 60_000 } });
    await connector.start();
    stream.push(...answeredCall());
    stream.end();
    await connector.drain();
    expect(adapter.activities).toHaveLength(1);
    await connector.stop();
  });
});

/** SQLite's own words when the disk is full (what better-sqlite3 throws). */
function diskFull(): Error {
  return Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
}

/** A store whose outbox writes or reads fail while `failing()` says so. */
function faultyStore(base: Store, failing: { writes?: () => boolean; reads?: () => boolean }): Store {
  const outbox = base.outbox;
  return {
    ...base,
    outbox: {
      ...outbox,
      enqueue: (entry) => (failing.writes?.() ? Promise.reject(diskFull()) : outbox.enqueue(entry)),
      due: (adapter, now, limit) =>
        failing.reads?.()
          ? Promise.reject(new Error('database disk image is malformed'))
          : outbox.due(adapter, now, limit),
      nextDueAt: (adapter) => outbox.nextDueAt(adapter),
      get: (id) => outbox.get(id),
      markDelivered: (...args) => outbox.markDelivered(...args),
      markRetry: (...args) => outbox.markRetry(...args),
      markDead: (...args) => outbox.markDead(...args),
      list: (filter) => outbox.list(filter),
      requeue: (...args) => outbox.requeue(...args),
      purge: (filter) => outbox.purge(filter),
      counts: (adapter) => outbox.counts(adapter),
    },
  };
}

describe('createConnector — a store that refuses writes or reads', () => {
  it('a full disk loses no call: ended calls wait in memory and are logged once it has room again', async () => {
    let full = true;
    const time = fakeTime();
    const base = createMemoryStore({ clock: time.clock });
    const { stream, adapter, connector, errors } = setup({
      store: faultyStore(base, { writes: () => full }),
      outboxPollIntervalMs: 10,
    });
    await connector.start();
    const ids = Array.from({ length: 20 }, (_, i) => `full-${i}`);
    for (const id of ids) stream.push(...answeredCall(id));
    await waitFor(() => connector.stats().unwritten === 20, '20 calls unwritten');
    expect(adapter.activities).toHaveLength(0);
    expect(await base.outbox.counts()).toMatchObject({ pending: 0 });
    // said once, not twenty times
    expect(
      errors.filter((e) => String((e as { context: string }).context).includes('refused a write')),
    ).toHaveLength(1);
    full = false;
    await waitFor(() => adapter.activities.length === 20, 'the 20 calls written');
    expect(new Set(adapter.activities.map((a) => a.idempotencyKey)).size).toBe(20);
    expect(connector.stats()).toMatchObject({ unwritten: 0, unwrittenDropped: 0 });
    await connector.stop();
  });

  it('keeps a bounded number in memory and says which it gave up', async () => {
    const { stream, connector } = setup({
      store: faultyStore(createMemoryStore(), { writes: () => true }),
      maxUnwrittenEntries: 5,
      outboxPollIntervalMs: 0,
    });
    await connector.start();
    for (let i = 0; i < 8; i++) stream.push(...answeredCall(`b-${i}`));
    await waitFor(() => connector.stats().unwrittenDropped === 3, 'three unwritten calls dropped');
    expect(connector.stats().unwritten).toBe(5);
    await connector.stop();
  });

  it('a store that fails to read (a damaged page) pauses delivery, it does not stop it for good', async () => {
    let readFailures = 3;
    const { stream, adapter, connector, errors } = setup({
      store: faultyStore(createMemoryStore(), { reads: () => readFailures-- > 0 }),
    });
    await connector.start();
    stream.push(...answeredCall('after-damage'));
    await waitFor(() => adapter.activities.length === 1, 'the call written');
    expect(
      errors.some((e) => String((e as { context: string }).context).includes('reading the outbox failed')),
    ).toBe(true);
    expect(
      errors.some((e) => String((e as { context: string }).context).includes('delivery loop stopped')),
    ).toBe(false);
    await connector.stop();
  });
});

describe('createConnector — snapshots soon after a change', () => {
  it('a call in flight is in the store shortly after its events, not only at the next housekeeping', async () => {
    const { stream, connector, store } = setup({ snapshotDelayMs: 10 });
    await connector.start();
    const [ring, answer] = answeredCall('in-flight-1') as [OvhEvent, OvhEvent, OvhEvent];
    stream.push(ring, answer);
    const saved = await waitForValue(async () => {
      const snapshot = await store.snapshots.load('tracker');
      return snapshot?.includes('in-flight-1') ? snapshot : undefined;
    }, 'a tracker snapshot with the call');
    // a crash now would restart from this snapshot: the call and its answer are in it
    expect(saved).toContain('in-flight-1');
    expect(saved).toContain('callingAt');
    await connector.stop();
  });
});

describe('createConnector — stray end events', () => {
  it('an end for a call never seen is not logged (healing logs it if OVH billed a call)', async () => {
    const { stream, adapter, connector } = setup();
    await connector.start();
    const [, , end] = answeredCall('stray-1') as [OvhEvent, OvhEvent, OvhEvent];
    stream.push(end, ...answeredCall('whole-1'));
    stream.end();
    await connector.drain();
    expect(adapter.activities.map((a) => a.externalId)).toEqual(['whole-1']);
    expect(connector.stats()).toMatchObject({ calls: 2, strayEnds: 1 });
    await connector.stop();
  });
});

describe('createConnector — restarts', () => {
  it('saves the tracker on stop and resumes the call in flight on start', async () => {
    const time = fakeTime();
    const store = createMemoryStore({ clock: time.clock });
    const events = answeredCall('r-1');
    const first = setup({ store });
    await first.connector.start();
    first.stream.push(events[0] as OvhEvent, events[1] as OvhEvent);
    await waitFor(
      () => first.connector.stats().inFlight.calls === 1,
      'the call in flight on the first connector',
    );
    await first.connector.stop();
    expect(first.adapter.activities).toHaveLength(0);
    expect(await store.snapshots.load('tracker')).toContain('r-1');

    const second = setup({ store });
    await second.connector.start();
    expect(second.connector.stats().inFlight).toEqual({ calls: 1, queueSessions: 0 });
    second.stream.push(events[2] as OvhEvent);
    second.stream.end();
    await second.connector.drain();
    expect(second.adapter.activities).toEqual([
      expect.objectContaining({
        externalId: 'r-1',
        outcome: 'answered',
        durationSeconds: 42,
        contactId: 'alice',
      }),
    ]);
    await second.connector.stop();
  });

  it('resumes pending outbox entries left by a previous run', async () => {
    const time = fakeTime();
    const store = createMemoryStore({ clock: time.clock });
    // The CRM never answers: the attempt times out and stays pending when the connector stops.
    const first = setup({
      store,
      adapter: { beforeOperation: (op) => (op === 'write' ? new Promise(() => {}) : undefined) },
    });
    await first.connector.start();
    first.stream.push(...answeredCall('p-1'));
    await waitFor(async () => (await store.outbox.counts()).pending > 0, 'the call in the outbox');
    await first.connector.stop();
    expect(await store.outbox.counts()).toEqual({ pending: 1, delivered: 0, dead: 0 });

    const second = setup({ store });
    await second.connector.start();
    second.stream.end();
    await second.connector.drain();
    expect(second.adapter.activitiesFor('p-1')).toHaveLength(1);
    await second.connector.stop();
  });
});

describe('createConnector — calls handed over between runners', () => {
  it('a snapshot is never saved while finished calls are being written (each call is in one or the other)', async () => {
    const base = createMemoryStore();
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const store: Store = {
      ...base,
      outbox: {
        ...base.outbox,
        enqueue: async (entry) => {
          await gate; // a slow outbox (BullMQ: a few round trips per entry)
          return base.outbox.enqueue(entry);
        },
      },
    };
    const { stream, connector, time } = setup({
      store,
      snapshotKey: 'tracker:slow',
      tracker: { settleMs: 2_000 },
    });
    await connector.start();
    const events = answeredCall('call-settling');
    stream.push(...events);
    await waitFor(() => connector.stats().events === events.length, 'every event of the call read'); // its end seen: settling
    time.advance(3_000);
    // two housekeeping rounds at once: the first finishes the call and starts writing it, the
    // second saves a snapshot
    const first = connector.tick();
    const second = connector.tick();
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    const saved = await base.snapshots.load('tracker:slow');
    const inOutbox = (await base.outbox.list({})).length > 0;
    expect(
      saved === undefined ||
        (JSON.parse(saved) as { calls: Array<{ id: string }> }).calls.some((c) => c.id === 'call-settling') ||
        inOutbox,
      'a snapshot was saved without a call whose outbox entry was not written yet (a crash now loses it)',
    ).toBe(true);
    open();
    await Promise.all([first, second]);
    expect((await base.outbox.list({})).map((entry) => entry.id.includes('call-settling'))).toEqual([true]);
    await connector.stop();
  });

  it('a runner that adopts calls saves them at once: one dying right after leaves them to the next', async () => {
    const store = createMemoryStore(); // shared by the runners, as Redis is
    const runner = async (name: string) => {
      const made = setup({ store, snapshotKey: `tracker:${name}`, housekeepingIntervalMs: 0 });
      await made.connector.start();
      return made;
    };
    const a = await runner('a');
    const events = answeredCall('call-handed');
    a.stream.push(...events.slice(0, 2)); // ringing, then answered
    await waitFor(() => a.connector.activeCalls().length === 1, 'the call active on a');
    await a.connector.handOver([TOKEN], (token) => `handover:${token}`);
    const b = await runner('b');
    expect(await b.connector.adopt(`handover:${TOKEN}`, [TOKEN])).toBe(1);
    // b dies here, before any periodic snapshot (there is none: housekeeping is off)
    const c = await runner('c');
    expect(
      await c.connector.adopt('tracker:b', [TOKEN]),
      'the call b adopted was not in its saved snapshot: the runner after it lost the call',
    ).toBe(1);
    c.stream.push(...events.slice(2));
    c.stream.end();
    await c.connector.drain();
    expect(c.adapter.activities.map((x) => x.externalId)).toEqual(['call-handed']);
    expect(c.adapter.activities[0]?.durationSeconds, 'the call was logged without its start').toBe(42);
    for (const { connector } of [a, b, c]) await connector.stop();
  });

  it('adopting from several snapshots takes each call from the newest, and carries them before its own snapshot', async () => {
    const store = createMemoryStore();
    const runner = async (name: string) => {
      const made = setup({ store, snapshotKey: `tracker:${name}`, housekeepingIntervalMs: 0 });
      await made.connector.start();
      return made;
    };
    const a = await runner('a');
    const events = answeredCall('call-twice');
    a.stream.push(events[0] as OvhEvent); // ringing only: the older state, handed over
    await waitFor(() => a.connector.activeCalls().length === 1, 'the call active on a');
    await a.connector.handOver([TOKEN], (token) => `handover:${token}`);
    const b = await runner('b');
    await b.connector.adopt(`handover:${TOKEN}`, [TOKEN]);
    b.stream.push(events[1] as OvhEvent); // answered: b's snapshot is newer
    await waitFor(() => b.connector.activeCalls()[0]?.answeredAt !== undefined, 'b to see the call answered');
    await b.connector.tick();
    // b dies. c reads b's snapshot first, then the hand-over b was given, and carries the call.
    const c = await runner('c');
    expect(
      await c.connector.adopt([`tracker:b`, `handover:${TOKEN}`], [TOKEN], { carryTo: `carried:${TOKEN}` }),
    ).toBe(1);
    expect(
      c.connector.activeCalls()[0]?.answeredAt,
      'the older hand-over won over the newer snapshot',
    ).toBeDefined();
    const carried = await store.snapshots.load(`carried:${TOKEN}`);
    expect(
      (JSON.parse(carried ?? '{}') as { calls?: Array<{ id: string }> }).calls?.map((c) => c.id),
    ).toEqual(['call-twice']);
    for (const { connector } of [a, b, c]) await connector.stop();
  });
});
