import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeEvent } from '../ovh/index.js';
import type { OvhEvent } from '../ovh/types.js';
import { createScenario, type ScenarioBuilder } from '../testing/scenario/index.js';
import { CallTracker } from './call-tracker.js';
import type { CallEvent } from './types.js';

/** One call of a generated scenario. Callers are distinct per call so that hunting grouping is unambiguous. */
type Spec =
  | { kind: 'answered'; startAt: number; ring: number; talk: number; hold: number; line: number }
  | { kind: 'missed'; startAt: number; ring: number; line: number }
  | { kind: 'outbound'; startAt: number; ring: number; talk: number; line: number }
  | { kind: 'hunting'; startAt: number; ring: number; talk: number; shared: boolean; answered: boolean }
  | { kind: 'queue-answered'; startAt: number; wait: number; talk: number; lineEvents: boolean }
  | {
      kind: 'queue-abandoned';
      startAt: number;
      wait: number;
      reason: 'BREAK_OUT' | 'TIMEOUT' | 'NO_AGENT_TIMEOUT';
    };

const LINES = ['0972101011', '0972101012', '0972101013'];
const startAt = fc.integer({ min: 0, max: 300 });
const secs = fc.integer({ min: 1, max: 90 });

const spec: fc.Arbitrary<Spec> = fc.oneof(
  fc.record({
    kind: fc.constant('answered' as const),
    startAt,
    ring: secs,
    talk: secs,
    hold: fc.integer({ min: 0, max: 20 }),
    line: fc.integer({ min: 0, max: 2 }),
  }),
  fc.record({
    kind: fc.constant('missed' as const),
    startAt,
    ring: secs,
    line: fc.integer({ min: 0, max: 2 }),
  }),
  fc.record({
    kind: fc.constant('outbound' as const),
    startAt,
    ring: secs,
    talk: fc.integer({ min: 0, max: 90 }),
    line: fc.integer({ min: 0, max: 2 }),
  }),
  fc.record({
    kind: fc.constant('hunting' as const),
    startAt,
    ring: secs,
    talk: secs,
    shared: fc.boolean(),
    answered: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('queue-answered' as const),
    startAt,
    wait: secs,
    talk: secs,
    lineEvents: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('queue-abandoned' as const),
    startAt,
    wait: secs,
    reason: fc.constantFrom('BREAK_OUT' as const, 'TIMEOUT' as const, 'NO_AGENT_TIMEOUT' as const),
  }),
);

function build(
  specs: readonly Spec[],
  seed: number,
): { events: OvhEvent[]; calls: number; sessions: number } {
  const scenario: ScenarioBuilder = createScenario({ seed });
  let calls = 0;
  let sessions = 0;
  specs.forEach((s, i) => {
    const caller = `06${String(10_000_000 + i * 7919).slice(-8)}`;
    const line = LINES[('line' in s ? s.line : 0) % LINES.length] as string;
    switch (s.kind) {
      case 'answered':
        scenario.inboundAnswered({
          from: caller,
          to: line,
          ringSeconds: s.ring,
          talkSeconds: s.talk,
          holdSeconds: s.hold,
          startAt: s.startAt,
        });
        calls++;
        break;
      case 'missed':
        scenario.inboundMissed({ from: caller, to: line, ringSeconds: s.ring, startAt: s.startAt });
        calls++;
        break;
      case 'outbound':
        scenario.outbound({
          from: line,
          to: caller,
          ringSeconds: s.ring,
          talkSeconds: s.talk,
          startAt: s.startAt,
        });
        calls++;
        break;
      case 'hunting':
        scenario.hunting({
          from: caller,
          lines: LINES,
          ...(s.answered ? { answeredBy: LINES[1] } : {}),
          ringSeconds: s.ring,
          talkSeconds: s.talk,
          sharedCallId: s.shared,
          startAt: s.startAt,
        });
        calls++;
        break;
      case 'queue-answered':
        scenario.queueAnswered({
          queue: '0972101020',
          caller,
          agents: [LINES[0] as string, LINES[2] as string],
          answeredBy: LINES[2] as string,
          waitSeconds: s.wait,
          talkSeconds: s.talk,
          withLineEvents: s.lineEvents,
          startAt: s.startAt,
        });
        if (s.lineEvents) calls++;
        sessions++;
        break;
      case 'queue-abandoned':
        scenario.queueAbandoned({
          queue: '0972101020',
          caller,
          agents: s.reason === 'NO_AGENT_TIMEOUT' ? [] : [LINES[0] as string],
          waitSeconds: s.wait,
          reason: s.reason,
          startAt: s.startAt,
        });
        sessions++;
        break;
    }
  });
  const events = scenario.events().map((raw) => {
    const result = normalizeEvent(raw, { token: 'prop' });
    if (!result.ok) throw new Error(result.error);
    return result.event;
  });
  return { events, calls, sessions };
}

