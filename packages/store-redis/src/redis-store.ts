import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type {
  CursorStore,
  KeyValueStore,
  NewOutboxEntry,
  OutboxEntry,
  OutboxFilter,
  OutboxStatus,
  OutboxStore,
  SnapshotStore,
  Store,
} from '@cti-bridge/core';
import type { Redis } from 'ioredis';
import { type BullmqOutbox, createBullmqOutbox } from './bullmq-outbox.js';
import { type ConnectOptions, connectRedis } from './connection.js';
import { type RedisKeys, redisKeys } from './keys.js';
import { CLAIM_DUE, ENQUEUE, NEXT_DUE, REQUEUE_OR_PURGE, SETTLE } from './scripts.js';

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /** `redis://[:password@]host:port[/db]` (or `rediss://` for TLS). */
  readonly url: string;
  /** Prefix of every key (default `cti`). Runners sharing work must share it. */
  readonly prefix?: string;
  /**
   * How long `outbox.due` holds the entries it returns for this store (default 60 s): during that
   * time no other runner takes them. Must exceed a delivery's time limit; an entry whose claim
   * expires (its runner died) is taken by another runner.
   */
  readonly claimMs?: number;
  /** The name this store claims entries under (default host, pid and a random suffix). */
  readonly owner?: string;
  /** Wall clock for key-value expiry and claims when a call gives no `now` (default `Date.now`). */
  readonly clock?: () => number;
  /** Connection settings passed to {@link connectRedis}. */
  readonly connectTimeoutMs?: number;
  readonly onError?: ConnectOptions['onError'];
  readonly redisOptions?: ConnectOptions['redisOptions'];
  /**
   * Outbox entries kept in memory while Redis cannot be reached (default 10,000; 0 disables): they
   * are written to Redis, in order, as soon as it answers again. Past the bound, `enqueue` throws
   * (new work is refused loudly). A process that exits during the outage loses what it buffered.
   */
  readonly bufferLimit?: number;
  /** How often buffered entries are retried (default 1 s). */
  readonly flushIntervalMs?: number;
  /**
   * The outbox engine: `lua` (default), the store's own Lua scripts; `bullmq`, one BullMQ queue per
   * adapter (see {@link createBullmqOutbox}). Every runner on one prefix must use the same.
   */
  readonly outbox?: 'lua' | 'bullmq';
  /** BullMQ outbox: how often its stalled-job check runs (default a quarter of `claimMs`). */
  readonly stalledIntervalMs?: number;
  /** BullMQ outbox: how many delivered entries are kept, by age and count (default 30 days, 100,000 per adapter). */
  readonly keepDelivered?: { readonly ageMs?: number; readonly count?: number };
}

/** A {@link Store} in Redis, with its connection for the cluster parts (leases, heartbeats). */
export interface RedisStore extends Store {
  readonly kind: 'redis';
  /** The ioredis client (shared with the token leases). */
  readonly redis: Redis;
  readonly keys: RedisKeys;
  /** The owner name of this store's claims. */
  readonly owner: string;
  /** Which outbox engine this store runs on. */
  readonly outboxEngine: 'lua' | 'bullmq';
  /** Outbox entries waiting in memory for Redis to come back. */
  buffered(): number;
  /** Writes the buffered entries now (also done every `flushIntervalMs`). Returns how many remain. */
  flush(): Promise<number>;
}

/** True for an error that means "Redis is not reachable now" rather than a refused command. */
function isConnectionError(client: Redis, error: unknown): boolean {
  if (client.status !== 'ready') return true;
  const name = (error as { name?: string } | null)?.name ?? '';
  const message = error instanceof Error ? error.message : '';
  return (
    name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT/.test(message)
  );
}

const DEFAULT_CLAIM_MS = 60_000;
/** Key-value entries with a TTL are also given a Redis expiry this much later, as garbage collection. */
const KV_GRACE_MS = 60_000;

type Script = 'ctiEnqueue' | 'ctiClaimDue' | 'ctiNextDue' | 'ctiSettle' | 'ctiRequeuePurge';
type ScriptClient = Redis & Record<Script, (...args: (string | number)[]) => Promise<unknown>>;

