/**
 * Pipeline benchmark (run by `node scripts/bench.mjs pipeline` from the repo root).
 *
 * Event-arrival-to-ScreenPop latency with `memoryAdapter` (200 contacts), the events coming from
 * the fake OVH events server on loopback through `createEventStream`. One call at a time rings
 * (a new caller each time, so every pop pays a real lookup), then ends (so deliveries run beside the
 * pops, as in production). Reports:
 * - p50 / p99 of `ScreenPop.latencyMs`: from the event's arrival in the connector to the pop
 *   (target p99 < 20 ms);
 * - p50 / p99 from the server push to the pop (loopback long poll included; informational);
 * - the baseline measured in the same run: the same lookup called directly on the adapter, p50 / p99.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  createConnector,
  createEventStream,
  createMemoryStore,
  memoryAdapter,
  parsePhone,
  type ScreenPop,
  silentLogger,
} from '@cti-bridge/core';
import { createScenario, startFakeOvhEventsServer } from '@cti-bridge/core/testing';
import { benchReporter } from '../../../scripts/bench-kit.js';

const BENCH = 'core/pipeline';
const TOKEN = 'BENCH0000-0000-4000-8000-000000000001';
const CALLS = 400;
const WARMUP = 40;

const print = benchReporter(BENCH);

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const callerOf = (i: number) => `06${String(20_000_000 + i * 13).slice(-8)}`;

async function main(): Promise<void> {
  const contacts = Array.from({ length: 200 }, (_, i) => ({
    id: `c${i}`,
    name: `Contact ${i}`,
    phone: i % 2 ? callerOf(i) : `+33 ${callerOf(i).slice(1, 2)} ${callerOf(i).slice(2)}`,
  }));
  const adapter = memoryAdapter({ contacts });

  // Baseline: the lookup alone, straight on the adapter.
  const ctx = {
    logger: silentLogger,
    state: { get: async () => undefined, set: async () => {}, delete: async () => {} },
  };
  const baseline: number[] = [];
  for (let i = 0; i < CALLS + WARMUP; i++) {
    const start = performance.now();
    await adapter.findContacts({ phone: parsePhone(callerOf(i)) }, ctx);
    if (i >= WARMUP) baseline.push(performance.now() - start);
  }

  const server = await startFakeOvhEventsServer({ holdMs: 30_000 });
  const stream = createEventStream({ tokens: [TOKEN], baseUrl: server.url, watchdogMs: 0 });
  const connector = createConnector({
    stream,
    store: createMemoryStore(),
    routes: { [TOKEN]: { adapters: [{ name: 'memory', adapter }] } },
    housekeepingIntervalMs: 0,
    lookupCacheTtlMs: 1,
  });
  let onPop: (pop: ScreenPop) => void = () => {};
  connector.on('screen-pop', (pop) => onPop(pop));
  let ended = 0;
  let allEnded: () => void = () => {};
  const everyCallEnded = new Promise<void>((resolve) => {
    allEnded = resolve;
  });
  connector.on('call', () => {
    if (++ended === CALLS + WARMUP) allEnded();
  });
  await connector.start();

  const arrival: number[] = [];
  const pushToPop: number[] = [];
  for (let i = 0; i < CALLS + WARMUP; i++) {
    const events = createScenario({
      token: TOKEN,
      seed: i + 1,
      start: new Date(Date.UTC(2026, 0, 5, 9) + i * 60_000),
    })
      .inboundMissed({ from: callerOf(i), to: '0972101010', ringSeconds: 5, callId: `bench-${i}` })
      .events();
    const popped = new Promise<ScreenPop>((resolve) => {
      onPop = resolve;
    });
    const pushedAt = performance.now();
    server.push(TOKEN, [events[0]]);
    const pop = await popped;
    const total = performance.now() - pushedAt;
    server.push(TOKEN, events.slice(1));
    if (i >= WARMUP) {
      arrival.push(pop.latencyMs);
      pushToPop.push(total);
    }
  }
  await everyCallEnded;
  await stream.close();
  await connector.drain();
  await connector.stop();
  await server.close();
  const delivered = adapter.activities.length;
  if (delivered !== CALLS + WARMUP)
    throw new Error(`expected ${CALLS + WARMUP} activities, got ${delivered}`);

  print('calls', CALLS, 'calls');
  print('arrival → screen pop p50', percentile(arrival, 50), 'ms');
  const p99 = percentile(arrival, 99);
  print('arrival → screen pop p99', p99, 'ms', '< 20', p99 < 20);
  print('server push → screen pop p50 (loopback poll)', percentile(pushToPop, 50), 'ms');
  print('server push → screen pop p99 (loopback poll)', percentile(pushToPop, 99), 'ms');
  print('baseline: direct lookup p50', percentile(baseline, 50), 'ms');
  print('baseline: direct lookup p99', percentile(baseline, 99), 'ms');
  // Context: on a shared machine the p99s follow the load more than the code.
  print('load average (1 min) at the end', loadavg()[0] ?? 0, 'load');
}

await main();
