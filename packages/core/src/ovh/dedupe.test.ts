import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createScenario, toOvhEnvelopeJson } from '../testing/index.js';
import { createDeduplicator, dedupeKey } from './dedupe.js';
import { normalizeEvent } from './normalize.js';
import type { OvhEvent } from './types.js';
import { parseEnvelope } from './wire.js';

function normalise(raw: unknown): OvhEvent {
  const result = normalizeEvent(raw, { token: 'polled' });
  if (!result.ok) throw new Error(result.error);
  return result.event;
}

function lineEvent(
  timestamp: string | undefined,
  callId: string,
  extra: Record<string, unknown> = {},
): OvhEvent {
  return normalise({
    Event: 'start_ringing',
    Token: 'T',
    ...(timestamp === undefined ? {} : { Timestamp: timestamp }),
    Data: { CallId: callId, Ts: '1767603600.120', TsGet: '1', ...extra },
  });
}

describe('createDeduplicator', () => {
  it('drops a re-delivery even when TsGet differs', () => {
    const dedupe = createDeduplicator();
    expect(dedupe.seen(lineEvent('1767603600135042729', 'c1', { TsGet: '1767603600119358181' }))).toBe(false);
    expect(dedupe.seen(lineEvent('1767603600135042729', 'c1', { TsGet: '1767603600999999999' }))).toBe(true);
    expect(dedupe.size).toBe(1);
  });

  it('keeps events that share a timestamp but differ by call, agent, name or token', () => {
    const dedupe = createDeduplicator();
    const raw = createScenario({ token: 'T' })
      .queueAnswered({
        queue: '0972999999',
        caller: '0612345678',
        agents: ['0972000001', '0972000002', '0972000003'],
        answeredBy: '0972000001',
        waitSeconds: 5,
        talkSeconds: 10,
      })
      .events();
    const events = raw.map(normalise);
    expect(events.map((e) => dedupe.seen(e))).toEqual(events.map(() => false));
    expect(events.map((e) => dedupe.seen(e))).toEqual(events.map(() => true));
    expect(dedupe.seen(lineEvent('1767603600135042729', 'c2'))).toBe(false);
    expect(dedupe.seen(lineEvent('1767603600135042729', 'c3'))).toBe(false);
    const otherToken = normalise({ ...(lineEvent('1767603600135042729', 'c3').raw as object), Token: 'U' });
    expect(dedupe.seen(otherToken)).toBe(false);
  });

  it('through the wire (Timestamp a JSON number): a re-delivery is dropped, events sharing a timestamp are kept', () => {
    const raw = createScenario({ token: 'T' })
      .queueAnswered({
        queue: '0972999999',
        caller: '0612345678',
        agents: ['0972000001', '0972000002', '0972000003'],
        answeredBy: '0972000002',
        waitSeconds: 5,
        talkSeconds: 10,
        withLineEvents: true,
      })
      .events();
    const fromWire = (tsGetShift: number) => {
      const parsed = parseEnvelope(
        toOvhEnvelopeJson(
          's',
          raw.map((r) => ({
            ...r,
            Data: { ...(r.Data as object), TsGet: 1767603600000000000n + BigInt(tsGetShift) },
          })),
        ),
      );
      if (!parsed.ok) throw new Error(parsed.error);
      return parsed.envelope.events.map(normalise);
    };
    const first = fromWire(0);
    expect(typeof first[0]?.raw.Timestamp).toBe('number');
    const dedupe = createDeduplicator();
    expect(first.map((e) => dedupe.seen(e))).toEqual(first.map(() => false));
    // the same answer again, TsGet changed: every event a duplicate
    expect(fromWire(999).map((e) => dedupe.seen(e))).toEqual(first.map(() => true));
    // one event 1 µs later on the server is another event
    const later = normalise({
      ...(first[0]?.raw as object),
      Timestamp: (first[0]?.raw.Timestamp as number) + 1024,
    });
    expect(dedupe.seen(later)).toBe(false);
  });

  it('forgets the oldest keys beyond the window (bounded memory)', () => {
    const dedupe = createDeduplicator(3);
    const events = ['1', '2', '3', '4'].map((n) => lineEvent(`176760360013504272${n}`, `c${n}`));
    for (const e of events) expect(dedupe.seen(e)).toBe(false);
    expect(dedupe.size).toBe(3);
    expect(dedupe.seen(events[3] as OvhEvent)).toBe(true);
    expect(dedupe.seen(events[0] as OvhEvent)).toBe(false); // forgotten, so seen as new again
    dedupe.clear();
    expect(dedupe.size).toBe(0);
    expect(dedupe.seen(events[3] as OvhEvent)).toBe(false);
  });

  it('falls back to Data.Ts when there is no Timestamp', () => {
    const dedupe = createDeduplicator();
    expect(dedupe.seen(lineEvent(undefined, 'c1'))).toBe(false);
    expect(dedupe.seen(lineEvent(undefined, 'c1'))).toBe(true);
    expect(dedupe.seen(lineEvent(undefined, 'c1', { Ts: '1767603601.000' }))).toBe(false);
    expect(dedupeKey(lineEvent(undefined, 'c1'))).toContain('ts:1767603600.120');
  });

  it('property: answers like a list of the last `window` keys, through any mix of repeats and evictions', () => {
    const pool = Array.from({ length: 40 }, (_, i) =>
      lineEvent(`17676036001350427${String(i % 7).padStart(2, '0')}`, `c${i % 9}`, { Event: 'x' }),
    ).filter((event, i, all) => all.findIndex((e) => dedupeKey(e) === dedupeKey(event)) === i);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.nat({ max: pool.length - 1 }), { maxLength: 300 }),
        (window, picks) => {
          const dedupe = createDeduplicator(window);
          const remembered: string[] = [];
          for (const pick of picks) {
            const event = pool[pick] as OvhEvent;
            const key = dedupeKey(event);
            const expected = remembered.includes(key);
            if (!expected) {
              remembered.push(key);
              if (remembered.length > window) remembered.shift();
            }
            expect(dedupe.seen(event)).toBe(expected);
            expect(dedupe.size).toBe(remembered.length);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('tells apart 200,000 distinct events and catches every re-delivery within the window', () => {
    const dedupe = createDeduplicator(10_000);
    const raw = (i: number) => ({
      Event: i % 3 ? 'agent-offering' : 'start_ringing',
      Token: `T${i % 4}`,
      Timestamp: String(1767603600000000000n + BigInt(i)),
      Data: {
        Queue: 'q',
        CallId: `call-${i % 1000}`,
        QueueMemberUUID: `m-${i % 777}`,
        QueueAgent: `agent_${i % 5}`,
        Ts: 1,
      },
    });
    let duplicates = 0;
    for (let i = 0; i < 200_000; i++) if (dedupe.seen(normalise(raw(i)))) duplicates++;
    expect(duplicates).toBe(0);
    expect(dedupe.size).toBe(10_000);
    for (let i = 190_000; i < 200_000; i++) if (!dedupe.seen(normalise(raw(i)))) duplicates++;
    expect(duplicates).toBe(0);
    expect(dedupe.seen(normalise(raw(189_999)))).toBe(false); // forgotten
  });
});
