import type { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { connectRedis } from './connection.js';
import { redisKeys } from './keys.js';
import { TokenLeases, type TokenLeasesOptions } from './leases.js';
import { deletePrefix, randomPrefix, redisTestGate } from './testing/index.js';

const gate = await redisTestGate('token leases');
const T0 = 1_760_000_000_000;
const LEASE = 15_000;
const RENEW = 5_000;
const TOKENS = Array.from({ length: 10 }, (_, i) => `token-${i}-secret`);

if (gate.mustFail) {
  it('token leases need a reachable Redis', () => {
    throw new Error(gate.mustFail);
  });
}

describe.skipIf(!gate.run)('token leases (real Redis, injected clock)', () => {
  const prefixes: string[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  afterAll(async () => {
    for (const prefix of prefixes) await deletePrefix(gate.url, prefix);
  });

  /** A cluster on a fresh prefix; every runner shares the test's clock. */
  const cluster = () => {
    const prefix = randomPrefix('leases');
    prefixes.push(prefix);
    const clock = { t: T0 };
    const log: string[] = [];
    const clients = new Map<string, Redis>();
    const runner = async (name: string, extra: Partial<TokenLeasesOptions> = {}) => {
      const redis = await connectRedis({ url: gate.url });
      clients.set(name, redis);
      cleanups.push(async () => void redis.disconnect());
      return new TokenLeases({
        redis,
        keys: redisKeys(prefix),
        runner: name,
        tokens: TOKENS,
        leaseMs: LEASE,
        renewMs: RENEW,
        clock: () => clock.t,
        onAcquire: (token, fence, previous) => {
          log.push(
            `${name} +${token} #${fence}${previous ? ` from ${previous.runner}${previous.released ? ' (handed over)' : ' (expired)'}` : ''}`,
          );
        },
        onRelease: (token, reason) => {
          log.push(`${name} -${token} ${reason}`);
        },
        onHandOver: async (tokens) => {
          log.push(`${name} hands over ${tokens.length}`);
        },
        ...extra,
      });
    };
    return { clock, log, runner, clients };
  };

  /** No token held by two runners, and every token held by someone. */
  const expectPartition = (runners: TokenLeases[], all = true) => {
    const owners = new Map<string, string>();
    for (const r of runners) {
      for (const token of r.held().keys()) {
        expect(owners.get(token), `${token} held twice`).toBeUndefined();
        owners.set(token, r.runner);
      }
    }
    if (all) expect(owners.size).toBe(TOKENS.length);
  };

  it('a lone runner takes every token, each with its own fencing number', async () => {
    const { runner } = cluster();
    const a = await runner('a');
    await a.tick();
    expect(a.held().size).toBe(10);
    expect(new Set(a.held().values()).size).toBe(10);
    const view = await a.view();
    expect(view.leases).toEqual({ held: 10, free: 0 });
    expect(view.runners.map((r) => [r.name, r.tokens])).toEqual([['a', 10]]);
  });

  it('a second and third runner joining get an even share, never a token held twice', async () => {
    const { clock, runner } = cluster();
    const a = await runner('a');
    const b = await runner('b');
    const c = await runner('c');
    await a.tick();
    for (let round = 0; round < 3; round++) {
      clock.t += RENEW;
      for (const r of [b, a, c]) {
        await r.tick();
        expectPartition([a, b, c], false);
      }
    }
    expectPartition([a, b, c]);
    expect([a, b, c].map((r) => r.held().size).sort()).toEqual([3, 3, 4]);
  });

  it('when a runner dies its tokens are taken over after the lease time, with larger fences', async () => {
    const { clock, log, runner } = cluster();
    const a = await runner('a');
    const b = await runner('b');
    await a.tick();
    await b.tick();
    clock.t += RENEW;
    await a.tick();
    await b.tick();
    expectPartition([a, b]);
    const lost = new Map(a.held());
    // a dies: it ticks no more. b keeps ticking every RENEW.
    let takenAt: number | undefined;
    for (let t = RENEW; t <= LEASE + 2 * RENEW; t += RENEW) {
      clock.t += RENEW;
      await b.tick();
      if (takenAt === undefined && b.held().size === 10) takenAt = t;
    }
    expect(takenAt).toBeDefined();
    expect(takenAt).toBeLessThanOrEqual(LEASE + RENEW);
    for (const [token, fence] of lost) expect(b.held().get(token)).toBeGreaterThan(fence);
    for (const token of lost.keys())
      expect(log).toContainEqual(expect.stringMatching(`^b \\+${token} #\\d+ from a \\(expired\\)$`));
    // a comes back (a long pause, not a death): its renewals are refused, it stops polling.
    await a.tick();
    expect(a.held().size).toBe(0);
    expect(log.filter((line) => line.startsWith('a -') && line.endsWith(' lost'))).toHaveLength(lost.size);
    // and its stale fence can no longer move a cursor.
    const [token, fence] = [...lost][0] as [string, number];
    expect(await a.fencedCursorSet(token, fence, 'stale-session')).toBe(false);
    expect(await b.fencedCursorSet(token, b.held().get(token) as number, 'fresh-session')).toBe(true);
  });

  it('a long hand-over does not hold the renewals up: its tokens stay leased until it ends', async () => {
    const { clock, log, runner } = cluster();
    let endHandOver: () => void = () => {};
    const handOver = new Promise<void>((resolve) => {
      endHandOver = resolve;
    });
    // a's hand-over waits (as it does for a poll in flight to end) until the test lets it go
    const a = await runner('a', { onHandOver: () => handOver });
    const b = await runner('b');
    await a.tick();
    await b.tick();
    clock.t += RENEW;
    await a.tick(); // a sees b: it starts handing 5 tokens over, and the tick returns
    for (let t = 0; t <= LEASE; t += RENEW) {
      clock.t += RENEW;
      await a.tick();
      await b.tick();
    }
    // well past the lease time: every token still renewed by a, none taken by b meanwhile
    expect(a.held().size).toBe(10);
    expect(b.held().size).toBe(0);
    expect(log.filter((line) => line.endsWith(' lost') || line.endsWith(' expired'))).toEqual([]);
    endHandOver();
    await a.handOversDone();
    expect(a.held().size).toBe(5);
    clock.t += RENEW;
    await b.tick();
    expectPartition([a, b]);
    expect(log.filter((line) => line.startsWith('b +') && line.endsWith('(handed over)'))).toHaveLength(5);
  });

  it('stop() gives the tokens back: the other runner takes them on its next tick', async () => {
    const { clock, log, runner } = cluster();
    const a = await runner('a');
    const b = await runner('b');
    await a.tick();
    await b.tick();
    clock.t += RENEW;
    await a.tick();
    await b.tick();
    const fences = a.held();
    const given = [...fences.keys()];
    await a.stop();
    expect(a.held().size).toBe(0);
    expect(log).toContain(`a hands over ${given.length}`);
    clock.t += 1;
    await b.tick();
    expect(b.held().size).toBe(10);
    for (const token of given)
      expect(log).toContainEqual(expect.stringMatching(`^b \\+${token} #\\d+ from a \\(handed over\\)$`));
    // A released lease is not a license to write: a's fence no longer moves the cursor.
    const [first] = given as [string];
    expect(await a.fencedCursorSet(first, fences.get(first) as number, 'stale')).toBe(false);
    expect((await b.view()).runners.map((r) => r.name)).toEqual(['b']);
  });

  it('with Redis unreachable a runner keeps polling only until its leases surely expired', async () => {
    const { clock, log, runner, clients } = cluster();
    const errors: unknown[] = [];
    const a = await runner('a', { onError: (error) => errors.push(error) });
    await a.tick();
    expect(a.held().size).toBe(10);
    clients.get('a')?.disconnect();
    clock.t += LEASE - 1;
    await a.tick();
    expect(errors.length).toBe(1);
    expect(a.held().size).toBe(10);
    clock.t += 1;
    await a.tick();
    expect(a.held().size).toBe(0);
    expect(log.filter((line) => line.endsWith(' expired'))).toHaveLength(10);
  });
});
