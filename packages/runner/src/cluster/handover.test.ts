import 'reflect-metadata';
import { memoryAdapter } from '@cti-bridge/core';
import { createScenario, startFakeOvhEventsServer, waitFor } from '@cti-bridge/core/testing';
import { connectRedis, redisKeys, TokenLeases, tokenId } from '@cti-bridge/store-redis';
import {
  deletePrefix,
  outboxEnginesUnderTest,
  randomPrefix,
  redisTestGate,
} from '@cti-bridge/store-redis/testing';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/schema.js';
import { createLogger } from '../ops/logger.js';
import { type Runner, startRunner } from '../runtime.js';

const gate = await redisTestGate('runner hand-over');
const TOKENS = ['HAND0000-0000-4000-8000-000000000001', 'HAND0000-0000-4000-8000-000000000002'].concat(
  ['3', '4'].map((n) => `HAND0000-0000-4000-8000-00000000000${n}`),
);

/** A runner of the cluster on `prefix`, its CRM `crm`, polling the fake OVH server at `ovhUrl`. */
async function startClusterRunner(options: {
  readonly name: string;
  readonly prefix: string;
  readonly outbox: 'lua' | 'bullmq';
  readonly ovhUrl: string;
  readonly crm: ReturnType<typeof memoryAdapter>;
}): Promise<Runner> {
  const config = parseConfig({
    store: {
      kind: 'redis',
      url: gate.url,
      prefix: options.prefix,
      runnerName: options.name,
      leaseMs: 3_000,
      renewMs: 500,
      outbox: options.outbox,
    },
    adapters: { crm: options.crm },
    tokens: Object.fromEntries(TOKENS.map((token) => [token, { adapters: ['crm'], lookup: [] }])),
    delivery: { baseDelayMs: 20, maxDelayMs: 100 },
    http: false,
    logging: { level: 'silent' },
    ovh: { baseUrl: options.ovhUrl, pollTimeoutMs: 5_000 },
  });
  return startRunner({ config, logger: createLogger({ level: 'silent' }), http: false });
}

/** One answered call per token (ringing 2 s, talking 30 s). */
const answeredCalls = () =>
  TOKENS.map((token, i) =>
    createScenario({ token, seed: i + 1 }).inboundAnswered({
      from: `061234567${i}`,
      to: '0972101010',
      ringSeconds: 2,
      talkSeconds: 30,
    }),
  );

if (gate.mustFail) {
  it('the hand-over test needs a reachable Redis', () => {
    throw new Error(gate.mustFail);
  });
}

