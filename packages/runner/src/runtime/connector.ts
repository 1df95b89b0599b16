import { type Connector, createConnector, type DeliveryOptions, type Store } from '@cti-bridge/core';
import { givenSettings } from '../config/given.js';
import type { CtiConfig } from '../config/schema.js';
import type { Route } from '../di.js';
import type { RunnerLogger } from '../ops/logger.js';
import type { EventSource } from './event-source.js';

/** Tracker snapshot interval of a runner in a Redis cluster when `pipeline.snapshotIntervalMs` is unset. */
const CLUSTER_SNAPSHOT_MS = 5_000;

/** The connector-wide policies (per-adapter overrides travel with the routes). */
function policyDefaults(config: CtiConfig): Omit<CtiConfig['policies'], 'adapters'> {
  const { adapters: _perAdapter, ...defaults } = config.policies;
  return defaults;
}

/** The connector-wide delivery options (per-adapter overrides travel with the routes). */
function deliveryDefaults(config: CtiConfig): Partial<DeliveryOptions> {
  const { adapters: _perAdapter, ...defaults } = config.delivery;
  return givenSettings(defaults);
}

/** Creates core's connector for a runner: its events, routes, store and the config's pipeline settings. */
export function createRunnerConnector(
  config: CtiConfig,
  parts: {
    readonly events: EventSource;
    readonly routes: Record<string, Route>;
    readonly store: Store;
    readonly clock: () => number;
    readonly logger: RunnerLogger;
  },
): Connector {
  const { events, routes, store, clock, logger } = parts;
  const { cluster, inbox } = events;
  return createConnector({
    stream: events.source.iterable,
    routes,
    store,
    policies: policyDefaults(config),
    clock,
    logger: logger.child({ component: 'pipeline' }),
    delivery: deliveryDefaults(config),
    ...(config.pipeline.snapshotIntervalMs === undefined
      ? // Several runners: a runner taking over a dead one's tokens adopts its last snapshot; keep it fresh.
        cluster === undefined
        ? {}
        : { housekeepingIntervalMs: CLUSTER_SNAPSHOT_MS }
      : { housekeepingIntervalMs: config.pipeline.snapshotIntervalMs }),
    ...(config.pipeline.lookupTimeoutMs === undefined
      ? {}
      : { lookupTimeoutMs: config.pipeline.lookupTimeoutMs }),
    ...(config.pipeline.lookupCacheTtlMs === undefined
      ? {}
      : { lookupCacheTtlMs: config.pipeline.lookupCacheTtlMs }),
    tracker: {
      ...(config.pipeline.orphanTimeoutMs === undefined
        ? {}
        : { orphanTimeoutMs: config.pipeline.orphanTimeoutMs }),
      ...(config.pipeline.settleMs === undefined ? {} : { settleMs: config.pipeline.settleMs }),
    },
    // Runners sharing a store keep their calls in flight apart.
    ...(cluster === undefined ? {} : { snapshotKey: cluster.snapshotKey }),
    ...(inbox ? { inbox } : {}),
  });
}
