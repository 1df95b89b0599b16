import type { Redis } from 'ioredis';
import { type RedisKeys, tokenId } from './keys.js';
import { FENCED_SET, LEASES } from './lease-scripts.js';

/** Options of {@link TokenLeases}. */
export interface TokenLeasesOptions {
  readonly redis: Redis;
  readonly keys: RedisKeys;
  /** This runner's unique name in the cluster (no `|`). */
  readonly runner: string;
  /** Every token of the config; each is polled by exactly one live runner. */
  readonly tokens: readonly string[];
  /** A lease lasts this long without renewal (default 15 s): the worst-case takeover time. */
  readonly leaseMs?: number;
  /** Leases are renewed, and tokens balanced, this often (default 5 s). */
  readonly renewMs?: number;
  /** Wall clock in epoch ms (default `Date.now`). Tests inject one and call {@link TokenLeases.tick}. */
  readonly clock?: () => number;
  /**
   * This runner now holds `token` with fencing number `fence`: start polling it. `previous` names
   * the runner that held it last, and whether it handed it over (released) or stopped renewing
   * (died). Awaited: adopt the token's calls in flight before polling it.
   */
  readonly onAcquire?: (
    token: string,
    fence: number,
    previous?: { readonly runner: string; readonly released: boolean },
  ) => void | Promise<void>;
  /**
   * This runner is about to give `tokens` back (`rebalance` or `stop`): stop polling them and hand
   * their calls in flight over. Awaited before the leases are released. On a rebalance it runs
   * beside the ticks: the leases (these tokens' too) are renewed meanwhile, however long it takes.
   */
  readonly onHandOver?: (tokens: readonly string[], reason: 'rebalance' | 'stop') => Promise<void>;
  /** This runner no longer holds `token`: stop polling it now. */
  readonly onRelease?: (token: string, reason: 'lost' | 'rebalanced' | 'expired' | 'stopped') => void;
  /** A tick failed (Redis unreachable); leases are kept locally until they expire. */
  readonly onError?: (error: unknown) => void;
  /** Details of this runner shown in the cluster view (e.g. its HTTP URL). */
  readonly info?: Readonly<Record<string, string | number>>;
}

/** One runner in the cluster view. */
export interface ClusterRunner {
  readonly name: string;
  /** Heartbeat expiry (epoch ms). */
  readonly aliveUntil: number;
  readonly tokens: number;
  readonly info: Readonly<Record<string, unknown>>;
}

/** What every runner sees of the cluster. */
export interface ClusterView {
  readonly runners: readonly ClusterRunner[];
  /** Leases of this config's tokens: held by a live runner, and not held. */
  readonly leases: { readonly held: number; readonly free: number };
  /** Which runner holds each token (tokens without a live lease are absent). */
  readonly holders: ReadonlyMap<string, string>;
}

interface Held {
  readonly fence: number;
  /** Local time before the last successful acquire or renew: the lease is surely ours until + leaseMs. */
  validFrom: number;
}

const DEFAULT_LEASE_MS = 15_000;
const DEFAULT_RENEW_MS = 5_000;

