import { hostname } from 'node:os';
import { DEFAULT_POLL_TIMEOUT_MS, type EventStreamOptions } from '@cti-bridge/core';
import type { ClusterView, FencedInbox, RedisStore, TokenLeases } from '@cti-bridge/store-redis';
import type { RunnerLogger } from '../ops/logger.js';
import { maskToken } from '../ops/secrets.js';
import type { RedisStoreConfig } from '../store/open-redis.js';
import { leaseCallbacks } from './lease-callbacks.js';
import { createLeasedEventStream, type LeasedEventStream } from './leased-stream.js';
import { type CallHandOver, handOverKeys, handOverRestoredCalls, waitForName } from './takeover.js';

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

/** How long a stopping runner lets its polls in flight end before it aborts them. */
const STOP_FINISH_MS = 2_000;

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
