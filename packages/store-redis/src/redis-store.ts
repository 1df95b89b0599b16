import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { OutboxStore, Store } from '@cti-bridge/core';
import type { Redis } from 'ioredis';
import { type BullmqOutbox, createBullmqOutbox } from './bullmq-outbox.js';
import { type ConnectOptions, connectRedis } from './connection.js';
import { type RedisKeys, redisKeys } from './keys.js';
import { createRedisCursors } from './redis-cursors.js';
import { createRedisKeyValue } from './redis-kv.js';
import { createLuaOutbox, defineScripts, enqueueLua, type LuaOutboxContext } from './redis-lua-outbox.js';
import { createOutboxBuffer } from './redis-outbox-buffer.js';
import { createRedisSnapshots } from './redis-snapshots.js';

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

const DEFAULT_CLAIM_MS = 60_000;

/** The BullMQ outbox and the connection of its workers. */
interface BullmqParts {
  readonly bull: BullmqOutbox;
  readonly bullClient: Redis;
}

/** Opens the BullMQ outbox over the store's connection (which it closes when the workers' cannot open). */
async function openBullmq(options: RedisStoreOptions, ctx: LuaOutboxContext): Promise<BullmqParts> {
  const { client, keys, claimMs, owner, clock } = ctx;
  let bullClient: Redis;
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
  const bull = createBullmqOutbox({
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
  return { bull, bullClient };
}

/** Closes a connection (QUIT, or a disconnect when that fails); one already ended is left alone. */
async function quitRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

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
  const clock = options.clock ?? Date.now;
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const ctx: LuaOutboxContext = { client, keys, owner, claimMs: options.claimMs ?? DEFAULT_CLAIM_MS, clock };
  const engine = options.outbox ?? 'lua';
  const bullmq = engine === 'bullmq' ? await openBullmq(options, ctx) : undefined;
  const bull = bullmq?.bull;

  // Entries accepted while Redis was unreachable, in order, with their payload frozen as JSON.
  const buffer = createOutboxBuffer({
    client,
    limit: options.bufferLimit ?? 10_000,
    flushIntervalMs: options.flushIntervalMs ?? 1_000,
    onError: options.onError,
    write: async (entry, payload) =>
      bull
        ? bull.enqueue({ ...entry, payload: JSON.parse(payload) as unknown })
        : enqueueLua(ctx, entry, payload),
  });
  const luaOutbox = createLuaOutbox(ctx, buffer.enqueue);
  // BullMQ's outbox behind the same buffered enqueue.
  const outbox: OutboxStore = bull ? { ...bull, enqueue: luaOutbox.enqueue } : luaOutbox;

  return {
    kind: 'redis',
    redis: client,
    keys,
    owner,
    outboxEngine: engine,
    outbox,
    snapshots: createRedisSnapshots(client, keys),
    cursors: createRedisCursors(client, keys),
    kv: createRedisKeyValue(client, keys, clock),
    buffered: () => buffer.size(),
    flush: buffer.flush,
    async close() {
      buffer.stop();
      if (buffer.size() > 0) await buffer.flush();
      await bull?.close();
      if (bullmq) await quitRedis(bullmq.bullClient);
      await quitRedis(client);
    },
  };
}