/** A stable per-runner order of tokens, so that runners do not all race for the same free ones. */
function spread(runner: string, id: string): number {
  let h = 2166136261;
  for (const c of `${runner}\u0000${id}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

/**
 * Token leases over Redis: every OVH token is polled by exactly one live runner. Each tick (every
 * `renewMs`) the runner beats its heartbeat, renews the leases it holds, gives back those above its
 * fair share (tokens / live runners, rounded down or up by rank so that shares differ by one at most) and takes free or expired ones up to it. A runner that
 * dies stops renewing: its leases expire after `leaseMs` and the other runners take its tokens on
 * their next tick, so the takeover takes at most `leaseMs + renewMs`. Every acquisition gets a
 * fencing number larger than any before it for that token; {@link TokenLeases.fencedCursorSet}
 * uses it so a runner that lost a token can never write its cursor.
 *
 * When Redis cannot be reached, a runner keeps each lease only until `leaseMs` after its last
 * successful renewal (by its own clock, measured before the request), then stops polling it: at
 * that point another runner may have taken it.
 */
export class TokenLeases {
  readonly #o: TokenLeasesOptions;
  readonly #leaseMs: number;
  readonly #renewMs: number;
  readonly #clock: () => number;
  readonly #byId: Map<string, string>;
  readonly #held = new Map<string, Held>();
  /** Tokens being handed over (still held and renewed until released), and the hand-overs running. */
  readonly #leaving = new Set<string>();
  readonly #handOvers = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #stopped = false;
  #lastTickAt: number | undefined;
  #lastError: string | undefined;

  constructor(options: TokenLeasesOptions) {
    if (options.runner.includes('|')) throw new Error(`runner name must not contain '|': ${options.runner}`);
    this.#o = options;
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.#renewMs = options.renewMs ?? DEFAULT_RENEW_MS;
    if (this.#renewMs * 2 > this.#leaseMs) {
      throw new Error(
        `leases: renewMs (${this.#renewMs}) must be at most half of leaseMs (${this.#leaseMs})`,
      );
    }
    this.#clock = options.clock ?? Date.now;
    this.#byId = new Map([...new Set(options.tokens)].map((token) => [tokenId(token), token]));
    for (const name of ['ctiLeases', 'ctiFencedSet'] as const) {
      if (!(name in options.redis)) {
        options.redis.defineCommand(name, {
          numberOfKeys: 0,
          lua: name === 'ctiLeases' ? LEASES : FENCED_SET,
        });
      }
    }
  }

  get runner(): string {
    return this.#o.runner;
  }

  /** Tokens held now, with their fencing numbers. */
  held(): Map<string, number> {
    return new Map([...this.#held].map(([id, held]) => [this.#byId.get(id) as string, held.fence]));
  }

  /** When the last tick succeeded, and the last error since (for readiness). */
  status(): { readonly lastTickAt?: number; readonly lastError?: string } {
    return {
      ...(this.#lastTickAt === undefined ? {} : { lastTickAt: this.#lastTickAt }),
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
    };
  }

  /** Ticks now and then every `renewMs` until {@link stop}. */
  start(): Promise<void> {
    const first = this.tick();
    const loop = () => {
      if (this.#stopped) return;
      this.#timer = setTimeout(() => {
        void this.tick().finally(loop);
      }, this.#renewMs);
      this.#timer.unref?.();
    };
    void first.finally(loop);
    return first;
  }

  /** One round: heartbeat, renew, rebalance, acquire. Never throws (errors go to `onError`). */
  tick(): Promise<void> {
    this.#ticking ??= this.#tick().finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    const started = this.#clock();
    try {
      const share = await this.#beat(started);
      await this.#renew(started);
      this.#giveBackExcess(share);
      await this.#acquireUpTo(share, started);
      this.#lastTickAt = started;
      this.#lastError = undefined;
    } catch (error) {
      this.#lastError = error instanceof Error ? error.message : String(error);
      // Redis unreachable: keep polling only while our leases surely last.
      const now = this.#clock();
      for (const [id, held] of [...this.#held]) {
        if (now >= held.validFrom + this.#leaseMs) this.#drop(id, 'expired');
      }
      this.#o.onError?.(error);
    }
  }

  /** Beats this runner's heartbeat, drops dead runners, and returns this runner's fair share. */
  async #beat(started: number): Promise<number> {
    const { redis, keys, runner } = this.#o;
    const aliveUntil = started + this.#leaseMs;
    const beat = await redis
      .multi()
      .zadd(keys.runners, aliveUntil, runner)
      .hset(
        keys.runnerInfo,
        runner,
        JSON.stringify({ ...this.#o.info, tokens: this.#held.size, beatAt: started }),
      )
      .zremrangebyscore(keys.runners, '-inf', started - this.#leaseMs)
      .zrangebyscore(keys.runners, started, '+inf')
      .exec();
    const live = ((beat?.[3]?.[1] as string[] | undefined) ?? [runner]).sort();
    const rank = Math.max(0, live.indexOf(runner));
    // Shares differ by one at most: the first (tokens mod runners) runners by name take one more.
    return Math.floor(this.#byId.size / live.length) + (rank < this.#byId.size % live.length ? 1 : 0);
  }

  /** Renews what we hold; anything refused was taken over. */
  async #renew(started: number): Promise<void> {
    const renewIds = [...this.#held.keys()];
    const renewed = await this.#run(
      started,
      renewIds.map((id) => ['r', id, (this.#held.get(id) as Held).fence] as const),
    );
    renewIds.forEach((id, i) => {
      if (renewed[i]) (this.#held.get(id) as Held).validFrom = started;
      else this.#drop(id, 'lost');
    });
  }

  /**
   * Above the fair share (a runner joined): gives back the excess, highest spread first. The
   * hand-over runs beside the ticks (it may wait for a poll to end): renewals go on meanwhile.
   */
  #giveBackExcess(share: number): void {
    const { runner } = this.#o;
    const excess = this.#held.size - this.#leaving.size - share;
    if (excess > 0) {
      const give = [...this.#held.keys()]
        .filter((id) => !this.#leaving.has(id))
        .sort((a, b) => spread(runner, b) - spread(runner, a))
        .slice(0, excess);
      this.#startHandOver(give);
    }
  }

  /** Below the fair share: takes free or expired tokens, in this runner's own order. */
  async #acquireUpTo(share: number, started: number): Promise<void> {
    const { redis, keys, runner } = this.#o;
    const want = share - this.#held.size;
    if (want > 0) {
      const leases = await redis.hgetall(keys.leases);
      const candidates = [...this.#byId.keys()]
        .filter((id) => !this.#held.has(id) && this.#isFree(leases[id], started))
        .sort((a, b) => spread(runner, a) - spread(runner, b))
        .slice(0, want);
      const fences = await this.#run(
        started,
        candidates.map((id) => ['a', id, 0] as const),
      );
      for (const [i, id] of candidates.entries()) {
        const fence = fences[i];
        if (!fence) continue;
        this.#held.set(id, { fence, validFrom: started });
        const before = leases[id];
        const previous =
          before === undefined
            ? undefined
            : { runner: before.slice(0, before.indexOf('|')), released: before.split('|').at(-2) === '0' };
        await this.#o.onAcquire?.(this.#byId.get(id) as string, fence, previous);
      }
    }
  }

  /** Starts handing `ids` over (then releasing their leases) beside the ticks. */
  #startHandOver(ids: readonly string[]): void {
    for (const id of ids) this.#leaving.add(id);
    const running: Promise<void> = this.#handOver(ids).finally(() => this.#handOvers.delete(running));
    this.#handOvers.add(running);
  }

  async #handOver(ids: readonly string[]): Promise<void> {
    try {
      await this.#o.onHandOver?.(
        ids.map((id) => this.#byId.get(id) as string),
        'rebalance',
      );
      // a token lost meanwhile (its renewal refused) is no longer ours to release
      const still = ids.filter((id) => this.#held.has(id));
      await this.#run(
        this.#clock(),
        still.map((id) => ['x', id, (this.#held.get(id) as Held).fence] as const),
      );
    } catch (error) {
      this.#o.onError?.(error);
    } finally {
      // Given away even if Redis failed half-way: not polled here any more, the lease expires.
      for (const id of ids) {
        this.#leaving.delete(id);
        this.#drop(id, 'rebalanced');
      }
    }
  }

  /** Resolves once the hand-overs running now have ended (tests; stop). */
  async handOversDone(): Promise<void> {
    while (this.#handOvers.size > 0) await Promise.all([...this.#handOvers]);
  }

  #isFree(lease: string | undefined, now: number): boolean {
    if (lease === undefined) return true;
    const expires = Number(lease.split('|').at(-2));
    return !(expires > now);
  }

  async #run(now: number, ops: readonly (readonly ['a' | 'r' | 'x', string, number])[]): Promise<number[]> {
    if (ops.length === 0) return [];
    const args = ops.flatMap(([op, id, fence]) => [op, id, String(fence)]);
    const client = this.#o.redis as Redis & { ctiLeases: (...a: (string | number)[]) => Promise<number[]> };
    return client.ctiLeases(this.#o.keys.prefix, this.#o.runner, now, this.#leaseMs, ...args);
  }

  #drop(id: string, reason: 'lost' | 'rebalanced' | 'expired' | 'stopped'): void {
    if (!this.#held.delete(id)) return;
    this.#o.onRelease?.(this.#byId.get(id) as string, reason);
  }

  /**
   * Writes `token`'s stream cursor only while this runner holds its lease with `fence`. Returns
   * false (nothing written) when the token was taken over.
   */
  async fencedCursorSet(token: string, fence: number, session: string): Promise<boolean> {
    const client = this.#o.redis as Redis & { ctiFencedSet: (...a: (string | number)[]) => Promise<number> };
    const { keys } = this.#o;
    return (
      (await client.ctiFencedSet(
        keys.prefix,
        this.#o.runner,
        tokenId(token),
        fence,
        keys.cursor(token),
        session,
      )) === 1
    );
  }

  /** The runners alive now and the leases of this config's tokens. */
  async view(): Promise<ClusterView> {
    const { redis, keys } = this.#o;
    const now = this.#clock();
    const [alive, infos, leases] = await Promise.all([
      redis.zrangebyscore(keys.runners, now, '+inf', 'WITHSCORES'),
      redis.hgetall(keys.runnerInfo),
      redis.hgetall(keys.leases),
    ]);
    const counts = new Map<string, number>();
    const holders = new Map<string, string>();
    for (const [id, token] of this.#byId) {
      const lease = leases[id];
      if (lease === undefined || this.#isFree(lease, now)) continue;
      const owner = lease.slice(0, lease.indexOf('|'));
      holders.set(token, owner);
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    const held = holders.size;
    const runners: ClusterRunner[] = [];
    for (let i = 0; i + 1 < alive.length; i += 2) {
      const name = alive[i] as string;
      let info: Record<string, unknown> = {};
      try {
        info = JSON.parse(infos[name] ?? '{}') as Record<string, unknown>;
      } catch {}
      runners.push({ name, aliveUntil: Number(alive[i + 1]), tokens: counts.get(name) ?? 0, info });
    }
    return { runners, leases: { held, free: this.#byId.size - held }, holders };
  }

  /** Stops ticking, gives every lease back (others take them at once) and leaves the cluster. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#ticking;
    await this.handOversDone();
    const { redis, keys, runner } = this.#o;
    const ids = [...this.#held.keys()];
    try {
      await this.#o.onHandOver?.(
        ids.map((id) => this.#byId.get(id) as string),
        'stop',
      );
      await this.#run(
        this.#clock(),
        ids.map((id) => ['x', id, (this.#held.get(id) as Held).fence] as const),
      );
      await redis.multi().zrem(keys.runners, runner).hdel(keys.runnerInfo, runner).exec();
    } catch (error) {
      this.#o.onError?.(error);
    }
    for (const id of ids) this.#drop(id, 'stopped');
  }
}
