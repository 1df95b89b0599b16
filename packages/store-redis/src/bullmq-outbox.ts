import { randomBytes } from 'node:crypto';
import type { NewOutboxEntry, OutboxEntry, OutboxFilter, OutboxStatus, OutboxStore } from '@cti-bridge/core';
import { type Job, type JobType, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';

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

/** What a job holds: the entry as recorded, plus a nonce that tells the enqueue that wrote it. */
interface EntryData {
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
interface Delivered {
  readonly result: unknown;
  readonly updatedAt: number;
}

type AnyJob = Job<EntryData, Delivered | null, string>;

/** One adapter's queue, its manual-processing worker (made on first `due`) and the jobs this store holds. */
interface Lane {
  readonly adapter: string;
  readonly queue: Queue<EntryData, Delivered | null, string>;
  worker?: Worker<EntryData, Delivered | null, string>;
  /** Jobs taken by this store and not settled yet, by job id. */
  readonly held: Map<string, { job: AnyJob; entry: OutboxEntry }>;
}

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
const TYPES_OF: Record<OutboxStatus, readonly JobType[]> = {
  pending: PENDING_TYPES,
  delivered: ['completed'],
  dead: ['failed'],
};

/**
 * Moves one pending job to `active` under a lock of `token` (or renews this token's lock), so that
 * BullMQ's own moves (completed, failed, delayed) can settle a job `due` did not hand out. ARGV:
 * wait, paused, prioritized, delayed, active keys, job key, job id, token, lock ms, force. Returns
 * 1 when held, 0 when another token holds it (and force is 0), -1 when the job does not exist, -3
 * when it is not pending (completed or failed).
 */
const TAKE_JOB = `
local jobKey = ARGV[6]
local id = ARGV[7]
local token = ARGV[8]
if redis.call('EXISTS', jobKey) == 0 then return -1 end
local lockKey = jobKey .. ':lock'
local holder = redis.call('GET', lockKey)
if holder and holder ~= token and ARGV[10] ~= '1' then return 0 end
local moved = redis.call('LREM', ARGV[1], 0, id) + redis.call('LREM', ARGV[2], 0, id)
  + redis.call('ZREM', ARGV[3], id) + redis.call('ZREM', ARGV[4], id)
if moved > 0 then
  redis.call('LPUSH', ARGV[5], id)
elseif not redis.call('LPOS', ARGV[5], id) then
  return -3
end
redis.call('SET', lockKey, token, 'PX', ARGV[9])
return 1
`;

const byDue = (a: OutboxEntry, b: OutboxEntry) =>
  a.nextAttemptAt - b.nextAttemptAt || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const byAge = (a: OutboxEntry, b: OutboxEntry) =>
  a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function entryOf(job: AnyJob, status: OutboxStatus): OutboxEntry {
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

function statusOf(state: string): OutboxStatus | undefined {
  if (state === 'completed') return 'delivered';
  if (state === 'failed') return 'dead';
  if (state === 'unknown') return undefined;
  return 'pending';
}

/** True for BullMQ's refusals of a move by a worker that no longer holds the job. */
function isLostJob(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return /Missing lock|Lock mismatch|not in the active state|is not in the active|Missing key for job|locked by another/i.test(
    message,
  );
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
  const { client, workerClient, claimMs, owner } = options;
  // The lock token of this store: its owner name plus a suffix of its own, so that a runner
  // restarted under the same name never takes its predecessor's locks for its own.
  const token = `${owner}#${randomBytes(4).toString('hex')}`;
  const clock = options.clock ?? Date.now;
  const bullPrefix = `${options.prefix}:bq`;
  const adaptersKey = `${options.prefix}:bq-adapters`;
  const stalledIntervalMs =
    options.stalledIntervalMs ?? Math.min(30_000, Math.max(250, Math.floor(claimMs / 4)));
  const keepDelivered = {
    age: Math.ceil((options.keepDelivered?.ageMs ?? 30 * 86_400_000) / 1000),
    count: options.keepDelivered?.count ?? 100_000,
  };
  const lanes = new Map<string, Lane>();
  const reportError = (error: unknown) =>
    options.onError?.(error instanceof Error ? error : new Error(String(error)));

  if (!('ctiTakeJob' in client)) client.defineCommand('ctiTakeJob', { numberOfKeys: 0, lua: TAKE_JOB });
  const takeJob = (...args: (string | number)[]) =>
    (client as unknown as Record<'ctiTakeJob', (...a: (string | number)[]) => Promise<number>>).ctiTakeJob(
      ...args,
    );

  const laneOf = (adapter: string): Lane => {
    let lane = lanes.get(adapter);
    if (!lane) {
      const queue = new Queue<EntryData, Delivered | null, string>(queueNameOf(adapter), {
        connection: client,
        prefix: bullPrefix,
        skipVersionCheck: true,
        defaultJobOptions: {
          attempts: 1,
          removeOnComplete: keepDelivered,
          removeOnFail: false,
        },
      });
      queue.on('error', reportError);
      lane = { adapter, queue, held: new Map() };
      lanes.set(adapter, lane);
    }
    return lane;
  };

  /** The lane's worker (manual processing: no processor, never run), its stalled check started. */
  const workerOf = async (lane: Lane): Promise<Worker<EntryData, Delivered | null, string>> => {
    if (!lane.worker) {
      const worker = new Worker<EntryData, Delivered | null, string>(queueNameOf(lane.adapter), null, {
        connection: workerClient,
        prefix: bullPrefix,
        autorun: false,
        skipVersionCheck: true,
        lockDuration: claimMs,
        stalledInterval: stalledIntervalMs,
        // Stalls are runner deaths, not the entry's fault: the delivery policy counts attempts.
        maxStalledCount: Number.MAX_SAFE_INTEGER,
        name: owner,
      });
      worker.on('error', reportError);
      lane.worker = worker;
      await worker.startStalledCheckTimer();
    }
    return lane.worker;
  };

  /** Every adapter that has a queue (any runner's enqueue records it). */
  const adapters = async (only?: string): Promise<string[]> =>
    only !== undefined ? [only] : (await client.smembers(adaptersKey)).sort();

  /** The job of an entry id and its adapter, looked up in the given adapter's queue or in all. */
  const findJob = async (id: string, adapter?: string): Promise<{ lane: Lane; job: AnyJob } | undefined> => {
    for (const lane of lanes.values()) {
      const held = lane.held.get(jobIdOf(id));
      if (held && (adapter === undefined || lane.adapter === adapter)) return { lane, job: held.job };
    }
    for (const name of await adapters(adapter)) {
      const lane = laneOf(name);
      const job = (await lane.queue.getJob(jobIdOf(id))) as AnyJob | undefined;
      if (job) return { lane, job };
    }
    return undefined;
  };

  /**
   * Makes sure this store holds a job under its lock: true when it does (now or already), false
   * when the job is gone, settled, or (without `force`) held by another runner.
   */
  const hold = async (lane: Lane, job: AnyJob, force: boolean): Promise<boolean> => {
    const keys = lane.queue.keys;
    const jobKey = lane.queue.toKey(job.id as string);
    const taken = await takeJob(
      keys.wait as string,
      keys.paused as string,
      keys.prioritized as string,
      keys.delayed as string,
      keys.active as string,
      jobKey,
      job.id as string,
      token,
      claimMs,
      force ? '1' : '0',
    );
    return taken === 1;
  };

  /** Settles one entry with BullMQ's moves; a lost job (taken over, settled) is left as it is. */
  const settle = async (
    id: string,
    action: 'delivered' | 'retry' | 'dead',
    apply: (job: AnyJob, token: string) => Promise<unknown>,
  ): Promise<void> => {
    // No longer held, before anything is awaited: a `due` running meanwhile must not hand it out.
    for (const lane of lanes.values()) lane.held.delete(jobIdOf(id));
    const found = await findJob(id);
    if (!found) return;
    const { lane, job } = found;
    // A delivered entry is delivered whoever holds it; retry and dead leave another runner's job alone.
    if (!(await hold(lane, job, action === 'delivered'))) return;
    try {
      await apply(job, token);
    } catch (error) {
      if (!isLostJob(error)) throw error;
    }
  };

  /** New data for a held job; only while this store holds it (extendLock answers 1). */
  const updateHeld = async (job: AnyJob, data: EntryData): Promise<boolean> => {
    if ((await job.extendLock(token, claimMs)) !== 1) return false;
    await job.updateData(data);
    return true;
  };

  /** Jobs of some BullMQ states, read in pages. */
  const jobsIn = async (
    lane: Lane,
    types: readonly JobType[],
  ): Promise<Array<{ job: AnyJob; type: JobType }>> => {
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
  };

  const matches = (entry: OutboxEntry, filter: OutboxFilter) =>
    (filter.status === undefined || entry.status === filter.status) &&
    (filter.adapter === undefined || entry.adapter === filter.adapter) &&
    (filter.ids === undefined || filter.ids.includes(entry.id)) &&
    (filter.updatedBefore === undefined || entry.updatedAt < filter.updatedBefore);

  /** The entries matching a filter (with their jobs), oldest first, limited. */
  const selected = async (
    filter: OutboxFilter,
  ): Promise<Array<{ entry: OutboxEntry; job: AnyJob; lane: Lane }>> => {
    const limit = filter.limit === undefined ? Number.POSITIVE_INFINITY : Math.max(0, filter.limit);
    if (limit === 0) return [];
    const found: Array<{ entry: OutboxEntry; job: AnyJob; lane: Lane }> = [];
    const statuses: OutboxStatus[] =
      filter.status === undefined ? ['pending', 'delivered', 'dead'] : [filter.status];
    for (const name of await adapters(filter.adapter)) {
      const lane = laneOf(name);
      if (filter.ids !== undefined) {
        for (const id of new Set(filter.ids)) {
          const job = (await lane.queue.getJob(jobIdOf(id))) as AnyJob | undefined;
          if (!job?.data) continue;
          const status = statusOf(await job.getState());
          if (status === undefined) continue;
          const entry = entryOf(job, status);
          if (matches(entry, filter)) found.push({ entry, job, lane });
        }
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
  };

  const outbox: BullmqOutbox = {
    async enqueue(entry) {
      const lane = laneOf(entry.adapter);
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
      await client.sadd(adaptersKey, entry.adapter);
      const jobId = jobIdOf(entry.id);
      await lane.queue.add(entry.kind, data, {
        jobId,
        delay: Math.max(0, entry.createdAt - Date.now()),
      });
      // BullMQ ignores an add whose job id exists: the job that stays tells which add wrote it.
      const stored = await client.hget(lane.queue.toKey(jobId), 'data');
      return stored !== null && (JSON.parse(stored) as EntryData).nonce === nonce;
    },

    async get(id) {
      const found = await findJob(id);
      if (!found) return undefined;
      const status = statusOf(await found.job.getState());
      if (status === undefined) return undefined;
      // A held job's copy may be stale: read it again.
      const job = (await found.lane.queue.getJob(found.job.id as string)) as AnyJob | undefined;
      return job ? entryOf(job, status) : undefined;
    },

    async due(adapter, now, limit) {
      if (limit <= 0) return [];
      const lane = laneOf(adapter);
      const worker = await workerOf(lane);
      // Renew what this store holds (its deliveries in flight); a lost lock drops the job.
      const held: OutboxEntry[] = [];
      for (const [jobId, { job, entry }] of [...lane.held]) {
        // An unreachable Redis fails the call (the worker backs off) and keeps what is held.
        const kept = (await job.extendLock(token, claimMs)) === 1;
        if (kept) held.push(entry);
        else lane.held.delete(jobId);
      }
      const dueHeld = (): OutboxEntry[] =>
        // Settled while this call renewed (a delivery finishing now): not handed out again.
        held.filter((entry) => entry.nextAttemptAt <= now && lane.held.has(jobIdOf(entry.id)));
      const fresh: OutboxEntry[] = [];
      const notDue: AnyJob[] = [];
      const maxPulls = limit + 64;
      for (let pulls = 0; dueHeld().length + fresh.length < limit && pulls < maxPulls; pulls++) {
        const job = (await worker.getNextJob(token, { block: false })) as AnyJob | undefined;
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
      for (const job of notDue) {
        try {
          await job.moveToDelayed(job.data.nextAttemptAt, token);
        } catch (error) {
          if (!isLostJob(error)) throw error;
        }
      }
      return [...dueHeld(), ...fresh.filter((entry) => lane.held.has(jobIdOf(entry.id)))]
        .sort(byDue)
        .slice(0, limit);
    },

    async nextDueAt(adapter) {
      const lane = laneOf(adapter);
      const now = clock();
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
    },

    async markDelivered(id, result, now) {
      await settle(id, 'delivered', (job, token) =>
        job.moveToCompleted({ result: result ?? null, updatedAt: now }, token, false),
      );
    },

    async markRetry(id, error, nextAttemptAt, now) {
      await settle(id, 'retry', async (job, token) => {
        const data: EntryData = {
          ...job.data,
          attempts: job.data.attempts + 1,
          nextAttemptAt,
          updatedAt: now,
          ...(error ? { lastError: { kind: error.kind, message: error.message } } : {}),
        };
        if (!(await updateHeld(job, data))) return;
        await job.moveToDelayed(nextAttemptAt, token);
      });
    },

    async markDead(id, error, now) {
      await settle(id, 'dead', async (job, token) => {
        const data: EntryData = {
          ...job.data,
          attempts: job.data.attempts + 1,
          updatedAt: now,
          ...(error ? { lastError: { kind: error.kind, message: error.message } } : {}),
        };
        if (!(await updateHeld(job, data))) return;
        await job.moveToFailed(
          new Error(error ? `${error.kind}: ${error.message}` : 'dead letter'),
          token,
          false,
        );
      });
    },

    async list(filter = {}) {
      return (await selected(filter)).map((s) => s.entry);
    },

    async requeue(filter, now) {
      let count = 0;
      for (const { entry, job } of await selected(filter)) {
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
    },

    async purge(filter) {
      let count = 0;
      for (const { entry, job, lane } of await selected(filter)) {
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
    },

    async counts(adapter) {
      const result: Record<OutboxStatus, number> = { pending: 0, delivered: 0, dead: 0 };
      for (const name of await adapters(adapter)) {
        const counts = await laneOf(name).queue.getJobCounts(
          'wait',
          'prioritized',
          'delayed',
          'active',
          'completed',
          'failed',
        );
        result.pending +=
          (counts.wait ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0) + (counts.active ?? 0);
        result.delivered += counts.completed ?? 0;
        result.dead += counts.failed ?? 0;
      }
      return result;
    },

    async close() {
      const all = [...lanes.values()];
      lanes.clear();
      await Promise.all(
        all.map(async (lane) => {
          await lane.worker?.close(true).catch(reportError);
          await lane.queue.close().catch(reportError);
        }),
      );
    },
  };
  return outbox;
}
