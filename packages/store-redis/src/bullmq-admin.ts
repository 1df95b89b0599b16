import type { OutboxFilter, OutboxStatus } from '@cti-bridge/core';
import type { BullmqLanes } from './bullmq-lanes.js';
import { selectEntries } from './bullmq-select.js';

/** `requeue`: the dead letters matching the filter go back to `wait`, due now, attempts reset. */
export async function requeueDead(lanes: BullmqLanes, filter: OutboxFilter, now: number): Promise<number> {
  let count = 0;
  for (const { entry, job } of await selectEntries(lanes, filter)) {
    if (entry.status !== 'dead') continue;
    // New data first: once in wait, any runner may take the job at once.
    await job.updateData({ ...job.data, attempts: 0, nextAttemptAt: now, updatedAt: now });
    try {
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      count++;
    } catch {
      // Requeued (or purged) meanwhile by someone else.
    }
  }
  return count;
}

/** `purge`: removes the jobs matching the filter (pending ones only when the filter asks for them). */
export async function purgeEntries(lanes: BullmqLanes, filter: OutboxFilter): Promise<number> {
  let count = 0;
  for (const { entry, job, lane } of await selectEntries(lanes, filter)) {
    if (entry.status === 'pending' && filter.status !== 'pending') continue;
    lane.held.delete(job.id as string);
    try {
      await job.remove();
      count++;
    } catch {
      // Locked by a runner delivering it: left alone.
    }
  }
  return count;
}

/** `counts`: entries per status, from BullMQ's job counts of each adapter's queue. */
export async function countEntries(
  lanes: BullmqLanes,
  adapter?: string,
): Promise<Record<OutboxStatus, number>> {
  const result: Record<OutboxStatus, number> = { pending: 0, delivered: 0, dead: 0 };
  for (const name of await lanes.adapters(adapter)) {
    const counts = await lanes
      .laneOf(name)
      .queue.getJobCounts('wait', 'prioritized', 'delayed', 'active', 'completed', 'failed');
    result.pending +=
      (counts.wait ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0) + (counts.active ?? 0);
    result.delivered += counts.completed ?? 0;
    result.dead += counts.failed ?? 0;
  }
  return result;
}
