import {
  type AdapterError,
  type AdapterState,
  type CallRecord,
  type LogCallContext,
  parsePhone,
  silentLogger,
} from '@cti-bridge/core';
import { odoo } from '../index.js';
import type { FakeOdoo } from '../testing/index.js';

/** An in-memory AdapterState for tests (durable across adapter instances when shared). */
export function memoryState(): AdapterState & { readonly data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    get: async (key) => data.get(key),
    set: async (key, value) => {
      data.set(key, value);
    },
    delete: async (key) => {
      data.delete(key);
    },
  };
}

/** An ended call with sensible defaults. */
export function callRecord(overrides: Partial<CallRecord> = {}): CallRecord {
  const startedAt = new Date('2026-11-25T09:00:00Z');
  return {
    callId: 'call-1',
    token: 'token-1',
    direction: 'inbound',
    outcome: 'answered',
    line: parsePhone('0033184000000'),
    lineLabel: 'Sales',
    remote: parsePhone('0033612345678'),
    startedAt,
    answeredAt: new Date(startedAt.getTime() + 8_000),
    endedAt: new Date(startedAt.getTime() + 200_000),
    ringSeconds: 8,
    talkSeconds: 192,
    holdSeconds: 0,
    inferred: false,
    ...overrides,
  };
}

/** A LogCallContext on a given state. */
export function logContext(
  state: AdapterState,
  key: string,
  extra: Partial<Omit<LogCallContext, 'state' | 'idempotencyKey'>> = {},
): LogCallContext {
  return { logger: silentLogger, state, idempotencyKey: key, ...extra };
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
