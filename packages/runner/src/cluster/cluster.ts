import { hostname } from 'node:os';
import { DEFAULT_POLL_TIMEOUT_MS, type EventStreamOptions } from '@cti-bridge/core';
import type {
  ClusterView,
  FencedInbox,
  RedisStore,
  TokenLeases,
  TokenLeasesOptions,
} from '@cti-bridge/store-redis';
import type { RunnerLogger } from '../ops/logger.js';
import { maskToken } from '../ops/secrets.js';
import type { RedisStoreConfig } from '../store/open-redis.js';
import { createLeasedEventStream, type LeasedEventStream } from './leased-stream.js';
import {
  adoptOnAcquire,
  type CallHandOver,
  type HandOverKeys,
  handOverKeys,
  handOverRestoredCalls,
  waitForName,
} from './takeover.js';

export type { CallHandOver } from './takeover.js';

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

/**
 * What a runner does as its leases come and go: adopt a token's calls and poll it; hand tokens
 * over (a rebalance); stop polling a token lost.
 */
function leaseCallbacks(ctx: {
  readonly store: RedisStore;
  readonly keys: HandOverKeys;
  readonly log: Pick<RunnerLogger, 'info' | 'warn'>;
  readonly stream: LeasedEventStream;
  readonly inbox: FencedInbox | undefined;
  readonly pollTimeoutMs: number;
  readonly calls: () => CallHandOver | undefined;
}): Pick<TokenLeasesOptions, 'onAcquire' | 'onHandOver' | 'onRelease'> {
  const { store, keys, log, stream, inbox } = ctx;
  return {
    onAcquire: async (token, fence, previous) => {
      const calls = ctx.calls();
      const adopted =
        previous !== undefined && calls !== undefined
          ? await adoptOnAcquire({ calls, store, keys, log, token, previous })
          : 0;
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
        tokens.map((token) => stream.remove(token, { drainMs: 5_000, finishMs: ctx.pollTimeoutMs })),
      );
      await ctx.calls()?.handOver(tokens, keys.handOver);
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
        .then(() => ctx.calls()?.handOver([token], keys.handOver, { save: false }));
    },
  };
}

/** How long a stopping runner lets its polls in flight end before it aborts them. */
const STOP_FINISH_MS = 2_000;
/** How long a runner that lost a lease waits for the poll in flight, whose answer goes to the new holder. */
const LOST_FINISH_MS = 5_000;

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
  await waitForName(store, name, config.prefix, options.nameWaitMs ?? leaseMs, logger);

  const log = logger.child({ component: 'cluster', runner: name });
  const pollTimeoutMs = options.stream.pollTimeoutMs ?? DEFAULT_POLL_TIMEOUT_MS;
  const keys = handOverKeys(tokenId);
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
    ...leaseCallbacks({ store, keys, log, stream, inbox, pollTimeoutMs, calls: () => calls }),
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
      const mine = held.held();
      await handOverRestoredCalls({
        calls: handOver,
        store,
        keys,
        name,
        tokens: options.tokens.filter((token) => !mine.has(token)),
        tokenId,
      });
    },
    view: () => held.view(),
    async stop() {
      // the polls in flight end (a little while at most), their answers reach the tracker
      await stream.finish(STOP_FINISH_MS);
      await held.stop();
    },
  };
}
