import { hostname } from 'node:os';
import type { EventStreamOptions } from '@cti-bridge/core';
import type { ClusterView, RedisStore, TokenLeases } from '@cti-bridge/store-redis';
import { EXIT, ExitError } from '../exit-codes.js';
import type { RunnerLogger } from '../ops/logger.js';
import { maskToken } from '../ops/secrets.js';
import type { RedisStoreConfig } from '../store/open-redis.js';
import { createLeasedEventStream, type LeasedEventStream } from './leased-stream.js';

/** This runner's name in a Redis cluster: `store.runnerName`, else `CTI_RUNNER_NAME`, else the host name. */
export function runnerNameOf(config: RedisStoreConfig, env: NodeJS.ProcessEnv = process.env): string {
  return config.runnerName ?? (env.CTI_RUNNER_NAME || undefined) ?? hostname();
}

/** Options of {@link startLeasedPolling}. */
export interface LeasedPollingOptions {
  readonly store: RedisStore;
  readonly config: RedisStoreConfig;
  readonly tokens: readonly string[];
  readonly logger: RunnerLogger;
  /** Options of each token's OVH stream. */
  readonly stream: Omit<EventStreamOptions, 'tokens' | 'cursors'>;
  /** Shown to the other runners in the cluster view (e.g. the ops URL). */
  readonly info?: Readonly<Record<string, string | number>>;
  /** How long to wait for a dead runner of the same name to leave the cluster (default the lease time). */
  readonly nameWaitMs?: number;
}

/** A runner's part of the cluster: its leases and the stream of the tokens it holds. */
export interface LeasedPolling {
  readonly name: string;
  readonly stream: LeasedEventStream;
  readonly leases: TokenLeases;
  /** The cluster as Redis sees it (runners, leases), with the outbox's pending count. */
  view(): Promise<ClusterView>;
  /** Stops polling, then gives the leases back so the other runners take them at once. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Joins the cluster of runners sharing a Redis store: waits until no live runner has this
 * runner's name (a restart after a crash waits for the old heartbeat to expire; a second runner
 * with the same name is refused), then takes token leases and polls only the tokens it holds, each
 * resuming from the shared cursor, which only the lease holder may move (fenced writes).
 */
export async function startLeasedPolling(options: LeasedPollingOptions): Promise<LeasedPolling> {
  const { store, config, logger } = options;
  const { TokenLeases } = await import('@cti-bridge/store-redis');
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
  let leases: TokenLeases | undefined;
  const stream = createLeasedEventStream({
    stream: options.stream,
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
  leases = new TokenLeases({
    redis: store.redis,
    keys: store.keys,
    runner: name,
    tokens: options.tokens,
    leaseMs,
    ...(config.renewMs === undefined ? {} : { renewMs: config.renewMs }),
    ...(options.info ? { info: options.info } : {}),
    onAcquire: (token, fence) => {
      log.info({ token: maskToken(token), fence }, 'token lease acquired: polling it');
      stream.add(token, fence);
    },
    onRelease: (token, reason) => {
      log[reason === 'lost' || reason === 'expired' ? 'warn' : 'info'](
        { token: maskToken(token), reason },
        'token lease released: not polling it any more',
      );
      void stream.remove(token);
    },
    onError: (error) =>
      log.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'token leases: Redis unreachable',
      ),
  });
  await leases.start();
  const held = leases;
  return {
    name,
    stream,
    leases: held,
    view: () => held.view(),
    async stop() {
      await stream.close();
      await held.stop();
    },
  };
}
