/**
 * CallTracker benchmark (run by `node scripts/bench.mjs tracker` from the repo root).
 *
 * 1. Throughput: every sequence of the scenario builder, repeated (~37k events), pushed through a
 *    CallTracker, in events/s; and its ratio to `normalizeEvent` on the same events measured in the
 *    same run (the step before the tracker; target ≥ 1: the tracker is never the bottleneck).
 * 2. Memory: bytes of heap per in-flight call, with 20,000 answered calls in flight (each with its
 *    own CallId and caller), measured after gc (target ≤ 2 KB).
 */
import { CallTracker, normalizeEvent, type OvhEvent, type OvhLineEvent, parsePhone } from '@cti-bridge/core';
import { createScenario } from '@cti-bridge/core/testing';
import { benchReporter, fullGc } from '../../../scripts/bench-kit.js';

const BENCH = 'core/tracker';

const print = benchReporter(BENCH);

// ---------------------------------------------------------------------------------------------
// 1. Throughput

function corpus(rounds: number) {
  const scenario = createScenario({ token: 'BENCH-TOKEN', seed: 42 });
  for (let i = 0; i < rounds; i++) {
    const caller = `06${String(10_000_000 + i).slice(-8)}`;
    scenario
      .inboundAnswered({
        from: caller,
        to: '0972101010',
        ringSeconds: 5,
        talkSeconds: 60,
        holdSeconds: i % 3 ? 0 : 10,
      })
      .inboundMissed({ from: caller, to: '0972101011', ringSeconds: 20 })
      .outbound({ from: '0972101012', to: caller, ringSeconds: 4, talkSeconds: i % 2 ? 30 : 0 })
      .hunting({
        from: caller,
        lines: ['0972101013', '0972101014', '0972101015'],
        answeredBy: '0972101014',
        ringSeconds: 6,
        talkSeconds: 45,
        sharedCallId: i % 2 === 0,
      })
      .queueAnswered({
        queue: '0972101020',
        caller,
        agents: ['0972101016', '0972101017'],
        answeredBy: '0972101017',
        waitSeconds: 15,
        talkSeconds: 90,
        withLineEvents: i % 2 === 0,
      })
      .queueAbandoned({ queue: '0972101020', caller, agents: ['0972101016'], waitSeconds: 30 });
  }
  return scenario.events();
}

function throughput(): void {
  const raw = corpus(1_200);
  // Warm-up and the normalised events the tracker will read.
  let events: OvhEvent[] = [];
  const normalizeAll = () => {
    const out: OvhEvent[] = [];
    for (const r of raw) {
      const result = normalizeEvent(r, { token: 'BENCH-TOKEN' });
      if (result.ok) out.push(result.event);
    }
    return out;
  };
  events = normalizeAll();
  const track = () => {
    const tracker = new CallTracker({ clock: () => 0 });
    let emitted = 0;
    for (const event of events) emitted += tracker.push(event).length;
    return emitted;
  };
  track();

  const best = (run: () => unknown, repeats: number) => {
    let fastest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < repeats; i++) {
      const start = process.hrtime.bigint();
      run();
      fastest = Math.min(fastest, Number(process.hrtime.bigint() - start) / 1e9);
    }
    return fastest;
  };
  const normalizeSeconds = best(normalizeAll, 3);
  const trackSeconds = best(track, 5);
  const trackerRate = events.length / trackSeconds;
  const normalizeRate = raw.length / normalizeSeconds;
  print('events', events.length, 'events');
  print('tracker throughput', trackerRate, 'events/s');
  print('baseline: normalizeEvent throughput', normalizeRate, 'events/s');
  const ratio = trackerRate / normalizeRate;
  print('tracker / normalizeEvent throughput', ratio, 'ratio', '≥ 1', ratio >= 1);
}

// ---------------------------------------------------------------------------------------------
// 2. Heap per in-flight call

function inFlightHeap(): void {
  const CALLS = 20_000;
  const base = Date.UTC(2026, 0, 5, 9);
  const line = parsePhone('0033972101010');
  const event = (name: 'start_ringing' | 'start_calling', i: number): OvhLineEvent => {
    const caller = parsePhone(`00336${String(10_000_000 + i).slice(-8)}`);
    return {
      kind: 'line',
      name,
      token: 'BENCH-TOKEN',
      service: 'sip',
      resource: line.raw,
      at: new Date(base + i * 1000 + (name === 'start_calling' ? 5000 : 0)),
      details: { description: 'Poste 0972101010', billingAccountId: '59415' },
      raw: {},
      callId: `bench-call-${i}-abcdefghijklmnopqrstuvwx_sip4.ovh.fr`,
      calling: caller,
      called: line,
      line,
    };
  };
  const tracker = new CallTracker({ clock: () => 0 });
  fullGc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < CALLS; i++) {
    tracker.push(event('start_ringing', i));
    tracker.push(event('start_calling', i));
  }
  fullGc();
  const after = process.memoryUsage().heapUsed;
  const flight = tracker.inFlight();
  if (flight.calls !== CALLS) throw new Error(`expected ${CALLS} calls in flight, got ${flight.calls}`);
  const perCall = (after - before) / CALLS;
  print('in-flight calls', CALLS, 'calls');
  print('heap per in-flight call', perCall, 'bytes', '≤ 2048', perCall <= 2048);
  // Keep the tracker alive until after the measurement.
  if (tracker.inFlight().calls === 0) console.log('');
}

throughput();
inFlightHeap();
