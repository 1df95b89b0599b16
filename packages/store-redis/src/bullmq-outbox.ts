import { randomBytes } from 'node:crypto';
import type { OutboxStore } from '@cti-bridge/core';
import type { Redis } from 'ioredis';
import { countEntries, purgeEntries, requeueDead } from './bullmq-admin.js';
import { dueEntries, nextDueAt } from './bullmq-due.js';
import { enqueueEntry, getEntry } from './bullmq-entries.js';
import { createBullmqLanes } from './bullmq-lanes.js';
import { selectEntries } from './bullmq-select.js';
import { markDead, markDelivered, markRetry } from './bullmq-settle.js';

export { jobIdOf, queueNameOf } from './bullmq-jobs.js';

/** Options of {@link createBullmqOutbox}. */
export interface BullmqOutboxOptions {
  /** Key prefix of the store (`cti`): queues live under `<prefix>:bq:<adapter>`. */
  readonly prefix: string;
  /** The store's connection: queues (adds, reads, moves) use it, so an outage fails fast. */
  readonly client: Redis;
  /** A connection with `maxRetriesPerRequest: null`, for BullMQ's workers (never closed here). */
  readonly workerClient: Redis;
  /** How long a job taken by `due` is locked for this store (BullMQ `lockDuration`). */
  readonly claimMs: number;
  /** The name of this store's runner: BullMQ's `processedBy`, and the start of its lock token. */
  readonly owner: string;
  /** Wall clock for `nextDueAt` (default `Date.now`). */
  readonly clock?: () => number;
  /**
   * How often BullMQ's stalled-job check runs in this process (default: a quarter of `claimMs`,
   * between 250 ms and 30 s): a job whose lock expired (its runner died) goes back to `wait` at the
   * next check of any runner, at most `claimMs + stalledIntervalMs` after its last renewal.
   */
  readonly stalledIntervalMs?: number;
  /**
   * Delivered entries (BullMQ completed jobs) kept per adapter queue: by age (default 30 days) and
   * count (default 100,000). While kept, enqueuing the same id again changes nothing; BullMQ drops
   * older ones when later jobs complete.
   */
  readonly keepDelivered?: { readonly ageMs?: number; readonly count?: number };
  readonly onError?: (error: Error) => void;
}

/** The BullMQ outbox: core's {@link OutboxStore} plus its shutdown. */
export interface BullmqOutbox extends OutboxStore {
  /** Stops the stalled checks and closes the queues and workers (not the connections passed in). */
  close(): Promise<void>;
}

/**
 * An outbox on BullMQ, one queue per adapter, one job per entry (`jobId` from the entry id, the
 * entry in the job's data). Core's delivery policy is unchanged: BullMQ's own `attempts` stays 1
 * and its stalled-job limit is never reached; backoff, Retry-After and dead letters are decided by
 * the `DeliveryWorker` and recorded here.
 *
 * - `due` is BullMQ manual processing: `worker.getNextJob(token)` locks a job for `claimMs`; jobs
 *   this store already holds are renewed (`extendLock`) and handed out again, like the Lua store's
 *   claims. A job pulled whose `nextAttemptAt` is after `now` is given back (`moveToDelayed`).
 * - `markDelivered` = `moveToCompleted` (result kept as the return value); `markRetry` = new data
 *   then `moveToDelayed(nextAttemptAt)`; `markDead` = new data then `moveToFailed`. A job `due`
 *   did not hand out is first taken under this store's lock. A runner whose lock was taken over
 *   changes nothing (`retry`/`dead`), and a delivered job stays delivered.
 * - A runner that dies holding jobs: its locks expire, BullMQ's stalled check (run by every
 *   store that delivers) puts the jobs back in `wait`, another runner delivers them. The adapter's
 *   idempotency key and delivered keys keep the CRM write single.
 * - Statuses come from BullMQ states: pending = wait, prioritized, delayed, active; dead = failed;
 *   delivered = completed (kept per `keepDelivered`).
 */
export function createBullmqOutbox(options: BullmqOutboxOptions): BullmqOutbox {
  const { claimMs } = options;
  const lanes = createBullmqLanes({
    client: options.client,
    workerClient: options.workerClient,
    bullPrefix: `${options.prefix}:bq`,
    adaptersKey: `${options.prefix}:bq-adapters`,
    claimMs,
    owner: options.owner,
    // The lock token of this store: its owner name plus a suffix of its own, so that a runner
    // restarted under the same name never takes its predecessor's locks for its own.
    token: `${options.owner}#${randomBytes(4).toString('hex')}`,
    clock: options.clock ?? Date.now,
    stalledIntervalMs: options.stalledIntervalMs ?? Math.min(30_000, Math.max(250, Math.floor(claimMs / 4))),
    keepDelivered: {
      age: Math.ceil((options.keepDelivered?.ageMs ?? 30 * 86_400_000) / 1000),
      count: options.keepDelivered?.count ?? 100_000,
    },
    reportError: (error: unknown) =>
      options.onError?.(error instanceof Error ? error : new Error(String(error))),
  });

  const outbox: BullmqOutbox = {
    enqueue: (entry) => enqueueEntry(lanes, entry),
    get: (id) => getEntry(lanes, id),
    due: (adapter, now, limit) => dueEntries(lanes, adapter, now, limit),
    nextDueAt: (adapter) => nextDueAt(lanes, adapter),
    markDelivered: (id, result, now) => markDelivered(lanes, id, result, now),
    markRetry: (id, error, nextAttemptAt, now) => markRetry(lanes, id, error, nextAttemptAt, now),
    markDead: (id, error, now) => markDead(lanes, id, error, now),
    async list(filter = {}) {
      return (await selectEntries(lanes, filter)).map((s) => s.entry);
    },
    requeue: (filter, now) => requeueDead(lanes, filter, now),
    purge: (filter) => purgeEntries(lanes, filter),
    counts: (adapter) => countEntries(lanes, adapter),
    close: () => lanes.close(),
  };
  return outbox;
}
