import type { OutboxEntry } from '@cti-bridge/core';
import { type AnyJob, byDue, entryOf, isLostJob, jobIdOf } from './bullmq-jobs.js';
import type { BullmqLanes, Lane } from './bullmq-lanes.js';

/** Renews what this store holds in a lane (its deliveries in flight); a lost lock drops the job. */
async function renewHeld(lanes: BullmqLanes, lane: Lane): Promise<OutboxEntry[]> {
  const held: OutboxEntry[] = [];
  for (const [jobId, { job, entry }] of [...lane.held]) {
    // An unreachable Redis fails the call (the worker backs off) and keeps what is held.
    const kept = (await job.extendLock(lanes.token, lanes.claimMs)) === 1;
    if (kept) held.push(entry);
    else lane.held.delete(jobId);
  }
  return held;
}

/** Gives jobs not due for this caller's clock back to BullMQ, delayed until due. */
async function delayNotDue(lanes: BullmqLanes, notDue: readonly AnyJob[]): Promise<void> {
  for (const job of notDue) {
    try {
      await job.moveToDelayed(job.data.nextAttemptAt, lanes.token);
    } catch (error) {
      if (!isLostJob(error)) throw error;
    }
  }
}

/**
 * `due` of the BullMQ outbox: BullMQ manual processing. Jobs this store already holds are renewed
 * and handed out again; new ones are pulled with `worker.getNextJob(token)`, and a job pulled whose
 * `nextAttemptAt` is after `now` is given back (`moveToDelayed`).
 */
export async function dueEntries(
  lanes: BullmqLanes,
  adapter: string,
  now: number,
  limit: number,
): Promise<OutboxEntry[]> {
  if (limit <= 0) return [];
  const lane = lanes.laneOf(adapter);
  const worker = await lanes.workerOf(lane);
  const held = await renewHeld(lanes, lane);
  const dueHeld = (): OutboxEntry[] =>
    // Settled while this call renewed (a delivery finishing now): not handed out again.
    held.filter((entry) => entry.nextAttemptAt <= now && lane.held.has(jobIdOf(entry.id)));
  const fresh: OutboxEntry[] = [];
  const notDue: AnyJob[] = [];
  const maxPulls = limit + 64;
  for (let pulls = 0; dueHeld().length + fresh.length < limit && pulls < maxPulls; pulls++) {
    const job = (await worker.getNextJob(lanes.token, { block: false })) as AnyJob | undefined;
    if (!job) break;
    const entry = entryOf(job, 'pending');
    if (entry.nextAttemptAt <= now) {
      fresh.push(entry);
      lane.held.set(job.id as string, { job, entry });
    } else {
      notDue.push(job);
    }
  }
  // Not due for this caller's clock: back to BullMQ, delayed until due.
  await delayNotDue(lanes, notDue);
  return [...dueHeld(), ...fresh.filter((entry) => lane.held.has(jobIdOf(entry.id)))]
    .sort(byDue)
    .slice(0, limit);
}

/** `nextDueAt` of the BullMQ outbox: the earliest time a job of the adapter's queue may be taken. */
export async function nextDueAt(lanes: BullmqLanes, adapter: string): Promise<number | undefined> {
  const { client, token, stalledIntervalMs } = lanes;
  const lane = lanes.laneOf(adapter);
  const now = lanes.clock();
  let best: number | undefined;
  const consider = (at: number) => {
    if (best === undefined || at < best) best = at;
  };
  // The next jobs to be taken from wait and prioritized, and the first delayed ones.
  for (const type of ['wait', 'prioritized', 'delayed'] as const) {
    const jobs = (await lane.queue.getJobs([type], 0, 63, true)) as AnyJob[];
    for (const job of jobs) if (job?.data) consider(job.data.nextAttemptAt);
  }
  // Active jobs: this store's are due at their time; another runner's when its lock ends
  // (and the stalled check has run).
  const active = (await lane.queue.getJobs(['active'], 0, -1, true)) as AnyJob[];
  for (const job of active) {
    if (!job?.data) continue;
    const lockKey = `${lane.queue.toKey(job.id as string)}:lock`;
    const [holder, ttl] = await Promise.all([client.get(lockKey), client.pttl(lockKey)]);
    // (A job locked under this store's token that it does not hold, after a failed settle,
    // counts as another's: it comes back through the stalled check, never as a busy loop.)
    if (holder === token && lane.held.has(job.id as string)) consider(job.data.nextAttemptAt);
    else if (holder !== null) consider(Math.max(job.data.nextAttemptAt, now + Math.max(0, ttl)));
    else consider(Math.max(job.data.nextAttemptAt, now + stalledIntervalMs));
  }
  return best;
}
