import { createMemoryKeyValueStore } from './memory-kv.js';
import { createMemoryOutbox } from './memory-outbox.js';
import type { CursorStore, SnapshotStore, Store } from './types.js';

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Wall clock for key-value expiry when a call gives no `now` (default `Date.now`). */
  readonly clock?: () => number;
}

/**
 * A {@link Store} in memory: fast, dependency-free, lost on exit. For tests, examples and
 * connectors that accept losing undelivered work on restart (the runner ships SQLite for the
 * rest). Payloads and results are deep-copied through JSON on the way in and out, as a durable
 * store would, so callers never share objects with it.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const clock = options.clock ?? Date.now;
  const snapshots = new Map<string, string>();
  const cursors = new Map<string, string>();

  const snapshotStore: SnapshotStore = {
    async save(key, value) {
      snapshots.set(key, value);
    },
    async load(key) {
      return snapshots.get(key);
    },
  };

  const cursorStore: CursorStore = {
    async get(token) {
      return cursors.get(token);
    },
    async set(token, session) {
      cursors.set(token, session);
    },
  };

  return {
    outbox: createMemoryOutbox(),
    snapshots: snapshotStore,
    cursors: cursorStore,
    kv: createMemoryKeyValueStore(clock),
    async close() {},
  };
}
