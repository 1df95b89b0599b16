import type { AdapterContext, AdapterState, CallRecord } from '../../adapter/contract.js';
import { silentLogger } from '../../logger.js';
import { parsePhone } from '../../phone/index.js';

/**
 * An in-memory {@link AdapterState} for tests: a Map with optional expiry, read against the
 * wall clock. Each call makes an independent, empty state.
 */
export function createTestAdapterState(): AdapterState {
  const entries = new Map<string, { value: string; expiresAt?: number }>();
  return {
    async get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.expiresAt !== undefined && Date.now() >= entry.expiresAt) {
        entries.delete(key);
        return undefined;
      }
      return entry.value;
    },
    async set(key, value, options) {
      entries.set(
        key,
        options?.ttlMs === undefined ? { value } : { value, expiresAt: Date.now() + options.ttlMs },
      );
    },
    async delete(key) {
      entries.delete(key);
    },
  };
}

/** An {@link AdapterContext} for tests: silent logger, a fresh in-memory state unless one is given. */
export function createTestAdapterContext(state: AdapterState = createTestAdapterState()): AdapterContext {
  return { logger: silentLogger, state };
}

/**
 * A realistic ended call as the pipeline hands it to adapters: by default an inbound call from
 * `+33612345678` to the OVH line `+33972101010`, answered after 12 s of ringing, 95 s of talk.
 * Override any field; `startedAt`, `answeredAt` and `endedAt` are recomputed from the seconds
 * unless given.
 */
export function sampleCallRecord(overrides: Partial<CallRecord> = {}): CallRecord {
  const startedAt = overrides.startedAt ?? new Date('2026-03-02T09:15:00.000Z');
  const outcome = overrides.outcome ?? 'answered';
  const answered = outcome === 'answered';
  const ringSeconds = overrides.ringSeconds ?? 12;
  const talkSeconds = overrides.talkSeconds ?? (answered ? 95 : 0);
  const answeredAt = answered
    ? (overrides.answeredAt ?? new Date(startedAt.getTime() + ringSeconds * 1000))
    : undefined;
  const endedAt =
    overrides.endedAt ?? new Date(startedAt.getTime() + (ringSeconds + (answered ? talkSeconds : 0)) * 1000);
  const base: CallRecord = {
    callId: 'conformance-call-1',
    token: 'conformance-token',
    direction: 'inbound',
    outcome,
    line: parsePhone('0033972101010'),
    lineLabel: 'Accueil',
    remote: parsePhone('0033612345678'),
    startedAt,
    endedAt,
    ringSeconds,
    talkSeconds,
    holdSeconds: 0,
    inferred: false,
  };
  return { ...base, ...(answeredAt ? { answeredAt } : {}), ...overrides, outcome, talkSeconds, endedAt };
}
