import type { SnapshotStore } from '@cti-bridge/core';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';

/** Tracker snapshots in Redis: one string key each. */
export function createRedisSnapshots(client: Redis, keys: RedisKeys): SnapshotStore {
  return {
    async save(key, value) {
      await client.set(keys.snapshot(key), value);
    },
    async load(key) {
      return (await client.get(keys.snapshot(key))) ?? undefined;
    },
  };
}
