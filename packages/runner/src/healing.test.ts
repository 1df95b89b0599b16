import { createMemoryStore, type EventStream, type Gap, type Healer } from '@cti-bridge/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from './config/schema.js';
import { startHealing } from './healing.js';
import { createLogger } from './ops/logger.js';

const TOKEN = 'GAPS0000-0000-4000-8000-000000000001';
const config = parseConfig({
  adapters: {
    crm: {
      specificationVersion: 'v1',
      name: 'crm',
      capabilities: {},
      findContacts: async () => [],
      logCall: async () => ({ id: 'x', created: true }),
    },
  },
  tokens: { [TOKEN]: { adapters: ['crm'], healing: { billingAccount: 'ab-1', lines: ['0033972101010'] } } },
  ovh: { pollTimeoutMs: 60_000 },
});

function recordingHealer(): Healer & { noted: Gap[] } {
  const noted: Gap[] = [];
  return {
    noted,
    noteGap: async (gap) => {
      noted.push(gap);
    },
    gaps: async () => noted,
    runDue: async () => [],
    heal: async () => {
      throw new Error('not used');
    },
  };
}

afterEach(() => vi.useRealTimers());

describe('noting the gaps of the stream', () => {
  it('the time the runner was down, from its last heartbeat', async () => {
    const store = createMemoryStore();
    let now = Date.parse('2026-12-05T08:00:00Z');
    await store.kv.set('healing', 'alive', String(now));
    now += 20 * 60_000;
    const healer = recordingHealer();
    const healing = await startHealing({
      config,
      healer,
      store,
      logger: createLogger({ level: 'silent' }),
      clock: () => now,
    });
    healing.stop();
    expect(healer.noted).toEqual([{ from: Date.parse('2026-12-05T07:59:00Z'), to: now, reason: 'restart' }]);
    expect(await store.kv.get('healing', 'alive')).toBe(String(now));
  });

  it('a stream outage from its first failed poll (a poll earlier) to the next good one, and a session reset', async () => {
    vi.useFakeTimers();
    let now = Date.parse('2026-12-05T09:00:00Z');
    const stats = { consecutiveErrors: 0, sessionChanges: 0 };
    const stream = { stats: () => ({ [TOKEN]: stats }), on: () => () => {} } as unknown as EventStream;
    const healer = recordingHealer();
    const healing = await startHealing({
      config,
      healer,
      store: createMemoryStore(),
      stream,
      logger: createLogger({ level: 'silent' }),
      clock: () => now,
    });
    stats.consecutiveErrors = 3;
    await vi.advanceTimersByTimeAsync(5_000);
    const failedAt = now;
    now += 10 * 60_000;
    stats.consecutiveErrors = 0;
    await vi.advanceTimersByTimeAsync(5_000);
    stats.sessionChanges = 1;
    await vi.advanceTimersByTimeAsync(5_000);
    healing.stop();
    expect(healer.noted).toEqual([
      { from: failedAt - 60_000, to: now, reason: 'stream-outage' },
      { from: now - 120_000, to: now, reason: 'session-reset' },
    ]);
  });
});
