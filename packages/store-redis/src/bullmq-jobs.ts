import type { NewOutboxEntry, OutboxEntry, OutboxStatus } from '@cti-bridge/core';
import type { Job, JobType } from 'bullmq';

/** What a job holds: the entry as recorded, plus a nonce that tells the enqueue that wrote it. */
export interface EntryData {
  readonly id: string;
  readonly adapter: string;
  readonly kind: NewOutboxEntry['kind'];
  readonly payload: unknown;
  readonly createdAt: number;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly updatedAt: number;
  readonly lastError?: OutboxEntry['lastError'];
  readonly nonce: string;
}

/** The return value of a completed job. */
export interface Delivered {
  readonly result: unknown;
  readonly updatedAt: number;
}

/** A job of the BullMQ outbox. */
export type AnyJob = Job<EntryData, Delivered | null, string>;

/**
 * The job id of an entry id: BullMQ refuses `:` and all-digit custom ids, and a job id must not
 * clash with the queue's own keys (`wait`, `meta`…): `e-` + the id, percent-encoded (reversible).
 */
export function jobIdOf(entryId: string): string {
  return `e-${encodeURIComponent(entryId)}`;
}

/** The queue name of an adapter (BullMQ refuses `:` in queue names): percent-encoded. */
export function queueNameOf(adapter: string): string {
  return encodeURIComponent(adapter);
}

const PENDING_TYPES: readonly JobType[] = ['wait', 'prioritized', 'delayed', 'active'];

/** The BullMQ job states of each outbox status. */
export const TYPES_OF: Record<OutboxStatus, readonly JobType[]> = {
  pending: PENDING_TYPES,
  delivered: ['completed'],
  dead: ['failed'],
};

/** Order of `due`: next attempt first, then oldest, then id. */
export const byDue = (a: OutboxEntry, b: OutboxEntry) =>
  a.nextAttemptAt - b.nextAttemptAt || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Order of listings: oldest first, then id. */
export const byAge = (a: OutboxEntry, b: OutboxEntry) =>
  a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The outbox entry a job holds, with the given status (a fresh copy). */
export function entryOf(job: AnyJob, status: OutboxStatus): OutboxEntry {
  const { nonce: _nonce, lastError, ...data } = job.data;
  const entry: Record<string, unknown> = { ...data, status };
  if (lastError !== undefined) entry.lastError = lastError;
  if (status === 'delivered' && job.returnvalue) {
    entry.updatedAt = job.returnvalue.updatedAt;
    entry.result = job.returnvalue.result;
  }
  // A fresh copy: callers may change what they get.
  return structuredClone(entry) as unknown as OutboxEntry;
}

/** The outbox status of a BullMQ job state (undefined for a job that does not exist). */
export function statusOf(state: string): OutboxStatus | undefined {
  if (state === 'completed') return 'delivered';
  if (state === 'failed') return 'dead';
  if (state === 'unknown') return undefined;
  return 'pending';
}

/** True for BullMQ's refusals of a move by a worker that no longer holds the job. */
export function isLostJob(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return /Missing lock|Lock mismatch|not in the active state|is not in the active|Missing key for job|locked by another/i.test(
    message,
  );
}
