import type { Store } from '@cti-bridge/core';
import type { RedisStore } from '@cti-bridge/store-redis';
import type { StoreConfig } from '../config/schema.js';
import { EXIT, ExitError } from '../exit-codes.js';
import { registerSecret } from '../ops/secrets.js';

/** The Redis variant of the store config. */
export type RedisStoreConfig = Extract<StoreConfig, { kind: 'redis' }>;

type StoreRedisModule = typeof import('@cti-bridge/store-redis');

/**
 * Loads `@cti-bridge/store-redis` on demand, so that SQLite users need neither it nor ioredis.
 * Missing, it is one actionable line.
 */
export async function loadStoreRedis(): Promise<StoreRedisModule> {
  try {
    return await import('@cti-bridge/store-redis');
  } catch (error) {
    throw new ExitError(
      EXIT.RUNTIME,
      `store kind 'redis' needs the package @cti-bridge/store-redis: npm install @cti-bridge/store-redis (${(error as Error).message.split('\n')[0]})`,
    );
  }
}

/** Opens the Redis store of a config; an unreachable Redis is an {@link ExitError} (exit code 1). */
export async function openRedisStore(
  config: RedisStoreConfig,
  options: { readonly onError?: (error: Error) => void } = {},
): Promise<RedisStore> {
  const { createRedisStore } = await loadStoreRedis();
  // A password written in the URL (not read with env()) is still never printed.
  try {
    const password = new URL(config.url).password;
    if (password) registerSecret(decodeURIComponent(password));
  } catch {}
  try {
    return await createRedisStore({
      url: config.url,
      prefix: config.prefix,
      ...(config.claimMs === undefined ? {} : { claimMs: config.claimMs }),
      ...(config.outbox === undefined ? {} : { outbox: config.outbox }),
      ...(config.runnerName === undefined ? {} : { owner: config.runnerName }),
      ...(options.onError ? { onError: options.onError } : {}),
    });
  } catch (error) {
    throw new ExitError(EXIT.RUNTIME, (error as Error).message);
  }
}

/** True for a store opened by {@link openRedisStore}. */
export function isRedisStore(store: Store): store is RedisStore {
  return (store as Partial<RedisStore>).kind === 'redis';
}

/** What `cti-runner check` reports about a Redis store: reachable, version ≥ 6.2, the prefix. */
export async function checkRedisStore(config: RedisStoreConfig): Promise<{ ok: boolean; detail: string }> {
  const module = await loadStoreRedis();
  const store = await openRedisStore(config);
  try {
    const version = await module.redisServerVersion(store.redis);
    if (!module.versionAtLeast(version, module.MIN_REDIS_VERSION)) {
      return {
        ok: false,
        detail: `Redis ${version} is too old: cti-bridge needs ${module.MIN_REDIS_VERSION} or later`,
      };
    }
    const runners = await store.redis.zcount(store.keys.runners, Date.now(), '+inf');
    return {
      ok: true,
      detail: `Redis ${version}, prefix '${config.prefix}', outbox ${store.outboxEngine === 'bullmq' ? 'BullMQ' : 'Lua'}, ${runners} runner(s) live`,
    };
  } finally {
    await store.close();
  }
}
