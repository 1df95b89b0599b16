/**
 * @cti-bridge/store-redis — core's Store in Redis, for several runners sharing one outbox, cursors
 * and tracker snapshots, with token leases that give each OVH token to exactly one runner.
 *
 * @packageDocumentation
 */
export {
  type BullmqOutbox,
  type BullmqOutboxOptions,
  createBullmqOutbox,
  jobIdOf,
  queueNameOf,
} from './bullmq-outbox.js';
export {
  type ConnectOptions,
  connectRedis,
  MIN_REDIS_VERSION,
  maskRedisUrl,
  redisServerVersion,
  versionAtLeast,
} from './connection.js';
export { type RedisKeys, redisKeys, tokenId } from './keys.js';
export {
  type ClusterRunner,
  type ClusterView,
  TokenLeases,
  type TokenLeasesOptions,
} from './leases.js';
export { createFencedInbox, type FencedInbox, type FencedInboxOptions } from './redis-inbox.js';
export { createRedisStore, type RedisStore, type RedisStoreOptions } from './redis-store.js';
