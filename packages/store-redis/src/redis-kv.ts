import type { KeyValueStore } from '@cti-bridge/core';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';

/** Key-value entries with a TTL are also given a Redis expiry this much later, as garbage collection. */
const KV_GRACE_MS = 60_000;

/**
 * Key-value state in Redis (adapter state, delivered keys): one hash per key, its logical expiry
 * following the caller's clock.
 */
export function createRedisKeyValue(client: Redis, keys: RedisKeys, clock: () => number): KeyValueStore {
  return {
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
}
