import type { OutboxEntry } from '@cti-bridge/core';
import { type AnyJob, type EntryData, isLostJob, jobIdOf } from './bullmq-jobs.js';
import type { BullmqLanes } from './bullmq-lanes.js';

type LastError = OutboxEntry['lastError'];

/** Settles one entry with BullMQ's moves; a lost job (taken over, settled) is left as it is. */
async function settle(
  lanes: BullmqLanes,
  id: string,
  action: 'delivered' | 'retry' | 'dead',
  apply: (job: AnyJob, token: string) => Promise<unknown>,
): Promise<void> {
  // No longer held, before anything is awaited: a `due` running meanwhile must not hand it out.
  for (const lane of lanes.lanes.values()) lane.held.delete(jobIdOf(id));
  const found = await lanes.findJob(id);
  if (!found) return;
  const { lane, job } = found;
  // A delivered entry is delivered whoever holds it; retry and dead leave another runner's job alone.
  if (!(await lanes.hold(lane, job, action === 'delivered'))) return;
  try {
    await apply(job, lanes.token);
  } catch (error) {
    if (!isLostJob(error)) throw error;
  }
}

/** New data for a held job; only while this store holds it (extendLock answers 1). */
async function updateHeld(lanes: BullmqLanes, job: AnyJob, data: EntryData): Promise<boolean> {
  if ((await job.extendLock(lanes.token, lanes.claimMs)) !== 1) return false;
  await job.updateData(data);
  return true;
}

/** `markDelivered`: `moveToCompleted`, the result kept as the job's return value. */
export async function markDelivered(
  lanes: BullmqLanes,
  id: string,
  result: unknown,
  now: number,
): Promise<void> {
  await settle(lanes, id, 'delivered', (job, token) =>
    job.moveToCompleted({ result: result ?? null, updatedAt: now }, token, false),
  );
}

/** `markRetry`: new data, then `moveToDelayed(nextAttemptAt)`. */
export async function markRetry(
  lanes: BullmqLanes,
  id: string,
  error: LastError,
  nextAttemptAt: number,
  now: number,
): Promise<void> {
  await settle(lanes, id, 'retry', async (job, token) => {
    const data: EntryData = {
      ...job.data,
      attempts: job.data.attempts + 1,
      nextAttemptAt,
      updatedAt: now,
      ...(error ? { lastError: { kind: error.kind, message: error.message } } : {}),
    };
    if (!(await updateHeld(lanes, job, data))) return;
    await job.moveToDelayed(nextAttemptAt, token);
  });
}

/** `markDead`: new data, then `moveToFailed`. */
export async function markDead(lanes: BullmqLanes, id: string, error: LastError, now: number): Promise<void> {
  await settle(lanes, id, 'dead', async (job, token) => {
    const data: EntryData = {
      ...job.data,
      attempts: job.data.attempts + 1,
      updatedAt: now,
      ...(error ? { lastError: { kind: error.kind, message: error.message } } : {}),
    };
    if (!(await updateHeld(lanes, job, data))) return;
    await job.moveToFailed(
      new Error(error ? `${error.kind}: ${error.message}` : 'dead letter'),
      token,
      false,
    );
  });
}
