import { describe, expect, it } from 'vitest';
import { AdapterError } from '../adapter/errors.js';
import type { Call } from '../calls/types.js';
import { parsePhone } from '../phone/index.js';
import { sampleCallRecord } from '../testing/conformance/fixtures.js';
import {
  decodePayload,
  deserializeCallRecord,
  encodePayload,
  serializeCallRecord,
  toCallRecord,
} from './records.js';
import { backoffDelay, TokenBucket } from './timing.js';

const ended: Call = {
  id: 'c-1',
  token: 'tok',
  direction: 'inbound',
  state: 'ended',
  outcome: 'answered',
  line: parsePhone('0033972101010'),
  lineLabel: 'Poste 0972101010',
  remote: parsePhone('0033612345678'),
  linesRung: ['+33972101010'],
  startedAt: new Date('2026-01-05T09:00:00Z'),
  answeredAt: new Date('2026-01-05T09:00:05Z'),
  endedAt: new Date('2026-01-05T09:01:05Z'),
  ringSeconds: 5,
  talkSeconds: 60,
  holdSeconds: 0,
  queue: { queue: '0033972101020', memberUuid: 'm', agent: 'agent_0033972101011_id', waitSeconds: 12 },
  inferred: false,
};

describe('toCallRecord and the outbox payload', () => {
  it('keeps what adapters need; a configured line label wins over the one OVH sent', () => {
    const record = toCallRecord(ended, { lineLabels: { '+33972101010': 'Reception' }, remoteName: 'Alice' });
    expect(record).toMatchObject({
      callId: 'c-1',
      lineLabel: 'Reception',
      remoteName: 'Alice',
      queue: { queue: '0033972101020', waitSeconds: 12, agent: 'agent_0033972101011_id' },
    });
    expect(toCallRecord(ended).lineLabel).toBe('Poste 0972101010');
    expect(() => toCallRecord({ ...ended, state: 'answered' })).toThrow(/has not ended/);
  });

  it('round-trips a CallRecord and a match through JSON, dates included', () => {
    const record = sampleCallRecord({ holdSeconds: 3 });
    const match = {
      recordType: 'Contact',
      id: 'x',
      displayName: 'X',
      kind: 'person' as const,
      url: 'https://crm/x',
      matchedPhone: '0612345678',
      quality: 'exact' as const,
      ambiguous: false,
      lastActivityAt: new Date('2025-01-01T00:00:00Z'),
    };
    const payload = JSON.parse(JSON.stringify(encodePayload({ call: record, match, ownerId: 'u1' })));
    const decoded = decodePayload(payload);
    expect(decoded.call).toEqual(record);
    expect(decoded.match).toEqual(match);
    expect(decoded.ownerId).toBe('u1');
    expect(decodePayload(encodePayload({ call: record, match: null })).match).toBeNull();
    expect(deserializeCallRecord(serializeCallRecord(record))).toEqual(record);
  });

  it('rejects a corrupt payload with a message naming the field', () => {
    const bad = { ...serializeCallRecord(sampleCallRecord()), talkSeconds: -1 };
    expect(() => deserializeCallRecord(bad)).toThrow(/talkSeconds/);
    expect(() => decodePayload({ call: { callId: 'x' } })).toThrow(/corrupt call record/);
  });
});

describe('backoff and rate limit', () => {
  it('full jitter stays within the exponential cap and never under Retry-After', () => {
    const options = { baseDelayMs: 100, maxDelayMs: 1_000 };
    expect(backoffDelay(0, options, () => 0.999)).toBe(99);
    expect(backoffDelay(3, options, () => 0.5)).toBe(400);
    expect(backoffDelay(10, options, () => 0.999)).toBe(999);
    expect(backoffDelay(0, options, () => 0)).toBe(0);
    expect(backoffDelay(0, options, () => 0.5, 7_000)).toBe(7_000);
    expect(new AdapterError('rate-limit', 'x').retryable).toBe(true);
  });

  it('the token bucket allows a burst, then one operation per 1/rate seconds', () => {
    let now = 0;
    const bucket = new TokenBucket(2, 2, () => now);
    expect([bucket.take(), bucket.take()]).toEqual([0, 0]);
    expect(bucket.take()).toBe(500);
    now = 1_000;
    expect(bucket.take()).toBe(0);
    expect(new TokenBucket(0, 1, () => now).take()).toBe(0);
  });
});
