import { hostname } from 'node:os';
import { DEFAULT_POLL_TIMEOUT_MS, type EventStreamOptions } from '@cti-bridge/core';
import type { ClusterView, FencedInbox, RedisStore, TokenLeases } from '@cti-bridge/store-redis';
import { EXIT, ExitError } from '../exit-codes.js';
import type { RunnerLogger } from '../ops/logger.js';
import { maskToken } from '../ops/secrets.js';
import type { RedisStoreConfig } from '../store/open-redis.js';
import { createLeasedEventStream, type LeasedEventStream } from './leased-stream.js';

/** This runner's name in a Redis cluster: `store.runnerName`, else `CTI_RUNNER_NAME`, else the host name. */
export function runnerNameOf(config: RedisStoreConfig, env: NodeJS.ProcessEnv = process.env): string {
  return config.runnerName ?? (env.CTI_RUNNER_NAME || undefined) ?? hostname();
}

/** Options of {@link createLeasedPolling}. */
export interface LeasedPollingOptions {
  readonly store: RedisStore;
  readonly config: RedisStoreConfig;
  readonly tokens: readonly string[];
  readonly logger: RunnerLogger;
  /** Options of each token's OVH stream. */
  readonly stream: Omit<EventStreamOptions, 'tokens' | 'cursors' | 'inbox'>;
  /**
   * Keep received answers in Redis until a snapshot has them (default true): a token's answers
   * left by a runner that died or gave the token up are handed out again by its next holder, and
   * an answer received after the lease went to another runner is kept for that runner.
   */
  readonly keepAnswers?: boolean;
  /** Shown to the other runners in the cluster view (e.g. the ops URL). */
  readonly info?: Readonly<Record<string, string | number>>;
  /** How long to wait for a dead runner of the same name to leave the cluster (default the lease time). */
  readonly nameWaitMs?: number;
}

/** What the cluster needs of the connector to move calls in flight between runners (core's Connector). */
export interface CallHandOver {
  adopt(
    snapshotKey: string | readonly string[],
    tokens: readonly string[],
    options?: { readonly carryTo?: string },
  ): Promise<number>;
  handOver(
    tokens: readonly string[],
    snapshotKeyOf: (token: string) => string,
    options?: { readonly save?: boolean },
  ): Promise<void>;
}

/** A runner's part of the cluster: its leases and the stream of the tokens it holds. */
export interface LeasedPolling {
  readonly name: string;
  /** Store key of this runner's periodic tracker snapshot (`tracker:<name>`). */
  readonly snapshotKey: string;
  readonly stream: LeasedEventStream;
  readonly leases: TokenLeases;
  /** The fenced inbox of the stream (give it to the connector: it releases after snapshots). */
  readonly inbox: FencedInbox | undefined;
  /** Takes leases and starts polling; `calls` moves calls in flight with the tokens. */
  start(calls: CallHandOver): Promise<void>;
  /** The cluster as Redis sees it (runners, leases). */
  view(): Promise<ClusterView>;
  /** Stops polling, hands the calls in flight over, then gives the leases back. */
  stop(): Promise<void>;
}

/** How long a stopping runner lets its polls in flight end before it aborts them. */
const STOP_FINISH_MS = 2_000;
/** How long a runner that lost a lease waits for the poll in flight, whose answer goes to the new holder. */
const LOST_FINISH_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Prepares this runner's part of the cluster of runners sharing a Redis store: waits until no
 * live runner has this runner's name (a restart after a crash waits for the old heartbeat to
 * expire; a second runner with the same name is refused). {@link LeasedPolling.start} then takes
 * token leases and polls only the tokens it holds, each resuming from the shared cursor (which only
 * the lease holder may move: fenced writes) and with the calls in flight of its previous holder:
 * handed over on a rebalance or a stop, from its last periodic snapshot when it died.
 */
