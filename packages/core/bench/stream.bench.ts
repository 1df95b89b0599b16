/**
 * OVH stream benchmark (run by `node scripts/bench.mjs stream` from the repo root).
 *
 * 1. RSS of 1,000 idle token loops: one EventStream following 1,000 tokens against the fake events
 *    server, which runs in a child process so that only the client's memory is measured. Reports the
 *    absolute RSS after gc and the delta over the same process before the stream (target < 150 MB).
 * 2. Throughput of parse + validate + normalise + dedupe (what the stream does with each body) on a
 *    realistic ~50k-event corpus from the scenario builder, in events/s, and its ratio to bare
 *    `JSON.parse` of the same bodies measured in the same run (target ≥ 0.6: see
 *    packages/core/README.md, "Stream speed").
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createDeduplicator, createEventStream, normalizeEvent, parseEnvelope } from '@cti-bridge/core';
import { createScenario, startFakeOvhEventsServer, toOvhEnvelopeJson } from '@cti-bridge/core/testing';
import { benchReporter, fullGc } from '../../../scripts/bench-kit.js';

const BENCH = 'core/stream';
const TOKENS = 1000;

const print = benchReporter(BENCH);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Child role: the fake events server, alone in its process.

async function serveFake(): Promise<void> {
  const server = await startFakeOvhEventsServer({ holdMs: 60_000 });
  const send = (message: unknown) => process.send?.(message);
  send({ url: server.url });
  const timer = setInterval(() => send({ held: server.held() }), 50);
  process.on('disconnect', () => {
    clearInterval(timer);
    void server.close().then(() => process.exit(0));
  });
}

// ---------------------------------------------------------------------------------------------
// 1. RSS of 1,000 idle loops.

async function measureIdleLoops(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, CTI_BENCH_ROLE: 'fake-server' },
    execArgv: process.execArgv.filter((arg) => !arg.startsWith('--cpu-prof')),
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let held = 0;
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (message: { url?: string; held?: number }) => {
      if (message.url) resolve(message.url);
      if (message.held !== undefined) held = message.held;
    });
    child.on('exit', (code) => reject(new Error(`fake server exited with ${code}`)));
  });

  fullGc();
  await sleep(100);
  fullGc();
  const before = process.memoryUsage().rss;
  const tokens = Array.from(
    { length: TOKENS },
    (_, i) => `EEEEEEEE-0000-4000-8000-${String(i).padStart(12, '0')}`,
  );
  const stream = createEventStream({ tokens, baseUrl: url, watchdogMs: 0 });
  const deadline = Date.now() + 30_000;
  while (held < TOKENS && Date.now() < deadline) await sleep(50);
  await sleep(500);
  fullGc();
  await sleep(100);
  fullGc();
  const after = process.memoryUsage().rss;
  const heap = process.memoryUsage().heapUsed;
  const loopsHeld = held;
  const closeStart = performance.now();
  await stream.close();
  const closeMs = performance.now() - closeStart;
  child.disconnect();

  const mb = (bytes: number) => bytes / 1024 / 1024;
  print('idle loops held open by the fake', loopsHeld, 'polls', `= ${TOKENS}`, loopsHeld === TOKENS);
  print(`rss with ${TOKENS} idle token loops (after gc)`, mb(after), 'MB', '< 150', mb(after) < 150);
  print(
    `rss delta for ${TOKENS} idle token loops`,
    mb(after - before),
    'MB',
    '< 150',
    mb(after - before) < 150,
  );
  print(`heap used with ${TOKENS} idle token loops`, mb(heap), 'MB');
  print(`close() with ${TOKENS} polls in flight`, closeMs, 'ms');
}

// ---------------------------------------------------------------------------------------------
// 2. Throughput on a realistic corpus.

function buildCorpus(targetEvents: number): { bodies: string[]; events: number } {
  const lines = Array.from({ length: 20 }, (_, i) => `09721234${String(i).padStart(2, '0')}`);
  const callers = Array.from({ length: 500 }, (_, i) => `06${String(10_000_000 + i * 7919).slice(-8)}`);
  const bodies: string[] = [];
  let total = 0;
  let call = 0;
  let seed = 1;
  while (total < targetEvents) {
    const token = `FFFFFFFF-0000-4000-8000-${String(seed % 10).padStart(12, '0')}`;
    const scenario = createScenario({ token, seed: seed++ });
    for (let i = 0; i < 40; i++, call++) {
      const from = callers[call % callers.length] as string;
      const to = lines[call % lines.length] as string;
      switch (call % 6) {
        case 0:
          scenario.inboundAnswered({
            from,
            to,
            ringSeconds: 4,
            talkSeconds: 120,
            holdSeconds: call % 12 === 0 ? 20 : 0,
          });
          break;
        case 1:
          scenario.inboundMissed({ from, to, ringSeconds: 25 });
          break;
        case 2:
          scenario.outbound({ from: to, to: from, ringSeconds: 6, talkSeconds: call % 4 === 0 ? 0 : 90 });
          break;
        case 3:
          scenario.hunting({
            from,
            lines: lines.slice(0, 3),
            answeredBy: lines[1] as string,
            ringSeconds: 5,
            talkSeconds: 60,
            sharedCallId: call % 2 === 0,
          });
          break;
        case 4:
          scenario.queueAnswered({
            queue: '0972999999',
            caller: from,
            agents: lines.slice(3, 6),
            answeredBy: lines[4] as string,
            waitSeconds: 15,
            talkSeconds: 200,
            withLineEvents: true,
          });
          break;
        default:
          scenario.queueAbandoned({
            queue: '0972999999',
            caller: from,
            agents: lines.slice(3, 5),
            waitSeconds: 40,
          });
      }
    }
    const events = scenario.events();
    // Bodies of 1 to 8 events, as polls deliver them.
    for (let i = 0; i < events.length; ) {
      const size = 1 + ((i * 7) % 8);
      const batch = events.slice(i, i + size);
      bodies.push(toOvhEnvelopeJson(`session-${seed}`, batch));
      total += batch.length;
      i += size;
    }
  }
  return { bodies, events: total };
}

/**
 * One de-duplicator for the whole measurement, emptied before each pass, as a stream has one for its
 * whole life. A new one per pass measured V8 re-optimising the stage each time, not the stage: with
 * `--trace-deopt`, each pass's de-duplicator had other hidden classes than the one before, and the
 * code optimised for those was thrown away ("weak objects", "insufficient type feedback"): 19 deopts
 * in the de-duplication's functions over the 11 passes, against 2 with one de-duplicator.
 */