function defineScripts(client: Redis): ScriptClient {
  const scripts: Record<Script, string> = {
    ctiEnqueue: ENQUEUE,
    ctiClaimDue: CLAIM_DUE,
    ctiNextDue: NEXT_DUE,
    ctiSettle: SETTLE,
    ctiRequeuePurge: REQUEUE_OR_PURGE,
  };
  for (const [name, lua] of Object.entries(scripts)) {
    if (!(name in client)) client.defineCommand(name, { numberOfKeys: 0, lua });
  }
  return client as ScriptClient;
}

/** An entry hash (HGETALL as an object or a flat array) as an {@link OutboxEntry}. */
function toEntry(hash: Record<string, string>): OutboxEntry {
  const entry: Record<string, unknown> = {
    id: hash.id,
    adapter: hash.adapter,
    kind: hash.kind,
    payload: JSON.parse(hash.payload ?? 'null') as unknown,
    createdAt: Number(hash.createdAt),
    status: hash.status,
    attempts: Number(hash.attempts),
    nextAttemptAt: Number(hash.nextAttemptAt),
    updatedAt: Number(hash.updatedAt),
  };
  if (hash.lastError !== undefined) entry.lastError = JSON.parse(hash.lastError) as unknown;
  if (hash.result !== undefined) entry.result = JSON.parse(hash.result) as unknown;
  return entry as unknown as OutboxEntry;
}

function pairs(flat: readonly string[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i] as string] = flat[i + 1] as string;
  return hash;
}

const byAge = (a: OutboxEntry, b: OutboxEntry) =>
  a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Opens a {@link Store} in Redis (6.2 or later), shared by every runner that uses the same URL and
 * prefix: outbox entries, dead letters, cursors, tracker snapshots and key-value state (adapter
 * state, delivered keys) survive any one runner.
 *
 * `outbox.due` is a claim: the entries it returns are held for this store for `claimMs`, and
 * another runner's `due` skips them until they are settled or the claim expires, so two runners
 * never deliver the same entry at the same time. The same store may ask again and gets its own
 * claimed entries back (claims renewed). Every change of an entry is one Lua script, atomic on the
 * server.
 */
