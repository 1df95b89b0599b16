import { randomBytes } from 'node:crypto';
import type { NewOutboxEntry, OutboxEntry } from '@cti-bridge/core';
import { type AnyJob, type EntryData, entryOf, jobIdOf, statusOf } from './bullmq-jobs.js';
import type { BullmqLanes } from './bullmq-lanes.js';

/**
 * `enqueue`: adds the entry's job to its adapter's queue (and the adapter to the set of adapters).
 * True when this call wrote it, false when a job of that id was already there.
 */
export async function enqueueEntry(lanes: BullmqLanes, entry: NewOutboxEntry): Promise<boolean> {
  const { client } = lanes;
  const lane = lanes.laneOf(entry.adapter);
  const nonce = randomBytes(8).toString('hex');
  const data: EntryData = {
    id: entry.id,
    adapter: entry.adapter,
    kind: entry.kind,
    payload: entry.payload ?? null,
    createdAt: entry.createdAt,
    attempts: 0,
    nextAttemptAt: entry.createdAt,
    updatedAt: entry.createdAt,
    nonce,
  };
  await client.sadd(lanes.adaptersKey, entry.adapter);
  const jobId = jobIdOf(entry.id);
  await lane.queue.add(entry.kind, data, {
    jobId,
    delay: Math.max(0, entry.createdAt - Date.now()),
  });
  // BullMQ ignores an add whose job id exists: the job that stays tells which add wrote it.
  const stored = await client.hget(lane.queue.toKey(jobId), 'data');
  return stored !== null && (JSON.parse(stored) as EntryData).nonce === nonce;
}

/** `get`: the entry of an id, read afresh, with the status of its job's state. */
export async function getEntry(lanes: BullmqLanes, id: string): Promise<OutboxEntry | undefined> {
  const found = await lanes.findJob(id);
  if (!found) return undefined;
  const status = statusOf(await found.job.getState());
  if (status === undefined) return undefined;
  // A held job's copy may be stale: read it again.
  const job = (await found.lane.queue.getJob(found.job.id as string)) as AnyJob | undefined;
  return job ? entryOf(job, status) : undefined;
}
