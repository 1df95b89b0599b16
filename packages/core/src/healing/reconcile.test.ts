import { describe, expect, it } from 'vitest';
import { parseCallRecord } from './call-records.js';
import { HEALED_REASON, healedCall, reconcile, type SeenCall } from './reconcile.js';

const LINE = { billingAccount: 'ab12345-ovh-1', serviceName: '0033972101010' };
const T0 = Date.parse('2026-12-05T09:00:00Z');
const record = (id: number, calling: string, startOffsetS: number, extra: Record<string, unknown> = {}) => {
  const parsed = parseCallRecord({
    consumptionId: id,
    creationDatetime: new Date(T0 + startOffsetS * 1000).toISOString(),
    calling,
    called: '0033972101010',
    duration: 30,
    wayType: 'incoming',
    ...extra,
  });
  if (!parsed) throw new Error('invalid record');
  return parsed;
};
const seen = (
  callId: string,
  remote: string,
  startOffsetS: number,
  direction: SeenCall['direction'] = 'inbound',
): SeenCall => ({
  callId,
  lines: ['+33972101010'],
  remote,
  direction,
  startedAt: T0 + startOffsetS * 1000,
});

describe('reconcile: which call records the stream missed', () => {
  it('matches on line, other party, direction and start within the window, closest first', () => {
    const result = reconcile(
      LINE,
      [record(1, '0033611000001', 0), record(2, '0033611000001', 40), record(3, '0033611000002', 100)],
      [seen('a', '+33611000001', 38), seen('b', '+33611000001', 2)],
    );
    expect(result.matched.map((m) => [m.record.consumptionId, m.callId])).toEqual([
      [1, 'b'],
      [2, 'a'],
    ]);
    expect(result.missing.map((r) => r.consumptionId)).toEqual([3]);
  });

  it('a start too far apart, another caller, or the other direction is not the same call', () => {
    const records = [record(1, '0033611000001', 0)];
    expect(reconcile(LINE, records, [seen('late', '+33611000001', 20)]).missing).toHaveLength(1);
    expect(reconcile(LINE, records, [seen('other', '+33611000009', 0)]).missing).toHaveLength(1);
    expect(reconcile(LINE, records, [seen('out', '+33611000001', 0, 'outbound')]).missing).toHaveLength(1);
    expect(reconcile(LINE, records, [seen('int', '+33611000001', 0, 'internal')]).missing).toHaveLength(0);
    // a call on another of our lines is not this line's call
    expect(
      reconcile(LINE, records, [{ ...seen('x', '+33611000001', 0), lines: ['+33972101011'] }]).missing,
    ).toHaveLength(1);
  });

  it('withheld callers match withheld calls; a foreign caller is told apart from a French one', () => {
    const withheld = record(1, '', 0);
    expect(reconcile(LINE, [withheld], [seen('w', '', 1)]).missing).toHaveLength(0);
    const belgian = record(2, '0032611000001', 0);
    expect(reconcile(LINE, [belgian], [seen('fr', '+33611000001', 0)]).missing).toHaveLength(1);
  });

  it('a healed call says what it knows and what it does not, with an id from its record', () => {
    const missed = healedCall(
      record(7, '0033611000001', 0, { duration: 0, hangupNature: 'missed' }),
      LINE,
      'tok',
    );
    expect(missed).toMatchObject({
      id: 'ovh-cdr-7',
      direction: 'inbound',
      outcome: 'missed',
      talkSeconds: 0,
      inferred: true,
      inferredReason: HEALED_REASON,
      remote: { e164: '+33611000001' },
      line: { e164: '+33972101010' },
    });
    const out = healedCall(
      record(8, '0033972101010', 0, {
        called: '0033611000001',
        dialed: '0033611000001',
        wayType: 'outgoing',
        duration: 75,
      }),
      LINE,
      'tok',
    );
    expect(out).toMatchObject({
      direction: 'outbound',
      outcome: 'answered',
      talkSeconds: 75,
      remote: { e164: '+33611000001' },
    });
  });

  it('refuses a record that is not one (no throw)', () => {
    expect(parseCallRecord({ consumptionId: 'x' })).toBeUndefined();
    expect(
      parseCallRecord({ consumptionId: 1, creationDatetime: 'not a date', duration: 1, wayType: 'incoming' }),
    ).toBeUndefined();
    expect(parseCallRecord(null)).toBeUndefined();
  });
});
