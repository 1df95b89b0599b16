import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisKeys, tokenId } from './keys.js';
import { createFencedInbox } from './redis-inbox.js';
import { deletePrefix, randomPrefix, redisTestGate } from './testing/index.js';

const gate = await redisTestGate('fenced event inbox');
const TOKEN = 'FNC00000-0000-4000-8000-000000000001';

if (gate.mustFail) {
  describe('fenced event inbox', () => {
    it('needs a reachable Redis', () => {
      throw new Error(gate.mustFail);
    });
  });
} else {
  describe.skipIf(!gate.run)('fenced event inbox (real Redis): a token moving between runners', () => {
    const prefixes: string[] = [];
    const clients: Redis[] = [];
    afterAll(async () => {
      await Promise.all(clients.map((client) => client.quit()));
      for (const prefix of prefixes) await deletePrefix(gate.url, prefix);
    });

    /** Two runners' inboxes on a fresh prefix, and a way to give the token's lease to one of them. */
    const twoRunners = () => {
      const prefix = randomPrefix('inbox');
      prefixes.push(prefix);
      const keys = redisKeys(prefix);
      const redis = new Redis(gate.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
      clients.push(redis);
      // each runner's own clock, both at the same instant
      const clockFrom = (t: number) => () => t++;
      const a = createFencedInbox({ redis, keys, runner: 'a', now: clockFrom(1_000) });
      const b = createFencedInbox({ redis, keys, runner: 'b', now: clockFrom(1_000) });
      /** What the lease script writes: `owner|expiresAt|fence`. */
      const lease = (owner: string, fence: number) =>
        redis.hset(keys.leases, tokenId(TOKEN), `${owner}|${Date.now() + 60_000}|${fence}`);
      return { a, b, lease, redis, keys };
    };

    it('an answer received after the lease moved is kept for the new holder, who hands it out once', async () => {
      const { a, b, lease } = twoRunners();
      await lease('a', 1);
      a.hold(TOKEN, 1);
      const first = await a.keep(TOKEN, [{ Event: 'start_ringing' }]);
      expect(first, 'the holder keeps its own answer').toEqual(expect.any(Number));

      // a is too slow to renew: b takes the token over and reads what is kept
      await lease('b', 2);
      b.hold(TOKEN, 2);
      expect((await b.pending(TOKEN)).map((kept) => kept.events)).toEqual([[{ Event: 'start_ringing' }]]);

      // a's poll, still running, ends with an answer: not a's to apply any more
      expect(
        await a.keep(TOKEN, [{ Event: 'end_ringing' }]),
        'the old holder applied an answer after losing the token',
      ).toBeNull();
      expect(await a.late(TOKEN), 'a runner without the lease took the late answers').toEqual([]);
      const late = await b.late(TOKEN);
      expect(late.map((kept) => kept.events)).toEqual([[{ Event: 'end_ringing' }]]);
      expect(await b.late(TOKEN), 'a late answer was handed out twice').toEqual([]);
    });

    it('a runner that lost the token never releases what the new holder has yet to read', async () => {
      const { a, b, lease } = twoRunners();
      await lease('a', 1);
      a.hold(TOKEN, 1);
      const id = (await a.keep(TOKEN, [{ Event: 'start_ringing' }])) as number;
      a.handedOut(id);
      const release = a.checkpoint(); // a's snapshot is being saved…
      await lease('b', 2); // …while b takes the token over
      b.hold(TOKEN, 2);
      await release();
      expect(
        (await b.pending(TOKEN)).map((kept) => kept.id),
        'the old holder deleted an answer the new holder had not read',
      ).toEqual([id]);
      // the holder's own release goes through
      b.handedOut(id);
      await b.checkpoint()();
      await lease('a', 3);
      a.hold(TOKEN, 3);
      expect(await a.pending(TOKEN)).toEqual([]);
    });

    it('after forget, what the poll still receives waits for the next holder', async () => {
      const { a, b, lease } = twoRunners();
      await lease('a', 1);
      a.hold(TOKEN, 1);
      a.forget(TOKEN);
      expect(await a.keep(TOKEN, [{ Event: 'end_calling' }])).toBeNull();
      expect(a.size).toBe(0);
      await lease('b', 2);
      b.hold(TOKEN, 2);
      expect((await b.pending(TOKEN)).map((kept) => kept.events)).toEqual([[{ Event: 'end_calling' }]]);
      expect(await b.late(TOKEN), 'pending() already handed the late answer out').toEqual([]);
    });

    it('two runners keeping at the same microsecond get distinct ids', async () => {
      const { a, b, lease } = twoRunners();
      await lease('a', 1);
      a.hold(TOKEN, 1);
      // both clocks start at the same instant: the ids collide, the second keeper takes the next one
      const [x, y] = await Promise.all([
        a.keep(TOKEN, [{ Event: 'one' }]),
        b.keep(TOKEN, [{ Event: 'two' }]),
      ]);
      expect(x).not.toBeNull();
      expect(y).toBeNull(); // b does not hold the token
      await lease('b', 2);
      b.hold(TOKEN, 2);
      expect((await b.pending(TOKEN)).map((kept) => kept.events)).toEqual([
        [{ Event: 'one' }],
        [{ Event: 'two' }],
      ]);
    });
  });
}
