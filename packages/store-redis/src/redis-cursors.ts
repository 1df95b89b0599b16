import type { CursorStore } from '@cti-bridge/core';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';

/** OVH event cursors in Redis: one string key per token (keyed by its non-secret id). */
export function createRedisCursors(client: Redis, keys: RedisKeys): CursorStore {
  return {
    async get(token) {
      return (await client.get(keys.cursor(token))) ?? undefined;
    },
    async set(token, session) {
      await client.set(keys.cursor(token), session);
    },
  };
}
