import type { AdapterErrorKind } from '../adapter/errors.js';

/**
 * Durable state of a connector. Core ships an in-memory implementation; the runner ships SQLite.
 * Every method is async so that any backend fits. Times are epoch milliseconds.
 */
export interface Store {
  readonly outbox: OutboxStore;
  /** Opaque snapshots (CallTracker state) by key. */
  readonly snapshots: SnapshotStore;
  /** OVH `Session` cursor per event token. */
  readonly cursors: CursorStore;
  /** Namespaced key-value state (adapter state, delivered keys). */
  readonly kv: KeyValueStore;
  close(): Promise<void>;
}

/**
 * What an outbox entry asks an adapter to do. `webhook`: a prepared HTTP delivery (a JSON event for
 * a webhook subscriber), handed whole to the worker's `send` (see `DeliveryWorkerDeps.send`).
 */
export type OutboxKind = 'log-call' | 'follow-up' | 'create-contact' | 'queue-session' | 'webhook';

/** Where an outbox entry is in its life. */
export type OutboxStatus = 'pending' | 'delivered' | 'dead';

/** A write to deliver, recorded before delivery is attempted. */
export interface NewOutboxEntry {
  /** Unique id; also the idempotency key handed to the adapter. */
  readonly id: string;
  /** Adapter instance name (route target). */
  readonly adapter: string;
  readonly kind: OutboxKind;
  /** JSON-serialisable payload (e.g. a serialised CallRecord and its match). */
  readonly payload: unknown;
  /** When the entry was created; first delivery is due then. */
  readonly createdAt: number;
}

/** An outbox entry with its delivery state. */
export interface OutboxEntry extends NewOutboxEntry {
  readonly status: OutboxStatus;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly updatedAt: number;
  readonly lastError?: { readonly kind: AdapterErrorKind; readonly message: string };
  /** What the adapter returned once delivered (ActivityRef). */
  readonly result?: unknown;
}

/** Filter for listing, retrying and purging entries. */
export interface OutboxFilter {
  readonly status?: OutboxStatus;
  readonly adapter?: string;
  readonly ids?: readonly string[];
  /** Only entries last updated before this time. */
  readonly updatedBefore?: number;
  readonly limit?: number;
}

export interface OutboxStore {
  /** Records an entry. Returns false, and changes nothing, when an entry with this id exists. */
  enqueue(entry: NewOutboxEntry): Promise<boolean>;
  get(id: string): Promise<OutboxEntry | undefined>;
  /** Pending entries of an adapter due at `now`, oldest first. */
  due(adapter: string, now: number, limit: number): Promise<OutboxEntry[]>;
  /** The earliest `nextAttemptAt` among pending entries of an adapter, if any. */
  nextDueAt(adapter: string): Promise<number | undefined>;
  markDelivered(id: string, result: unknown, now: number): Promise<void>;
  /** Counts a failed attempt and schedules the next one. */
  markRetry(id: string, error: OutboxEntry['lastError'], nextAttemptAt: number, now: number): Promise<void>;
  /** Counts a failed attempt and gives up: the entry becomes a dead letter. */
  markDead(id: string, error: OutboxEntry['lastError'], now: number): Promise<void>;
  list(filter?: OutboxFilter): Promise<OutboxEntry[]>;
  /** Dead letters matching the filter become pending again, due now, attempts reset. Returns how many. */
  requeue(filter: OutboxFilter, now: number): Promise<number>;
  /** Deletes entries matching the filter (never pending ones unless asked by status). Returns how many. */
  purge(filter: OutboxFilter): Promise<number>;
  /** Counts by status, for health and metrics. */
  counts(adapter?: string): Promise<Record<OutboxStatus, number>>;
}

export interface SnapshotStore {
  save(key: string, value: string): Promise<void>;
  load(key: string): Promise<string | undefined>;
}

export interface CursorStore {
  get(token: string): Promise<string | undefined>;
  set(token: string, session: string): Promise<void>;
}

export interface KeyValueStore {
  get(namespace: string, key: string, now?: number): Promise<string | undefined>;
  set(
    namespace: string,
    key: string,
    value: string,
    options?: { readonly ttlMs?: number; readonly now?: number },
  ): Promise<void>;
  delete(namespace: string, key: string): Promise<void>;
}