describe.skipIf(!gate.run).each(outboxEnginesUnderTest())(
  'runners on Redis (outbox %s): a rebalance hands calls in flight over',
  (outbox) => {
    it('a runner joining takes half the tokens with their calls in flight; each call logged once, whole', async () => {
      const ovh = await startFakeOvhEventsServer({ holdMs: 200 });
      const prefix = randomPrefix('handover');
      const crms = [memoryAdapter({ name: 'crm' }), memoryAdapter({ name: 'crm' })];
      const runners: Runner[] = [];
      const start = async (name: string, crm: (typeof crms)[0]) => {
        const runner = await startClusterRunner({ name, prefix, outbox, ovhUrl: ovh.url, crm });
        runners.push(runner);
        return runner;
      };
      try {
        const a = await start('a', crms[0] as (typeof crms)[0]);
        await waitFor(() => a.cluster?.leases.held().size === 4, 'a to hold every token');
        // A call rings and is answered on every token: a tracks them.
        const scenarios = answeredCalls();
        for (const [i, s] of scenarios.entries()) ovh.push(TOKENS[i] as string, s.events().slice(0, -1));
        await waitFor(() => a.connector.stats().inFlight.calls === 4, 'a to track the 4 calls');

        const b = await start('b', crms[1] as (typeof crms)[0]);
        await waitFor(
          () => a.cluster?.leases.held().size === 2 && b.cluster?.leases.held().size === 2,
          'the tokens to be shared 2 / 2',
        );
        // a handed its 2 given-away calls over and forgot them; b adopted them.
        expect(a.connector.stats().inFlight.calls).toBe(2);
        await waitFor(() => b.connector.stats().inFlight.calls === 2, 'b to hold the 2 calls');

        // The calls end; each is ended by the runner polling its token, as a whole call, logged once.
        for (const [i, s] of scenarios.entries()) ovh.push(TOKENS[i] as string, s.events().slice(-1));
        const logged = () => crms.flatMap((crm) => crm.activities.filter((x) => x.type === 'call'));
        await waitFor(() => logged().length >= 4, '4 calls logged');
        const calls = logged();
        expect(calls).toHaveLength(4);
        expect(new Set(calls.map((c) => c.externalId)).size).toBe(4);
        expect(calls.map((c) => (c.record as { inferred?: boolean }).inferred)).toEqual([
          false,
          false,
          false,
          false,
        ]);
        expect(calls.every((c) => c.outcome === 'answered')).toBe(true);
        // Either runner may deliver any entry of the shared outbox: 4 writes in all.
        expect(crms[0]?.activities.length ?? 0).toBe(4 - (crms[1]?.activities.length ?? 0));
      } finally {
        for (const runner of runners.reverse()) await runner.stop(2_000);
        await ovh.close();
        await deletePrefix(gate.url, prefix);
      }
    }, 40_000);

    it('a runner that dies before saving the calls it adopted: the next one adopts them from the hand-over', async () => {
      const ovh = await startFakeOvhEventsServer({ holdMs: 200 });
      const prefix = randomPrefix('handover-ghost');
      const crm = memoryAdapter({ name: 'crm' });
      const redis = await connectRedis({ url: gate.url });
      const runners: Runner[] = [];
      const start = async (name: string) => {
        const runner = await startClusterRunner({ name, prefix, outbox, ovhUrl: ovh.url, crm });
        runners.push(runner);
        return runner;
      };
      try {
        const a = await start('a');
        await waitFor(() => a.cluster?.leases.held().size === 4, 'a to hold every token');
        const scenarios = answeredCalls();
        for (const [i, s] of scenarios.entries()) ovh.push(TOKENS[i] as string, s.events().slice(0, -1));
        await waitFor(() => a.connector.stats().inFlight.calls === 4, 'a to track the 4 calls');
        // a's snapshot holds the calls: its inbox has let their events go (they will not come again)
        await waitFor(
          async () => (await redis.keys(`${prefix}:inbox:*`)).length === 0,
          'a to release the kept answers',
        );
        // a stops: it hands its 4 calls over (one hand-over snapshot per token) and releases.
        await a.stop(2_000);
        runners.length = 0;
        // A runner "ghost" took the tokens, adopted the calls in memory and died before it saved
        // them: its leases expired, its snapshot does not exist.
        const keys = redisKeys(prefix);
        for (const token of TOKENS) {
          await redis.hset(keys.leases, tokenId(token), `ghost|${Date.now() - 1_000}|999999`);
        }
        const c = await start('c');
        await waitFor(() => c.cluster?.leases.held().size === 4, 'c to hold every token');
        await waitFor(() => c.connector.stats().inFlight.calls === 4, 'c to track the 4 calls');
        for (const [i, s] of scenarios.entries()) ovh.push(TOKENS[i] as string, s.events().slice(-1));
        const logged = () => crm.activities.filter((x) => x.type === 'call');
        await waitFor(() => logged().length >= 4, '4 calls logged');
        expect(logged()).toHaveLength(4);
        expect(logged().map((x) => (x.record as { inferred?: boolean }).inferred)).toEqual([
          false,
          false,
          false,
          false,
        ]);
        expect(logged().every((x) => x.outcome === 'answered')).toBe(true);
      } finally {
        for (const runner of runners.reverse()) await runner.stop(2_000);
        redis.disconnect();
        await ovh.close();
        await deletePrefix(gate.url, prefix);
      }
    }, 40_000);

    it('a runner dies holding calls, the one taking its tokens dies too before saving them, and the first restarts: the third adopts them from the copy the takeover made', async () => {
      const ovh = await startFakeOvhEventsServer({ holdMs: 200 });
      const prefix = randomPrefix('handover-chain');
      const crm = memoryAdapter({ name: 'crm' });
      const redis = await connectRedis({ url: gate.url });
      const keys = redisKeys(prefix);
      const runners: Runner[] = [];
      const start = async (name: string) => {
        const runner = await startClusterRunner({ name, prefix, outbox, ovhUrl: ovh.url, crm });
        runners.push(runner);
        return runner;
      };
      try {
        const a = await start('a');
        await waitFor(() => a.cluster?.leases.held().size === 4, 'a to hold every token');
        const scenarios = answeredCalls();
        for (const [i, s] of scenarios.entries()) ovh.push(TOKENS[i] as string, s.events().slice(0, -1));
        await waitFor(() => a.connector.stats().inFlight.calls === 4, 'a to track the 4 calls');
        await waitFor(
          async () => (await redis.keys(`${prefix}:inbox:*`)).length === 0,
          'a to release the kept answers (its snapshot has the calls)',
        );
        const snapshotOfA = (await redis.get(keys.snapshot('tracker:a'))) as string;
        expect(JSON.parse(snapshotOfA).calls).toHaveLength(4);
        const fences = a.cluster?.leases.held() as Map<string, number>;
        // a dies: no hand-over, its leases expire where they are, its snapshot is its last one
        await a.stop(2_000);
        runners.length = 0;
        for (const token of TOKENS) {
          await redis.del(keys.snapshot(`handover:${tokenId(token)}`));
          await redis.hset(keys.leases, tokenId(token), `a|${Date.now() - 1_000}|${fences.get(token)}`);
        }
        await redis.set(keys.snapshot('tracker:a'), snapshotOfA);
        // "ghost" takes the tokens over and dies before it adopted or saved anything
        const ghost = new TokenLeases({
          redis,
          keys,
          runner: 'ghost',
          tokens: TOKENS,
          leaseMs: 3_000,
          renewMs: 500,
        });
        await ghost.tick();
        const ghostFences = ghost.held();
        expect(ghostFences.size).toBe(4);
        for (const token of TOKENS) {
          await redis.hset(
            keys.leases,
            tokenId(token),
            `ghost|${Date.now() - 1_000}|${ghostFences.get(token)}`,
          );
        }
        await redis.zrem(keys.runners, 'ghost');
        // a restarts elsewhere and rewrites its snapshot without those calls
        await redis.set(keys.snapshot('tracker:a'), JSON.stringify({ v: 2, calls: [], sessions: [] }));

        const c = await start('c');
        await waitFor(() => c.cluster?.leases.held().size === 4, 'c to hold every token');
        await waitFor(() => c.connector.stats().inFlight.calls === 4, 'c to track the 4 calls');
        for (const [i, s] of scenarios.entries()) ovh.push(TOKENS[i] as string, s.events().slice(-1));
        const logged = () => crm.activities.filter((x) => x.type === 'call');
        await waitFor(() => logged().length >= 4, '4 calls logged');
        expect(logged()).toHaveLength(4);
        expect(logged().map((x) => (x.record as { inferred?: boolean }).inferred)).toEqual([
          false,
          false,
          false,
          false,
        ]);
        // the copies have served: c's own snapshot has the calls now
        expect(await redis.keys(`${prefix}:snap:handover-src:*`)).toEqual([]);
      } finally {
        for (const runner of runners.reverse()) await runner.stop(2_000);
        redis.disconnect();
        await ovh.close();
        await deletePrefix(gate.url, prefix);
      }
    }, 40_000);
  },
);
