import type {
  CursorStore,
  KeyValueStore,
  NewOutboxEntry,
  OutboxEntry,
  OutboxFilter,
  OutboxStatus,
  OutboxStore,
  SnapshotStore,
  Store,
} from './types.js';

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Wall clock for key-value expiry when a call gives no `now` (default `Date.now`). */
  readonly clock?: () => number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * A {@link Store} in memory: fast, dependency-free, lost on exit. For tests, examples and
 * connectors that accept losing undelivered work on restart (the runner ships SQLite for the
 * rest). Payloads and results are deep-copied through JSON on the way in and out, as a durable
 * store would, so callers never share objects with it.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const clock = options.clock ?? Date.now;
  const entries = new Map<string, Mutable<OutboxEntry>>();
  const snapshots = new Map<string, string>();
  const cursors = new Map<string, string>();
  const kv = new Map<string, { value: string; expiresAt?: number }>();

  const copy = (entry: OutboxEntry): OutboxEntry => JSON.parse(JSON.stringify(entry)) as OutboxEntry;
  const byAge = (a: OutboxEntry, b: OutboxEntry) =>
    a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const matches = (entry: OutboxEntry, filter: OutboxFilter) =>
    (filter.status === undefined || entry.status === filter.status) &&
    (filter.adapter === undefined || entry.adapter === filter.adapter) &&
    (filter.ids === undefined || filter.ids.includes(entry.id)) &&
    (filter.updatedBefore === undefined || entry.updatedAt < filter.updatedBefore);
  const selected = (filter: OutboxFilter) => {
    const found = [...entries.values()].filter((entry) => matches(entry, filter)).sort(byAge);
    return filter.limit === undefined ? found : found.slice(0, Math.max(0, filter.limit));
  };

  const outbox: OutboxStore = {
    async enqueue(entry: NewOutboxEntry) {
      if (entries.has(entry.id)) return false;
      const stored: Mutable<OutboxEntry> = {
        id: entry.id,
        adapter: entry.adapter,
        kind: entry.kind,
        payload: JSON.parse(JSON.stringify(entry.payload ?? null)) as unknown,
        createdAt: entry.createdAt,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: entry.createdAt,
        updatedAt: entry.createdAt,
      };
      entries.set(entry.id, stored);
      return true;
    },
    async get(id) {
      const entry = entries.get(id);
      return entry ? copy(entry) : undefined;
    },
    async due(adapter, now, limit) {
      return [...entries.values()]
        .filter((e) => e.status === 'pending' && e.adapter === adapter && e.nextAttemptAt <= now)
        .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || byAge(a, b))
        .slice(0, Math.max(0, limit))
        .map(copy);
    },
    async nextDueAt(adapter) {
      let earliest: number | undefined;
      for (const entry of entries.values()) {
        if (entry.status !== 'pending' || entry.adapter !== adapter) continue;
        if (earliest === undefined || entry.nextAttemptAt < earliest) earliest = entry.nextAttemptAt;
      }
      return earliest;
    },
    async markDelivered(id, result, now) {
      const entry = entries.get(id);
      if (!entry) return;
      entry.status = 'delivered';
      entry.result = JSON.parse(JSON.stringify(result ?? null)) as unknown;
      entry.updatedAt = now;
    },
    async markRetry(id, error, nextAttemptAt, now) {
      const entry = entries.get(id);
      if (!entry) return;
      entry.status = 'pending';
      entry.attempts += 1;
      entry.nextAttemptAt = nextAttemptAt;
      entry.updatedAt = now;
      if (error) entry.lastError = { kind: error.kind, message: error.message };
    },
    async markDead(id, error, now) {
      const entry = entries.get(id);
      if (!entry) return;
      entry.status = 'dead';
      entry.attempts += 1;
      entry.updatedAt = now;
      if (error) entry.lastError = { kind: error.kind, message: error.message };
    },
    async list(filter = {}) {
      return selected(filter).map(copy);
    },
    async requeue(filter, now) {
      let count = 0;
      for (const entry of selected(filter)) {
        if (entry.status !== 'dead') continue;
        entry.status = 'pending';
        entry.attempts = 0;
        entry.nextAttemptAt = now;
        entry.updatedAt = now;
        count += 1;
      }
      return count;
    },
    async purge(filter) {
      let count = 0;
      for (const entry of selected(filter)) {
        if (entry.status === 'pending' && filter.status !== 'pending') continue;
        entries.delete(entry.id);
        count += 1;
      }
      return count;
    },
    async counts(adapter) {
      const result: Record<OutboxStatus, number> = { pending: 0, delivered: 0, dead: 0 };
      for (const entry of entries.values()) {
        if (adapter === undefined || entry.adapter === adapter) result[entry.status] += 1;
      }
      return result;
    },
  };

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

  const kvKey = (namespace: string, key: string) => `${namespace}\u0000${key}`;
  const kvStore: KeyValueStore = {
    async get(namespace, key, now = clock()) {
      const id = kvKey(namespace, key);
      const entry = kv.get(id);
      if (!entry) return undefined;
      if (entry.expiresAt !== undefined && now >= entry.expiresAt) {
        kv.delete(id);
        return undefined;
      }
      return entry.value;
    },
    async set(namespace, key, value, setOptions) {
      const now = setOptions?.now ?? clock();
      kv.set(
        kvKey(namespace, key),
        setOptions?.ttlMs === undefined ? { value } : { value, expiresAt: now + setOptions.ttlMs },
      );
    },
    async delete(namespace, key) {
      kv.delete(kvKey(namespace, key));
    },
  };

  return {
    outbox,
    snapshots: snapshotStore,
    cursors: cursorStore,
    kv: kvStore,
    async close() {},
  };
}
