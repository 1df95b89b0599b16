import type { OutboxEntry, OutboxFilter, OutboxStatus } from '@cti-bridge/core';
import type { JobType } from 'bullmq';
import { type AnyJob, byAge, entryOf, jobIdOf, statusOf, TYPES_OF } from './bullmq-jobs.js';
import type { BullmqLanes, Lane } from './bullmq-lanes.js';

/** An entry found by {@link selectEntries}, with its job and lane. */
export interface SelectedEntry {
  readonly entry: OutboxEntry;
  readonly job: AnyJob;
  readonly lane: Lane;
}

/** Jobs of some BullMQ states, read in pages. */
async function jobsIn(lane: Lane, types: readonly JobType[]): Promise<Array<{ job: AnyJob; type: JobType }>> {
  const out: Array<{ job: AnyJob; type: JobType }> = [];
  const page = 500;
  for (const type of types) {
    for (let start = 0; ; start += page) {
      const jobs = (await lane.queue.getJobs([type], start, start + page - 1, true)) as AnyJob[];
      for (const job of jobs) if (job?.data) out.push({ job, type });
      if (jobs.length < page) break;
    }
  }
  return out;
}

const matches = (entry: OutboxEntry, filter: OutboxFilter) =>
  (filter.status === undefined || entry.status === filter.status) &&
  (filter.adapter === undefined || entry.adapter === filter.adapter) &&
  (filter.ids === undefined || filter.ids.includes(entry.id)) &&
  (filter.updatedBefore === undefined || entry.updatedAt < filter.updatedBefore);

/** The entries of the given ids in one lane that match the filter. */
async function selectIds(lane: Lane, ids: readonly string[], filter: OutboxFilter): Promise<SelectedEntry[]> {
  const found: SelectedEntry[] = [];
  for (const id of new Set(ids)) {
    const job = (await lane.queue.getJob(jobIdOf(id))) as AnyJob | undefined;
    if (!job?.data) continue;
    const status = statusOf(await job.getState());
    if (status === undefined) continue;
    const entry = entryOf(job, status);
    if (matches(entry, filter)) found.push({ entry, job, lane });
  }
  return found;
}

/** The entries matching a filter (with their jobs), oldest first, limited. */
export async function selectEntries(lanes: BullmqLanes, filter: OutboxFilter): Promise<SelectedEntry[]> {
  const limit = filter.limit === undefined ? Number.POSITIVE_INFINITY : Math.max(0, filter.limit);
  if (limit === 0) return [];
  const found: SelectedEntry[] = [];
  const statuses: OutboxStatus[] =
    filter.status === undefined ? ['pending', 'delivered', 'dead'] : [filter.status];
  for (const name of await lanes.adapters(filter.adapter)) {
    const lane = lanes.laneOf(name);
    if (filter.ids !== undefined) {
      found.push(...(await selectIds(lane, filter.ids, filter)));
      continue;
    }
    for (const status of statuses) {
      for (const { job } of await jobsIn(lane, TYPES_OF[status])) {
        const entry = entryOf(job, status);
        if (matches(entry, filter)) found.push({ entry, job, lane });
      }
    }
  }
  found.sort((a, b) => byAge(a.entry, b.entry));
  return found.slice(0, limit);
}
