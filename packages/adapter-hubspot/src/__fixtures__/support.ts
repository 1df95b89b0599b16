import type { AdapterContext, AdapterState, Logger } from '@cti-bridge/core';

// Call records and plain adapter contexts come from `@cti-bridge/core/testing`
// (`sampleCallRecord()`, `createTestAdapterContext()`). What is here is for the tests that look
// inside: core's context logs nothing and its state cannot be listed.

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

/**
 * An adapter context whose log lines and state entries a test can read, on a fresh memory state.
 * Test helper (not built, not published).
 */
export function testContext(
  state = memoryState(),
  logger = recordingLogger(),
): AdapterContext & { state: ReturnType<typeof memoryState>; logger: ReturnType<typeof recordingLogger> } {
  return { state, logger };
}