/** Feeds a delivery, then closes every orphan; fails on any internal error. */
function deliver(events: readonly OvhEvent[]): CallEvent[] {
  let now = 0;
  const errors: unknown[] = [];
  const tracker = new CallTracker({ clock: () => now, onError: (error) => errors.push(error) });
  const out: CallEvent[] = [];
  for (const event of events) out.push(...tracker.push(event));
  now += 24 * 3_600_000;
  out.push(...tracker.tick());
  if (errors.length > 0) throw errors[0];
  expect(tracker.inFlight()).toEqual({ calls: 0, queueSessions: 0 });
  return out;
}

/** The invariants any delivery must keep. */
function checkInvariants(out: readonly CallEvent[]): void {
  const endedCalls = new Set<string>();
  const endedSessions = new Set<string>();
  for (const event of out) {
    if ('call' in event) {
      const { call } = event;
      expect(endedCalls.has(call.id), `event ${event.type} after call ${call.id} ended`).toBe(false);
      if (event.type === 'call.ended') {
        endedCalls.add(call.id);
        expect(call.outcome).toBeDefined();
        expect(call.endedAt && call.endedAt.getTime() >= call.startedAt.getTime()).toBe(true);
        for (const n of [call.ringSeconds, call.talkSeconds, call.holdSeconds]) {
          expect(Number.isInteger(n) && n >= 0).toBe(true);
        }
        expect(call.holdSeconds).toBeLessThanOrEqual(call.talkSeconds + 1);
      }
    } else {
      const { session } = event;
      expect(endedSessions.has(session.memberUuid)).toBe(false);
      if (event.type === 'queue.left') {
        endedSessions.add(session.memberUuid);
        expect(session.outcome).toBeDefined();
        expect(session.waitSeconds).toBeGreaterThanOrEqual(0);
      }
    }
  }
}

