import type { OutboxEntry } from '@cti-bridge/core';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type AnyJob, type Delivered, type EntryData, jobIdOf, queueNameOf } from './bullmq-jobs.js';

/** The settings every part of the BullMQ outbox shares, resolved from its options. */
export interface BullmqSettings {
  /** The store's connection: queues (adds, reads, moves) use it. */
  readonly client: Redis;
  /** The connection of BullMQ's workers (`maxRetriesPerRequest: null`). */
  readonly workerClient: Redis;
  /** BullMQ's key prefix: `<prefix>:bq`. */
  readonly bullPrefix: string;
  /** The set of every adapter that has a queue. */
  readonly adaptersKey: string;
  readonly claimMs: number;
  /** The runner's name (BullMQ's `processedBy`). */
  readonly owner: string;
  /** The lock token of this store: its owner name plus a suffix of its own. */
  readonly token: string;
  readonly clock: () => number;
  readonly stalledIntervalMs: number;
  /** BullMQ's `removeOnComplete`: age in seconds and count. */
  readonly keepDelivered: { readonly age: number; readonly count: number };
  readonly reportError: (error: unknown) => void;
}

/** One adapter's queue, its manual-processing worker (made on first `due`) and the jobs this store holds. */
export interface Lane {
  readonly adapter: string;
  readonly queue: Queue<EntryData, Delivered | null, string>;
  worker?: Worker<EntryData, Delivered | null, string>;
  /** Jobs taken by this store and not settled yet, by job id. */
  readonly held: Map<string, { job: AnyJob; entry: OutboxEntry }>;
}

/** The lanes of a BullMQ outbox (one per adapter) and the job look-ups and locks over them. */
export interface BullmqLanes extends BullmqSettings {
  /** The lanes opened by this store, by adapter. */
  readonly lanes: Map<string, Lane>;
  /** The lane of an adapter, its queue opened on first use. */
  laneOf(adapter: string): Lane;
  /** The lane's worker (manual processing: no processor, never run), its stalled check started. */
  workerOf(lane: Lane): Promise<Worker<EntryData, Delivered | null, string>>;
  /** Every adapter that has a queue (any runner's enqueue records it), or only the one given. */
  adapters(only?: string): Promise<string[]>;
  /** The job of an entry id and its adapter, looked up in the given adapter's queue or in all. */
  findJob(id: string, adapter?: string): Promise<{ lane: Lane; job: AnyJob } | undefined>;
  /**
   * Makes sure this store holds a job under its lock: true when it does (now or already), false
   * when the job is gone, settled, or (without `force`) held by another runner.
   */
  hold(lane: Lane, job: AnyJob, force: boolean): Promise<boolean>;
  /** Stops the stalled checks and closes the queues and workers (not the connections). */
  close(): Promise<void>;
}

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

/** An adapter's queue: BullMQ's own attempts stay 1, delivered jobs kept per `keepDelivered`. */
function openQueue(settings: BullmqSettings, adapter: string): Lane {
  const queue = new Queue<EntryData, Delivered | null, string>(queueNameOf(adapter), {
    connection: settings.client,
    prefix: settings.bullPrefix,
    skipVersionCheck: true,
    defaultJobOptions: {
      attempts: 1,
      removeOnComplete: settings.keepDelivered,
      removeOnFail: false,
    },
  });
  queue.on('error', settings.reportError);
  return { adapter, queue, held: new Map() };
}

/** An adapter's manual-processing worker, its stalled check not started yet. */
function openWorker(settings: BullmqSettings, adapter: string): Worker<EntryData, Delivered | null, string> {
  const worker = new Worker<EntryData, Delivered | null, string>(queueNameOf(adapter), null, {
    connection: settings.workerClient,
    prefix: settings.bullPrefix,
    autorun: false,
    skipVersionCheck: true,
    lockDuration: settings.claimMs,
    stalledInterval: settings.stalledIntervalMs,
    // Stalls are runner deaths, not the entry's fault: the delivery policy counts attempts.
    maxStalledCount: Number.MAX_SAFE_INTEGER,
    name: settings.owner,
  });
  worker.on('error', settings.reportError);
  return worker;
}

/** Runs {@link TAKE_JOB} for one job of a lane under this store's token. */
async function takeJob(settings: BullmqSettings, lane: Lane, job: AnyJob, force: boolean): Promise<number> {
  const keys = lane.queue.keys;
  const jobKey = lane.queue.toKey(job.id as string);
  const client = settings.client as unknown as Record<
    'ctiTakeJob',
    (...a: (string | number)[]) => Promise<number>
  >;
  return client.ctiTakeJob(
    keys.wait as string,
    keys.paused as string,
    keys.prioritized as string,
    keys.delayed as string,
    keys.active as string,
    jobKey,
    job.id as string,
    settings.token,
    settings.claimMs,
    force ? '1' : '0',
  );
}

/** The lanes of a BullMQ outbox over its settings (defines the job-taking script on the client). */
export function createBullmqLanes(settings: BullmqSettings): BullmqLanes {
  const { client } = settings;
  const lanes = new Map<string, Lane>();
  if (!('ctiTakeJob' in client)) client.defineCommand('ctiTakeJob', { numberOfKeys: 0, lua: TAKE_JOB });

  const laneOf = (adapter: string): Lane => {
    let lane = lanes.get(adapter);
    if (!lane) {
      lane = openQueue(settings, adapter);
      lanes.set(adapter, lane);
    }
    return lane;
  };

  const adapters = async (only?: string): Promise<string[]> =>
    only !== undefined ? [only] : (await client.smembers(settings.adaptersKey)).sort();

  return {
    ...settings,
    lanes,
    laneOf,
    adapters,
    async workerOf(lane) {
      if (!lane.worker) {
        const worker = openWorker(settings, lane.adapter);
        lane.worker = worker;
        await worker.startStalledCheckTimer();
      }
      return lane.worker;
    },
    async findJob(id, adapter) {
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
    },
    async hold(lane, job, force) {
      return (await takeJob(settings, lane, job, force)) === 1;
    },
    async close() {
      const all = [...lanes.values()];
      lanes.clear();
      await Promise.all(
        all.map(async (lane) => {
          await lane.worker?.close(true).catch(settings.reportError);
          await lane.queue.close().catch(settings.reportError);
        }),
      );
    },
  };
}
