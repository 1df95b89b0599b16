import { describeStoreConformance } from '@cti-bridge/core/testing/vitest';
import { afterAll, describe, it } from 'vitest';
import { createRedisStore, type RedisStore } from './redis-store.js';
import { deletePrefix, randomPrefix, redisTestGate } from './testing/index.js';

const gate = await redisTestGate('store conformance (BullMQ outbox)');
const prefixes: string[] = [];

if (gate.mustFail) {
  describe('Store conformance: redis + bullmq', () => {
    it('needs a reachable Redis', () => {
      throw new Error(gate.mustFail);
    });
  });
} else if (gate.run) {
  afterAll(async () => {
    for (const prefix of prefixes) await deletePrefix(gate.url, prefix);
  });
  describeStoreConformance({
    name: 'redis + bullmq',
    create: async (): Promise<RedisStore> => {
      const prefix = randomPrefix('bullmq-conformance');
      prefixes.push(prefix);
      return createRedisStore({ url: gate.url, prefix, outbox: 'bullmq' });
    },
  });
} else {
  describe.skip(`Store conformance: redis + bullmq (no Redis at ${gate.url})`, () => {
    it('skipped', () => {});
  });
}
