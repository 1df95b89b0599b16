import {
  type AdapterContext,
  type AdapterState,
  type CallRecord,
  type Logger,
  parsePhone,
} from '@cti-bridge/core';

/** A Map-backed AdapterState that also lets tests look inside. Test helper (not built, not published). */
export function memoryState(): AdapterState & { readonly entries: Map<string, string> } {
  const entries = new Map<string, string>();
  return {
    entries,
    async get(key) {
      return entries.get(key);
    },
    async set(key, value) {
      entries.set(key, value);
    },
    async delete(key) {
      entries.delete(key);
    },
  };
}

/** A logger that keeps every record as one JSON line. Test helper (not built, not published). */
export function recordingLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const write = (level: string) => (data: Record<string, unknown>, message?: string) => {
      lines.push(JSON.stringify({ level, ...bindings, ...data, msg: message }));
    };
    return {
      debug: write('debug'),
      info: write('info'),
      warn: write('warn'),
      error: write('error'),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return Object.assign(make({}), { lines });
}

/** An adapter context on a fresh memory state. Test helper (not built, not published). */
export function testContext(
  state = memoryState(),
  logger = recordingLogger(),
): AdapterContext & { state: ReturnType<typeof memoryState>; logger: ReturnType<typeof recordingLogger> } {
  return { state, logger };
}

/** An ended inbound answered call; override anything. Test helper (not built, not published). */
export function endedCall(overrides: Partial<CallRecord> = {}): CallRecord {
  const startedAt = new Date('2026-03-02T09:15:00.000Z');
  return {
    callId: 'ovh-call-1',
    token: 'tok',
    direction: 'inbound',
    outcome: 'answered',
    line: parsePhone('0033972101010'),
    lineLabel: 'Accueil',
    remote: parsePhone('0033612345678'),
    startedAt,
    answeredAt: new Date(startedAt.getTime() + 12_000),
    endedAt: new Date(startedAt.getTime() + 107_000),
    ringSeconds: 12,
    talkSeconds: 95,
    holdSeconds: 0,
    inferred: false,
    ...overrides,
  };
}
