import type { NewOutboxEntry, OutboxEntry, OutboxFilter, OutboxStatus, OutboxStore } from './types.js';

/** An outbox entry as the memory outbox holds it (updated in place). */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The memory outbox's entries, by id. */
type Entries = Map<string, Mutable<OutboxEntry>>;

const copy = (entry: OutboxEntry): OutboxEntry => JSON.parse(JSON.stringify(entry)) as OutboxEntry;
const byAge = (a: OutboxEntry, b: OutboxEntry) =>
  a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const matches = (entry: OutboxEntry, filter: OutboxFilter) =>
  (filter.status === undefined || entry.status === filter.status) &&
  (filter.adapter === undefined || entry.adapter === filter.adapter) &&
  (filter.ids === undefined || filter.ids.includes(entry.id)) &&
  (filter.updatedBefore === undefined || entry.updatedAt < filter.updatedBefore);

/** The entries a filter selects, oldest first, at most `filter.limit`. */
function selected(entries: Entries, filter: OutboxFilter): Mutable<OutboxEntry>[] {
  const found = [...entries.values()].filter((entry) => matches(entry, filter)).sort(byAge);
  return filter.limit === undefined ? found : found.slice(0, Math.max(0, filter.limit));
}

/** The read side of the memory outbox: every entry handed out is a copy. */
function outboxReads(entries: Entries): Pick<OutboxStore, 'get' | 'due' | 'nextDueAt' | 'list' | 'counts'> {
  return {
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
    async list(filter = {}) {
      return selected(entries, filter).map(copy);
    },
    async counts(adapter) {
      const result: Record<OutboxStatus, number> = { pending: 0, delivered: 0, dead: 0 };
      for (const entry of entries.values()) {
        if (adapter === undefined || entry.adapter === adapter) result[entry.status] += 1;
      }
      return result;
    },
  };
}

/** The delivery side of the memory outbox: new entries and the outcome of each attempt. */
function outboxDeliveries(
  entries: Entries,
): Pick<OutboxStore, 'enqueue' | 'markDelivered' | 'markRetry' | 'markDead'> {
  return {
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
  };
}

/** The operator side of the memory outbox: dead entries requeued, entries purged. */
function outboxMaintenance(entries: Entries): Pick<OutboxStore, 'requeue' | 'purge'> {
  return {
    async requeue(filter, now) {
      let count = 0;
      for (const entry of selected(entries, filter)) {
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
      for (const entry of selected(entries, filter)) {
        if (entry.status === 'pending' && filter.status !== 'pending') continue;
        entries.delete(entry.id);
        count += 1;
      }
      return count;
    },
  };
}

/**
 * An {@link OutboxStore} in memory. Payloads and results are deep-copied through JSON on the way
 * in and out, as a durable store would, so callers never share objects with it.
 */
export function createMemoryOutbox(): OutboxStore {
  const entries: Entries = new Map();
  return { ...outboxDeliveries(entries), ...outboxReads(entries), ...outboxMaintenance(entries) };
}
