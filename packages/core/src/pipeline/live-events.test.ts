import { describe, expect, it } from 'vitest';
import type { ActivityRef } from '../adapter/contract.js';
import { AdapterError } from '../adapter/errors.js';
import { memoryAdapter } from '../adapter/memory-adapter.js';
import type { CallEvent } from '../calls/types.js';
import { silentLogger } from '../logger.js';
import { normalizeEvent } from '../ovh/index.js';
import type { OvhEvent } from '../ovh/types.js';
import { createMemoryStore } from '../store/memory-store.js';
import type { OutboxEntry } from '../store/types.js';
import { createScenario } from '../testing/scenario/index.js';
import { createConnector, kvAdapterState } from './connector.js';
import { DEFAULT_DELIVERY, DeliveryWorker } from './delivery.js';

const TOKEN = 'tok-live';

function events(): OvhEvent[] {
  const raw = createScenario({ token: TOKEN })
    .inboundAnswered({ from: '0612345678', to: '0972101010', ringSeconds: 5, talkSeconds: 42, callId: 'c-1' })
    .events();
  return raw.map((r) => {
    const result = normalizeEvent(r, { token: TOKEN });
    if (!result.ok) throw new Error(result.error);
    return result.event;
  });
}

describe('connector "call-event"', () => {
  it('reports every tracker state change live, in order, before the call is logged', async () => {
    const adapter = memoryAdapter({ contacts: [{ id: 'a', name: 'Alice', phone: '06 12 34 56 78' }] });
    const list = events();
    const connector = createConnector({
      stream: (async function* () {
        yield* list;
      })(),
      store: createMemoryStore(),
      routes: { [TOKEN]: { adapters: [{ name: 'memory', adapter }] } },
      housekeepingIntervalMs: 0,
      outboxPollIntervalMs: 0,
    });
    const seen: CallEvent['type'][] = [];
    connector.on('call-event', (event) => seen.push(event.type));
    await connector.start();
    await connector.drain();
    await connector.stop();
    expect(seen[0]).toBe('call.ringing');
    expect(seen).toContain('call.answered');
    expect(seen.at(-1)).toBe('call.ended');
    expect(adapter.activities).toHaveLength(1);
  });
});

describe('connector drain', () => {
  it('waits for its own adapters only: an entry of another target sharing the store does not hold it', async () => {
    const store = createMemoryStore();
    await store.outbox.enqueue({
      id: 'x',
      adapter: 'webhook.other',
      kind: 'webhook',
      payload: {},
      createdAt: 0,
    });
    const list = events();
    const connector = createConnector({
      stream: (async function* () {
        yield* list;
      })(),
      store,
      routes: { [TOKEN]: { adapters: [{ name: 'memory', adapter: memoryAdapter() }] } },
      housekeepingIntervalMs: 0,
      outboxPollIntervalMs: 0,
    });
    await connector.start();
    await connector.drain();
    await connector.stop();
    expect((await store.outbox.counts('webhook.other')).pending).toBe(1);
    expect((await store.outbox.counts('memory')).delivered).toBe(1);
  });
});

describe('DeliveryWorker — webhook entries', () => {
  const deps = (
    store: ReturnType<typeof createMemoryStore>,
    send?: (entry: OutboxEntry) => Promise<ActivityRef>,
  ) => {
    const delivered: string[] = [];
    const dead: string[] = [];
    let now = 1_000;
    const worker = new DeliveryWorker({
      target: { name: 'webhook.test', adapter: memoryAdapter(), lookup: false },
      options: { ...DEFAULT_DELIVERY, baseDelayMs: 10, maxAttempts: 3, ratePerSecond: 0 },
      store,
      context: { logger: silentLogger, state: kvAdapterState(store.kv, 'webhook.test', () => now) },
      clock: () => now,
      sleep: async (ms) => {
        now += ms;
      },
      random: () => 0.5,
      lookup: async () => [],
      unknownCallerPolicy: () => 'log-only',
      onDelivered: (entry) => delivered.push(entry.id),
      onRetry: () => {},
      onDead: (entry) => dead.push(entry.id),
      onError: () => {},
      ...(send ? { send } : {}),
    });
    return { worker, delivered, dead };
  };

  it('hands the payload to send, retries a transient failure and records the result', async () => {
    const store = createMemoryStore({ clock: () => 1_000 });
    let calls = 0;
    const payloads: unknown[] = [];
    const { worker, delivered } = deps(store, async (entry) => {
      calls++;
      if (calls === 1) throw new AdapterError('transient', 'receiver answered 503');
      payloads.push(entry.payload);
      return { id: 'ok', created: true };
    });
    await store.outbox.enqueue({
      id: 'w-1',
      adapter: 'webhook.test',
      kind: 'webhook',
      payload: { body: '{"x":1}' },
      createdAt: 1_000,
    });
    worker.start();
    worker.notify();
    await worker.whenIdle();
    await worker.stop();
    expect(calls).toBe(2);
    expect(payloads).toEqual([{ body: '{"x":1}' }]);
    expect(delivered).toEqual(['w-1']);
    expect(await store.outbox.get('w-1')).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('a worker without send turns webhook entries into dead letters (invalid)', async () => {
    const store = createMemoryStore({ clock: () => 1_000 });
    const { worker, dead } = deps(store);
    await store.outbox.enqueue({
      id: 'w-2',
      adapter: 'webhook.test',
      kind: 'webhook',
      payload: {},
      createdAt: 1_000,
    });
    worker.start();
    worker.notify();
    await worker.whenIdle();
    await worker.stop();
    expect(dead).toEqual(['w-2']);
  });
});
