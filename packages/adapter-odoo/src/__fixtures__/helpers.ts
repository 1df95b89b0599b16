import {
  type AdapterError,
  type AdapterState,
  type CallRecord,
  type LogCallContext,
  parsePhone,
} from '@cti-bridge/core';
import { createTestAdapterContext, sampleCallRecord } from '@cti-bridge/core/testing';
import { odoo } from '../index.js';
import type { FakeOdoo } from '../testing/index.js';

/**
 * An ended call with this package's defaults (an 8 s ring then 192 s of talk on the "Sales" line,
 * 2026-11-25 09:00Z), on core's `sampleCallRecord()`: answered and end times follow from the seconds.
 */
export function callRecord(overrides: Partial<CallRecord> = {}): CallRecord {
  return sampleCallRecord({
    callId: 'call-1',
    token: 'token-1',
    line: parsePhone('0033184000000'),
    lineLabel: 'Sales',
    startedAt: new Date('2026-11-25T09:00:00Z'),
    ringSeconds: 8,
    talkSeconds: 192,
    ...overrides,
  });
}

/** A LogCallContext on a given state: core's test adapter context plus the key. */
export function logContext(
  state: AdapterState,
  key: string,
  extra: Partial<Omit<LogCallContext, 'state' | 'idempotencyKey'>> = {},
): LogCallContext {
  return { ...createTestAdapterContext(state), idempotencyKey: key, ...extra };
}

/** An `odoo()` adapter wired to a fake, in UTC. */
export function adapterFor(fake: FakeOdoo, extra: Record<string, unknown> = {}) {
  return odoo({
    url: fake.url,
    database: fake.database,
    login: fake.login,
    apiKey: fake.apiKey,
    timeZone: 'UTC',
    ...extra,
  });
}

/** The AdapterError a promise rejects with (fails the test when it resolves). */
export async function failure(promise: Promise<unknown>): Promise<AdapterError> {
  try {
    await promise;
  } catch (error) {
    return error as AdapterError;
  }
  throw new Error('expected a failure');
}
