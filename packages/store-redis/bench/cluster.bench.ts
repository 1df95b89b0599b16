/**
 * Cluster delivery benchmark (run by `node scripts/bench.mjs cluster` from the repo root; needs the
 * Redis at REDIS_URL, default redis://127.0.0.1:6379).
 *
 * The same outbox (400 calls, made by core's connector from scenario events) is delivered by 1 and
 * then by 3 "runners" — connectors in this process, each with its own Redis store (its own claim
 * owner) and its own CRM client — to a CRM that answers each write in 50 ms (memoryAdapter with a
 * delay), 4 deliveries at once per runner. Reports delivered calls/s for each, the ratio (target
 * 3 runners / 1 ≥ 2.5: the shared outbox's claims must not be the bottleneck) and writes sent twice
 * (target 0), for the Lua outbox and again for the BullMQ outbox (`outbox: 'bullmq'`). Takeover time after a SIGKILL is printed by the runner's 3-process test.
 */
import { performance } from 'node:perf_hooks';
import {
  createConnector,
  createMemoryStore,
  memoryAdapter,
  type NewOutboxEntry,
  normalizeEvent,
  type OvhEvent,
  silentLogger,
} from '@cti-bridge/core';
import { createScenario } from '@cti-bridge/core/testing';
import { benchReporter } from '../../../scripts/bench-kit.js';
import { createRedisStore } from '../src/index.js';
import { deletePrefix, probeRedis, randomPrefix } from '../src/testing/index.js';

const BENCH = 'store-redis/cluster';
const CALLS = 400;
const LATENCY_MS = 50;
const print = benchReporter(BENCH);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Outbox entries of CALLS calls, as core's connector writes them. */
async function makeEntries(): Promise<NewOutboxEntry[]> {
  const scenario = createScenario({ token: 'BENCH000-0000-4000-8000-00000000C1A5' });
  for (let i = 0; i < CALLS; i++) {
    scenario.inboundAnswered({
      from: `06${String(30_000_000 + i).slice(-8)}`,
      to: '0972101010',
      ringSeconds: 2,
      talkSeconds: 20,
    });
  }
  const events: OvhEvent[] = scenario.events().flatMap((raw) => {
    const result = normalizeEvent(raw, { token: 'bench' });
    return result.ok ? [result.event] : [];
  });
  const store = createMemoryStore();
  const connector = createConnector({
    stream: (async function* () {
      yield* events;
    })(),
    routes: { '*': { adapters: [{ name: 'crm', adapter: memoryAdapter({ name: 'crm' }) }] } },
    store,
    logger: silentLogger,
  });
  await connector.start();
  await connector.drain();
  await connector.stop();
  const entries = await store.outbox.list();
  return entries.map(({ id, adapter, kind, payload, createdAt }) => ({
    id,
    adapter,
    kind,
    payload,
    createdAt,
  }));
}

/** Delivers `entries` with `runners` connectors on one Redis prefix; returns calls/s and duplicates. */
async function deliver(
  url: string,
  entries: readonly NewOutboxEntry[],
  runners: number,
  outbox: 'lua' | 'bullmq' = 'lua',
) {
  const prefix = randomPrefix('bench');
  const writer = await createRedisStore({ url, prefix, outbox });
  for (const entry of entries) await writer.outbox.enqueue(entry);
  const writes = new Map<string, number>();
  let stopAll = () => {};
  const stopped = new Promise<void>((resolve) => {
    stopAll = resolve;
  });
  // No events: the runners only deliver. The stream ends when the run is over.
  const idle: AsyncIterable<OvhEvent> = {
    [Symbol.asyncIterator]: () => ({
      next: async (): Promise<IteratorResult<OvhEvent>> => {
        await stopped;
        return { value: undefined, done: true };
      },
    }),
  };
  const started = performance.now();
  const nodes = await Promise.all(
    Array.from({ length: runners }, async (_, n) => {
      const store = await createRedisStore({ url, prefix, owner: `bench-runner-${n}`, outbox });
      const adapter = memoryAdapter({
        name: 'crm',
        capabilities: { batchLogCall: false },
        beforeOperation: async (operation, detail) => {
          if (operation !== 'write') return;
          await sleep(LATENCY_MS);
          if (detail.key) writes.set(detail.key, (writes.get(detail.key) ?? 0) + 1);
        },
      });
      const connector = createConnector({
        stream: idle,
        routes: { '*': { adapters: [{ name: 'crm', adapter, lookup: false }] } },
        store,
        logger: silentLogger,
        delivery: { concurrency: 4, ratePerSecond: 0, batchSize: 1 },
      });
      await connector.start();
      return { store, connector };
    }),
  );
  while ((await writer.outbox.counts()).pending > 0) await sleep(10);
  const seconds = (performance.now() - started) / 1000;
  stopAll();
  for (const { store, connector } of nodes) {
    await connector.stop();
    await store.close();
  }
  await writer.close();
  await deletePrefix(url, prefix);
  const duplicates = [...writes.values()].reduce((sum, n) => sum + (n - 1), 0);
  return { perSecond: entries.length / seconds, duplicates };
}

async function main(): Promise<void> {
  const probe = await probeRedis();
  if (!probe.ok) {
    console.log(`no Redis at ${probe.url} (${probe.reason}): cluster benchmark skipped`);
    return;
  }
  const entries = await makeEntries();
  print('outbox entries', entries.length, 'entries');
  const one = await deliver(probe.url, entries, 1);
  const three = await deliver(probe.url, entries, 3);
  print('delivered with 1 runner', one.perSecond, 'calls/s');
  print('delivered with 3 runners', three.perSecond, 'calls/s');
  const ratio = three.perSecond / one.perSecond;
  print('3 runners / 1 runner', ratio, 'x', '≥ 2.5', ratio >= 2.5);
  // The same with the outbox on BullMQ (store.outbox: 'bullmq').
  const oneBull = await deliver(probe.url, entries, 1, 'bullmq');
  const threeBull = await deliver(probe.url, entries, 3, 'bullmq');
  print('bullmq: delivered with 1 runner', oneBull.perSecond, 'calls/s');
  print('bullmq: delivered with 3 runners', threeBull.perSecond, 'calls/s');
  const ratioBull = threeBull.perSecond / oneBull.perSecond;
  print('bullmq: 3 runners / 1 runner', ratioBull, 'x', '≥ 2.5', ratioBull >= 2.5);
  const duplicates = one.duplicates + three.duplicates + oneBull.duplicates + threeBull.duplicates;
  print('writes sent twice', duplicates, 'writes', '= 0', duplicates === 0);
}

await main();