export async function createLeasedPolling(options: LeasedPollingOptions): Promise<LeasedPolling> {
  const { store, config, logger } = options;
  const { TokenLeases, createFencedInbox, tokenId } = await import('@cti-bridge/store-redis');
  const name = runnerNameOf(config);
  const leaseMs = config.leaseMs ?? 15_000;
  const deadline = Date.now() + (options.nameWaitMs ?? leaseMs);
  for (;;) {
    const alive = await store.redis.zscore(store.keys.runners, name);
    if (alive === null || Number(alive) <= Date.now()) break;
    if (Date.now() >= deadline) {
      throw new ExitError(
        EXIT.RUNTIME,
        `another runner named '${name}' is alive in this Redis cluster (prefix '${config.prefix}'): give each runner its own name (store.runnerName or CTI_RUNNER_NAME)`,
      );
    }
    logger.info(
      { runner: name },
      'a runner of this name was alive moments ago: waiting for its heartbeat to expire',
    );
    await sleep(Math.min(1_000, Math.max(50, Number(alive) - Date.now())));
  }

  const log = logger.child({ component: 'cluster', runner: name });
  const pollTimeoutMs = options.stream.pollTimeoutMs ?? DEFAULT_POLL_TIMEOUT_MS;
  const handOverKey = (token: string) => `handover:${tokenId(token)}`;
  /** Where the lease script copies a dead holder's snapshot (see store-redis' lease scripts). */
  const copiedKey = (token: string) => `handover-src:${tokenId(token)}`;
  let calls: CallHandOver | undefined;
  let leases: TokenLeases | undefined;
  const inbox =
    options.keepAnswers === false
      ? undefined
      : createFencedInbox({ redis: store.redis, keys: store.keys, runner: name });
  const stream = createLeasedEventStream({
    stream: inbox ? { ...options.stream, inbox } : options.stream,
    cursors: (token, fence) => ({
      get: (t) => store.cursors.get(t),
      set: async (t, session) => {
        if (!(await (leases as TokenLeases).fencedCursorSet(t, fence, session))) {
          log.warn(
            { token: maskToken(token) },
            'cursor not saved: the token was taken over by another runner',
          );
        }
      },
    }),
  });
  const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
  leases = new TokenLeases({
    redis: store.redis,
    keys: store.keys,
    runner: name,
    tokens: options.tokens,
    leaseMs,
    ...(config.renewMs === undefined ? {} : { renewMs: config.renewMs }),
    ...(options.info ? { info: options.info } : {}),
    onAcquire: async (token, fence, previous) => {
      let adopted = 0;
      if (previous !== undefined && calls !== undefined) {
        // Handed over: the hand-over snapshot. Died: its last snapshot, then the hand-over it was
        // given (it may have died before it saved the calls it adopted; it clears the hand-over
        // once saved). The calls are carried into the hand-over at once: were this runner to die
        // before its own snapshot is saved, the next one finds them there.
        // The lease script copied the snapshot of a runner that died holding the token (kept until
        // a takeover settles): the calls survive a chain of deaths and the dead runner's restart.
        const handOver = handOverKey(token);
        const copied = copiedKey(token);
        const keys = previous.released
          ? [handOver, copied]
          : [`tracker:${previous.runner}`, handOver, copied];
        const count = await calls
          .adopt(keys, [token], previous.released ? {} : { carryTo: handOver })
          .catch((error: unknown) => {
            log.warn(
              { token: maskToken(token), err: errorText(error) },
              'could not adopt the calls in flight',
            );
            return undefined;
          });
        adopted = count ?? 0;
        // adopt() saved this runner's snapshot with them: the hand-over and the copy have served
        if (count !== undefined) {
          await store.snapshots.save(handOver, '').catch(() => {});
          await store.redis.del(store.keys.snapshot(copied)).catch(() => {});
        }
      }
      log.info(
        { token: maskToken(token), fence, ...(previous ? { from: previous.runner, adopted } : {}) },
        'token lease acquired: polling it',
      );
      inbox?.hold(token, fence);
      stream.add(token, fence);
    },
    onHandOver: async (tokens) => {
      // The poll in flight ends (OVH keeps no answer: one cut as it is sent is lost), and the
      // events read reach the tracker, before the calls are handed over. A rebalance can wait for
      // the poll (the leases are renewed meanwhile). (A stopping runner has finished its polls
      // already: see stop().)
      await Promise.all(
        tokens.map((token) => stream.remove(token, { drainMs: 5_000, finishMs: pollTimeoutMs })),
      );
      await calls?.handOver(tokens, handOverKey);
      // answers of these tokens not yet released are the next holder's to hand out again
      for (const token of tokens) inbox?.forget(token);
      log.info({ tokens: tokens.length }, 'tokens handed over with their calls in flight');
    },
    onRelease: (token, reason) => {
      log[reason === 'lost' || reason === 'expired' ? 'warn' : 'info'](
        { token: maskToken(token), reason },
        'token lease released: not polling it any more',
      );
      if (reason !== 'lost' && reason !== 'expired') {
        // handed over already (onHandOver); should that have failed half-way, stop polling now
        void stream.remove(token).then(() => inbox?.forget(token));
        return;
      }
      // Lost: another runner may hold the token now. From here on what this runner's poll still
      // receives is kept for that runner (the fenced inbox), not applied here, and the poll in
      // flight may end so that its answer is not lost (OVH v1 sends nothing twice).
      inbox?.forget(token);
      void stream
        .remove(token, { finishMs: LOST_FINISH_MS })
        .then(() => calls?.handOver([token], handOverKey, { save: false }));
    },
    onError: (error) => log.warn({ err: errorText(error) }, 'token leases: Redis unreachable'),
  });
  const held = leases;
  return {
    name,
    snapshotKey: `tracker:${name}`,
    stream,
    leases: held,
    inbox,
    async start(handOver) {
      calls = handOver;
      await held.start();
      // Calls restored from this runner's own snapshot whose tokens another runner holds now are
      // theirs. A token this runner died holding that nobody has taken yet: its calls go where a
      // takeover looks (the copy the lease script would have made), as this runner's snapshot is
      // about to be rewritten without them.
      const mine = held.held();
      const others = options.tokens.filter((token) => !mine.has(token));
      if (others.length === 0) return;
      const leases = await store.redis.hgetall(store.keys.leases);
      const untaken = others.filter((token) => {
        const lease = leases[tokenId(token)];
        return lease?.startsWith(`${name}|`) === true && lease.split('|').at(-2) !== '0';
      });
      const tempKey = (token: string) => `handover-tmp:${name}:${tokenId(token)}`;
      if (untaken.length > 0) {
        await handOver.handOver(untaken, tempKey);
        for (const token of untaken) {
          const temp = store.keys.snapshot(tempKey(token));
          // not over a copy already there (a takeover that happened meanwhile copied the same calls)
          await store.redis.renamenx(temp, store.keys.snapshot(copiedKey(token))).catch(() => 0);
          await store.redis.del(temp);
        }
      }
      const taken = others.filter((token) => !untaken.includes(token));
      if (taken.length > 0) await handOver.handOver(taken, handOverKey, { save: false });
    },
    view: () => held.view(),
    async stop() {
      // the polls in flight end (a little while at most), their answers reach the tracker
      await stream.finish(STOP_FINISH_MS);
      await held.stop();
    },
  };
}
