/**
 * @cti-bridge/store-redis/testing — helpers for tests against a real Redis: find out whether one
 * answers, give each test its own key prefix and remove its keys afterwards.
 *
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { MIN_REDIS_VERSION, redisServerVersion, versionAtLeast } from '../connection.js';

/** The Redis tests use: `REDIS_URL`, else `redis://127.0.0.1:6379`. */
export function redisTestUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** Whether a Redis answers at a URL, and why not. */
export type RedisProbe =
  | { readonly ok: true; readonly url: string; readonly version: string }
  | { readonly ok: false; readonly url: string; readonly reason: string };

/** Pings a Redis once (no retries, bounded by `timeoutMs`) and reads its version. */
export async function probeRedis(url: string = redisTestUrl(), timeoutMs = 1_500): Promise<RedisProbe> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    const version = await redisServerVersion(client);
    if (!versionAtLeast(version)) {
      return { ok: false, url, reason: `Redis ${version} is older than ${MIN_REDIS_VERSION}` };
    }
    return { ok: true, url, version };
  } catch (error) {
    return { ok: false, url, reason: error instanceof Error ? error.message : String(error) };
  } finally {
    client.disconnect();
  }
}

/**
 * Whether Redis tests run: a probe, plus what to do without Redis. Without Redis, tests skip with
 * a loud message on stderr — unless `CTI_REQUIRE_REDIS=1`, where `mustFail` is set and the caller
 * fails a test (CI sets it where a Redis runs, so skipped Redis tests cannot pass unnoticed).
 */
export async function redisTestGate(
  what: string,
): Promise<{ readonly run: boolean; readonly mustFail?: string; readonly url: string }> {
  const probe = await probeRedis();
  if (probe.ok) return { run: true, url: probe.url };
  const message = `Redis tests (${what}) cannot run: no usable Redis at ${probe.url} (${probe.reason}). Start one (redis-server --port 6379 --save "" --appendonly no) or set REDIS_URL.`;
  if (process.env.CTI_REQUIRE_REDIS === '1') {
    return { run: false, url: probe.url, mustFail: `${message} CTI_REQUIRE_REDIS=1 forbids skipping them.` };
  }
  process.stderr.write(`\n!!!!! SKIPPED: ${message}\n\n`);
  return { run: false, url: probe.url };
}

/** The two outbox engines of the Redis store. */
export type OutboxEngine = 'lua' | 'bullmq';

/**
 * The outbox engines a test runs for: both, unless `CTI_TEST_OUTBOXES` names some (`lua`,
 * `bullmq`, comma-separated). CI runs both on its first Node and splits them over the other Nodes
 * to keep its time (see .ci/run).
 */
export function outboxEnginesUnderTest(env: NodeJS.ProcessEnv = process.env): OutboxEngine[] {
  const given = env.CTI_TEST_OUTBOXES?.trim();
  if (!given) return ['lua', 'bullmq'];
  const names = given.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => name !== 'lua' && name !== 'bullmq');
  if (unknown.length > 0) {
    throw new Error(
      `CTI_TEST_OUTBOXES: unknown outbox engine ${unknown.join(', ')} (use lua, bullmq or both, comma-separated)`,
    );
  }
  return [...new Set(names as OutboxEngine[])];
}

/** A fresh key prefix for one test (`cti-test:<random>`). */
export function randomPrefix(label = 'test'): string {
  return `cti-${label}:${randomBytes(6).toString('hex')}`;
}

/** Deletes every key under `prefix` (SCAN, never KEYS). */
export async function deletePrefix(url: string, prefix: string): Promise<number> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  await client.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return deleted;
}