describe('CallTracker properties (fast-check)', () => {
  const scenarios = fc.record({ specs: fc.array(spec, { minLength: 1, maxLength: 6 }), seed: fc.nat() });

  it('in order, complete: one Call per scenario call, one session per queue stay, nothing inferred', () => {
    fc.assert(
      fc.property(scenarios, ({ specs, seed }) => {
        const { events, calls, sessions } = build(specs, seed);
        const out = deliver(events);
        checkInvariants(out);
        const ended = out.filter((e) => e.type === 'call.ended');
        const left = out.filter((e) => e.type === 'queue.left');
        expect(ended).toHaveLength(calls);
        expect(left).toHaveLength(sessions);
        for (const e of [...ended, ...left]) {
          expect('call' in e ? e.call.inferred : e.type === 'queue.left' && e.session.inferred).toBe(false);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('any interleaving, duplication or loss: never throws, never two Calls for one CallId, same result on replay', () => {
    fc.assert(
      fc.property(
        scenarios.chain(({ specs, seed }) => {
          const built = build(specs, seed);
          const n = built.events.length;
          return fc.record({
            events: fc.constant(built.events),
            // Any sequence of indices: events lost, repeated and reordered at will.
            order: fc.array(fc.integer({ min: 0, max: n - 1 }), { maxLength: n * 2 }),
          });
        }),
        ({ events, order }) => {
          const delivery = order.map((i) => events[i] as OvhEvent);
          const first = deliver(delivery);
          checkInvariants(first);
          expect(deliver(delivery)).toEqual(first);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('in-order delivery with losses and duplicates keeps the invariants and replays identically', () => {
    fc.assert(
      fc.property(
        scenarios.chain(({ specs, seed }) => {
          const built = build(specs, seed);
          return fc.record({
            events: fc.constant(built.events),
            copies: fc.array(fc.integer({ min: 0, max: 2 }), {
              minLength: built.events.length,
              maxLength: built.events.length,
            }),
          });
        }),
        ({ events, copies }) => {
          const delivery = events.flatMap((event, i) => Array.from({ length: copies[i] ?? 1 }, () => event));
          const first = deliver(delivery);
          checkInvariants(first);
          expect(deliver(delivery)).toEqual(first);
        },
      ),
      { numRuns: 200 },
    );
  });
});

/** Feeds polls (each sorted by event time, as the stream applies them) with a settle window; frozen clock. */
function deliverPolls(polls: readonly (readonly OvhEvent[])[], settleMs: number): CallEvent[] {
  const errors: unknown[] = [];
  const tracker = new CallTracker({ clock: () => 0, settleMs, onError: (error) => errors.push(error) });
  const out: CallEvent[] = [];
  polls.forEach((events, i) => {
    for (const event of events) out.push(...tracker.push({ ...event, poll: i + 1 }));
  });
  out.push(...tracker.flush());
  if (errors.length > 0) throw errors[0];
  return out;
}

/** What a delivery finally logged: the ended Calls and QueueSessions, by id. */
function finals(out: readonly CallEvent[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const event of out) {
    if (event.type === 'call.ended') result[`call:${event.call.id}`] = event.call;
    if (event.type === 'queue.left') result[`session:${event.session.memberUuid}`] = event.session;
  }
  return result;
}

const byTime = (a: OvhEvent, b: OvhEvent) => a.at.getTime() - b.at.getTime();

/** Fails with a short account of the delivery (fast-check's own would print every raw event). */
function expectSame(got: Record<string, unknown>, want: Record<string, unknown>, polls: OvhEvent[][]): void {
  try {
    expect(got).toEqual(want);
  } catch (error) {
    const t0 = Math.min(...polls.flat().map((e) => e.at.getTime()));
    const label = (e: OvhEvent) =>
      `${e.name}@${e.kind === 'line' ? e.line.raw.slice(-2) : 'q'}+${(e.at.getTime() - t0) / 1000}s`;
    throw new Error(
      `delivery ${polls.map((p) => `[${p.map(label).join(', ')}]`).join(' ')}\n${(error as Error).message}`,
    );
  }
}

describe('CallTracker settle window (fast-check)', () => {
  // One call (or queue stay) per scenario: hunting legs share their CallId (separate CallIds are
  // grouped by start time, which an end event arriving first cannot tell).
  const single = fc.record({
    spec: spec.filter((s) => s.kind !== 'hunting' || s.shared),
    seed: fc.nat(),
  });

  it('any permutation of one call’s events within the window gives the Call of the ordered sequence', () => {
    fc.assert(
      fc.property(
        single.chain(({ spec: s, seed }) => {
          const { events } = build([s], seed);
          return fc.record({
            events: fc.constant(events),
            shuffled: fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
          });
        }),
        ({ events, shuffled }) => {
          const ordered = finals(deliverPolls([events], 0));
          expect(Object.keys(ordered).length).toBeGreaterThan(0);
          // all in one poll, unsorted: as if the stream had not ordered them
          expectSame(finals(deliverPolls([shuffled], 5_000)), ordered, [shuffled]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a call split over two polls, the later events first, gives the Call of the ordered sequence', () => {
    fc.assert(
      fc.property(
        single.chain(({ spec: s, seed }) => {
          const { events } = build([s], seed);
          return fc.record({
            events: fc.constant(events),
            inFirst: fc.array(fc.boolean(), { minLength: events.length, maxLength: events.length }),
          });
        }),
        ({ events, inFirst }) => {
          const ordered = finals(deliverPolls([events], 0));
          const first = events.filter((_, i) => inFirst[i]).sort(byTime);
          const second = events.filter((_, i) => !inFirst[i]).sort(byTime);
          expectSame(finals(deliverPolls([first, second], 5_000)), ordered, [first, second]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