export async function createRedisStore(options: RedisStoreOptions): Promise<RedisStore> {
  const client = defineScripts(
    await connectRedis({
      url: options.url,
      ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
      ...(options.onError ? { onError: options.onError } : {}),
      ...(options.redisOptions ? { redisOptions: options.redisOptions } : {}),
    }),
  );
  const keys = redisKeys(options.prefix ?? 'cti');
  const P = keys.prefix;
  const clock = options.clock ?? Date.now;
  const claimMs = options.claimMs ?? DEFAULT_CLAIM_MS;
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const engine = options.outbox ?? 'lua';
  let bull: BullmqOutbox | undefined;
  let bullClient: Redis | undefined;
  if (engine === 'bullmq') {
    // BullMQ's workers need a connection that never gives up a command (maxRetriesPerRequest: null).
    try {
      bullClient = await connectRedis({
        url: options.url,
        ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
        ...(options.onError ? { onError: options.onError } : {}),
        // …and that fails at once while Redis is unreachable, so a delivery worker backs off and a
        // shutdown never waits for Redis.
        redisOptions: { ...options.redisOptions, maxRetriesPerRequest: null, enableOfflineQueue: false },
      });
    } catch (error) {
      client.disconnect();
      throw error;
    }
    bull = createBullmqOutbox({
      prefix: keys.prefix,
      client,
      workerClient: bullClient,
      claimMs,
      owner,
      clock,
      ...(options.stalledIntervalMs === undefined ? {} : { stalledIntervalMs: options.stalledIntervalMs }),
      ...(options.keepDelivered ? { keepDelivered: options.keepDelivered } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }

  const read = async (ids: readonly string[]): Promise<OutboxEntry[]> => {
    if (ids.length === 0) return [];
    const pipeline = client.pipeline();
    for (const id of ids) pipeline.hgetall(keys.entry(id));
    const results = (await pipeline.exec()) ?? [];
    const entries: OutboxEntry[] = [];
    for (const [error, hash] of results) {
      if (error) throw error;
      const record = hash as Record<string, string>;
      if (record.id !== undefined) entries.push(toEntry(record));
    }
    return entries;
  };

  const matches = (entry: OutboxEntry, filter: OutboxFilter) =>
    (filter.status === undefined || entry.status === filter.status) &&
    (filter.adapter === undefined || entry.adapter === filter.adapter) &&
    (filter.ids === undefined || filter.ids.includes(entry.id)) &&
    (filter.updatedBefore === undefined || entry.updatedAt < filter.updatedBefore);

  /** The entries matching a filter, oldest first, read in pages from the smallest index that fits. */
  const selected = async (filter: OutboxFilter): Promise<OutboxEntry[]> => {
    const limit = filter.limit === undefined ? Number.POSITIVE_INFINITY : Math.max(0, filter.limit);
    if (limit === 0) return [];
    if (filter.ids !== undefined) {
      const found = (await read([...new Set(filter.ids)])).filter((e) => matches(e, filter)).sort(byAge);
      return found.slice(0, limit);
    }
    const index = filter.status === undefined ? keys.all : keys.status(filter.status);
    const found: OutboxEntry[] = [];
    const page = 500;
    for (let offset = 0; found.length < limit; offset += page) {
      const ids = await client.zrange(index, offset, offset + page - 1);
      if (ids.length === 0) break;
      for (const entry of await read(ids)) {
        if (matches(entry, filter)) found.push(entry);
        if (found.length >= limit) break;
      }
      if (ids.length < page) break;
    }
    return found;
  };

  const settle = async (
    id: string,
    action: 'delivered' | 'retry' | 'dead',
    now: number,
    nextAttemptAt: number,
    error: OutboxEntry['lastError'],
    result: unknown,
  ) => {
    await client.ctiSettle(
      P,
      id,
      action,
      now,
      owner,
      nextAttemptAt,
      error ? JSON.stringify({ kind: error.kind, message: error.message }) : '',
      JSON.stringify(result ?? null),
    );
  };

  const writeEntry = async (entry: NewOutboxEntry, payload: string) =>
    bull
      ? bull.enqueue({ ...entry, payload: JSON.parse(payload) as unknown })
      : (await client.ctiEnqueue(P, entry.id, entry.adapter, entry.kind, payload, entry.createdAt)) === 1;

  // Entries accepted while Redis was unreachable, in order, with their payload frozen as JSON.
  const bufferLimit = options.bufferLimit ?? 10_000;
  const buffer = new Map<string, { entry: NewOutboxEntry; payload: string }>();
  let flushing: Promise<number> | undefined;
  const flush = (): Promise<number> => {
    flushing ??= (async () => {
      try {
        for (const [id, { entry, payload }] of buffer) {
          await writeEntry(entry, payload);
          buffer.delete(id);
        }
      } catch {
        // Still unreachable: the next flush tries again.
      }
      return buffer.size;
    })().finally(() => {
      flushing = undefined;
    });
    return flushing;
  };
  const flushTimer = setInterval(() => {
    if (buffer.size > 0) void flush();
  }, options.flushIntervalMs ?? 1_000);
  flushTimer.unref?.();

  const luaOutbox: OutboxStore = {
    async enqueue(entry: NewOutboxEntry) {
      if (buffer.has(entry.id)) return false;
      const payload = JSON.stringify(entry.payload ?? null);
      // Disconnected: no need to wait for ioredis's retries, keep the entry at once.
      if (buffer.size === 0 && (client.status === 'ready' || bufferLimit <= 0)) {
        try {
          return await writeEntry(entry, payload);
        } catch (error) {
          if (bufferLimit <= 0 || !isConnectionError(client, error)) throw error;
        }
      }
      // Redis is unreachable (or entries wait before this one: keep their order).
      if (buffer.size >= bufferLimit) {
        throw new Error(
          `Redis is unreachable and ${buffer.size} outbox entries already wait in memory (bufferLimit): refusing new work until Redis answers again`,
        );
      }
      buffer.set(entry.id, { entry, payload });
      options.onError?.(
        new Error(`Redis unreachable: outbox entry ${entry.id} kept in memory (${buffer.size} waiting)`),
      );
      return true;
    },
    async get(id) {
      return (await read([id]))[0];
    },
    async due(adapter, now, limit) {
      if (limit <= 0) return [];
      const claimed = (await client.ctiClaimDue(P, adapter, now, limit, owner, now + claimMs)) as string[][];
      return claimed.map((flat) => toEntry(pairs(flat)));
    },
    async nextDueAt(adapter) {
      const next = (await client.ctiNextDue(P, adapter, owner, clock())) as string | null;
      return next === null ? undefined : Number(next);
    },
    async markDelivered(id, result, now) {
      await settle(id, 'delivered', now, 0, undefined, result);
    },
    async markRetry(id, error, nextAttemptAt, now) {
      await settle(id, 'retry', now, nextAttemptAt, error, undefined);
    },
    async markDead(id, error, now) {
      await settle(id, 'dead', now, 0, error, undefined);
    },
    async list(filter = {}) {
      return selected(filter);
    },
    async requeue(filter, now) {
      let count = 0;
      for (const entry of await selected(filter)) {
        if (entry.status !== 'dead') continue;
        count += Number(await client.ctiRequeuePurge(P, entry.id, 'requeue', 'dead', now));
      }
      return count;
    },
    async purge(filter) {
      let count = 0;
      for (const entry of await selected(filter)) {
        if (entry.status === 'pending' && filter.status !== 'pending') continue;
        count += Number(await client.ctiRequeuePurge(P, entry.id, 'purge', entry.status, 0));
      }
      return count;
    },
    async counts(adapter) {
      const result: Record<OutboxStatus, number> = { pending: 0, delivered: 0, dead: 0 };
      const counters = await client.hgetall(keys.counts);
      for (const [field, value] of Object.entries(counters)) {
        const bar = field.indexOf('|');
        const status = field.slice(0, bar) as OutboxStatus;
        if (!(status in result)) continue;
        if (adapter === undefined || field.slice(bar + 1) === adapter) result[status] += Number(value);
      }
      return result;
    },
  };

  // BullMQ's outbox behind the same buffered enqueue.
  const outbox: OutboxStore = bull ? { ...bull, enqueue: luaOutbox.enqueue } : luaOutbox;

  const snapshots: SnapshotStore = {
    async save(key, value) {
      await client.set(keys.snapshot(key), value);
    },
    async load(key) {
      return (await client.get(keys.snapshot(key))) ?? undefined;
    },
  };

  const cursors: CursorStore = {
    async get(token) {
      return (await client.get(keys.cursor(token))) ?? undefined;
    },
    async set(token, session) {
      await client.set(keys.cursor(token), session);
    },
  };

  const kv: KeyValueStore = {
    async get(namespace, key, now = clock()) {
      const id = keys.kv(namespace, key);
      const [value, expiresAt] = await client.hmget(id, 'v', 'x');
      if (value === null || value === undefined) return undefined;
      if (expiresAt !== null && expiresAt !== undefined && now >= Number(expiresAt)) {
        await client.del(id);
        return undefined;
      }
      return value;
    },
    async set(namespace, key, value, setOptions) {
      const id = keys.kv(namespace, key);
      const multi = client.multi().del(id);
      if (setOptions?.ttlMs === undefined) {
        multi.hset(id, 'v', value);
      } else {
        const now = setOptions.now ?? clock();
        // The logical expiry follows the caller's clock; Redis drops the key a grace period later.
        multi.hset(id, 'v', value, 'x', String(now + setOptions.ttlMs));
        multi.pexpire(id, Math.max(1, setOptions.ttlMs) + KV_GRACE_MS);
      }
      await multi.exec();
    },
    async delete(namespace, key) {
      await client.del(keys.kv(namespace, key));
    },
  };

  return {
    kind: 'redis',
    redis: client,
    keys,
    owner,
    outboxEngine: engine,
    outbox,
    snapshots,
    cursors,
    kv,
    buffered: () => buffer.size,
    flush,
    async close() {
      clearInterval(flushTimer);
      if (buffer.size > 0) await flush();
      await bull?.close();
      if (bullClient && bullClient.status !== 'end') {
        try {
          await bullClient.quit();
        } catch {
          bullClient.disconnect();
        }
      }
      if (client.status === 'end') return;
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}
