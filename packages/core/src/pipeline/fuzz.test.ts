import { describe, expect, it } from 'vitest';
import { CallTracker } from '../calls/call-tracker.js';
import type { CallEvent } from '../calls/types.js';
import { MAX_FIELD_LENGTH, normalizeEvent, takeClippedFieldCount } from '../ovh/normalize.js';
import { createScenario } from '../testing/scenario/index.js';

/** A small deterministic PRNG (mulberry32): the same fuzz on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HUGE = 'x'.repeat(1_000_000);
const NAMES = ['start_ringing', 'start_calling', 'end_ringing', 'end_calling', 'start_hold', 'end_hold'];
const QUEUE_NAMES = ['member-queue-start', 'agent-offering', 'bridge-agent-start', 'member-queue-end'];

/** One hostile event: huge strings, deep nesting, wrong types, fresh ids that never end. */
function fuzzed(random: () => number, i: number): unknown {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const junk = pick<unknown>([HUGE, { a: { b: { c: [HUGE] } } }, 42, null, [], true, `id-${i}`, -1e308]);
  const queue = random() < 0.3;
  return {
    Event: queue ? pick(QUEUE_NAMES) : pick([...NAMES, HUGE.slice(0, 5000), 'unknown-thing']),
    Token: random() < 0.1 ? junk : 'FUZZ-TOKEN',
    Ressource: random() < 0.2 ? HUGE : '0033972101010',
    Service: queue ? 'queues' : 'sip',
    Timestamp: random() < 0.1 ? junk : String(1_767_600_000_000_000_000n + BigInt(i) * 1_000_000n),
    Data: {
      CallId: random() < 0.5 ? `${HUGE.slice(0, 10_000)}${i}` : random() < 0.5 ? junk : `c-${i}`,
      Calling: random() < 0.3 ? HUGE : `06${String(i).padStart(8, '0')}`,
      Called: '0033972101010',
      Billing: random() < 0.2 ? `09${String(i).padStart(8, '0')}` : '0033972101010',
      Ts: random() < 0.1 ? junk : 1_767_600_000 + i,
      QueueMemberUUID: random() < 0.5 ? `${HUGE.slice(0, 20_000)}${i}` : junk,
      QueueMemberCIDName: random() < 0.5 ? HUGE : 'Name',
      Queue: random() < 0.5 ? HUGE : 'support',
      Nested: { deep: { deeper: { deepest: [HUGE, HUGE] } } },
    },
    Details: random() < 0.5 ? { Description: HUGE, IdBillingAccount: junk } : junk,
  };
}

describe('hostile stream: 100 000 fuzzed events', () => {
  it('never throws, keeps what it holds bounded, and still logs every well-formed call in between', () => {
    const random = prng(20261205);
    const errors: unknown[] = [];
    let dropped = 0;
    const tracker = new CallTracker({
      clock: () => 0,
      maxInFlight: 1_000,
      onError: (error) => errors.push(error),
      onDropped: () => dropped++,
    });
    const real = createScenario({ token: 'FUZZ-TOKEN', start: new Date('2026-12-05T08:00:00Z') });
    for (let n = 0; n < 50; n++) {
      real.inboundAnswered({
        from: `07${String(n).padStart(8, '0')}`,
        to: '0972101099',
        ringSeconds: 3,
        talkSeconds: 10 + n,
        callId: `real-${n}`,
      });
    }
    const realEvents = real.events();
    const ended: Extract<CallEvent, { type: 'call.ended' }>[] = [];
    let invalid = 0;
    takeClippedFieldCount();
    for (let i = 0; i < 100_000; i++) {
      // a real call's events every 666 fuzzed ones
      const raw = i % 666 === 0 && realEvents.length > 0 ? realEvents.shift() : fuzzed(random, i);
      const result = normalizeEvent(raw, { token: 'FUZZ-TOKEN' });
      if (!result.ok) {
        invalid++;
        continue;
      }
      for (const out of tracker.push(result.event)) if (out.type === 'call.ended') ended.push(out);
    }
    expect(errors).toEqual([]);
    expect(invalid).toBeGreaterThan(0);
    expect(takeClippedFieldCount()).toBeGreaterThan(10_000);
    const { calls, queueSessions } = tracker.inFlight();
    expect(calls).toBeLessThanOrEqual(1_000);
    expect(queueSessions).toBeLessThanOrEqual(1_000);
    expect(dropped).toBeGreaterThan(0);
    // every field it keeps is clipped: the snapshot stays about a megabyte per thousand calls held
    const snapshot = tracker.snapshot();
    expect(snapshot.length).toBeLessThan(5 * 1024 * 1024);
    for (const call of tracker.activeCalls()) expect(call.id.length).toBeLessThanOrEqual(MAX_FIELD_LENGTH);
    const realEnded = ended.filter((e) => e.call.id.startsWith('real-'));
    expect(realEvents).toHaveLength(0);
    expect(realEnded.map((e) => e.call.id).sort()).toEqual(
      Array.from({ length: 50 }, (_, n) => `real-${n}`).sort(),
    );
    for (const { call } of realEnded) {
      expect(call.talkSeconds).toBe(10 + Number(call.id.slice(5)));
    }
  });
});