const deduper = createDeduplicator(10_000);

function pipeline(bodies: readonly string[]): number {
  deduper.clear();
  let delivered = 0;
  for (const body of bodies) {
    const parsed = parseEnvelope(body);
    if (!parsed.ok) throw new Error(parsed.error);
    for (const raw of parsed.envelope.events) {
      const result = normalizeEvent(raw, { token: 'bench', defaultCountry: 'FR' });
      if (!result.ok) throw new Error(result.error);
      if (!deduper.seen(result.event)) delivered++;
    }
  }
  return delivered;
}

function bareJsonParse(bodies: readonly string[]): number {
  let count = 0;
  for (const body of bodies) count += (JSON.parse(body) as { Events: unknown[] }).Events.length;
  return count;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function timed(fn: () => number): { ms: number; result: number } {
  fullGc();
  const start = performance.now();
  const result = fn();
  return { ms: performance.now() - start, result };
}

function measureThroughput(): void {
  const { bodies, events } = buildCorpus(50_000);
  const bytes = bodies.reduce((n, b) => n + b.length, 0);
  // Warm-up (JIT, phone cache), then interleaved rounds: the machine may be shared, so each round
  // times the baseline and the pipeline back to back and the median of the per-round figures is kept.
  bareJsonParse(bodies);
  pipeline(bodies);
  const baseRates: number[] = [];
  const rates: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < 9; round++) {
    const baseline = timed(() => bareJsonParse(bodies));
    const ours = timed(() => pipeline(bodies));
    if (baseline.result !== events)
      throw new Error(`JSON.parse saw ${baseline.result} events, expected ${events}`);
    if (ours.result !== events)
      throw new Error(`pipeline delivered ${ours.result} events, expected ${events}`);
    baseRates.push(events / (baseline.ms / 1000));
    rates.push(events / (ours.ms / 1000));
    ratios.push(baseline.ms / ours.ms);
  }
  const ratio = median(ratios);
  print('corpus events', events, 'events');
  print('corpus size', bytes / 1024 / 1024, 'MB');
  print('bare JSON.parse throughput (median of 9)', median(baseRates), 'events/s');
  print('parse+validate+normalise+dedupe throughput (median of 9)', median(rates), 'events/s');
  print('throughput ratio to bare JSON.parse (median of 9)', ratio, 'ratio', '≥ 0.6', ratio >= 0.6);
}

if (process.env.CTI_BENCH_ROLE === 'fake-server') {
  await serveFake();
} else {
  await measureIdleLoops();
  measureThroughput();
}
