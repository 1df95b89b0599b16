import type { Connector, CrmAdapter, EventStream, OvhEvent, Store } from '@cti-bridge/core';
import type { DependencyContainer } from 'tsyringe';
import type { Board } from './board/board.js';
import type { LeasedPolling } from './cluster/cluster.js';
import type { CtiConfig } from './config/schema.js';
import { TOKENS } from './di-tokens.js';
import type { HttpServer } from './ops/http.js';
import type { RunnerLogger } from './ops/logger.js';
import type { RunnerMetrics } from './ops/metrics.js';
import { startBoard, startWebhooks } from './runtime/board-and-webhooks.js';
import { createRunnerConnector } from './runtime/connector.js';
import { openEventSource } from './runtime/event-source.js';
import { startRunnerHealing } from './runtime/healing.js';
import { instrument } from './runtime/instrument.js';
import { startOpsServer } from './runtime/ops-server.js';
import { createStop } from './runtime/shutdown.js';
import { openRunnerStore, registerConfigSecrets, wireAdapters } from './runtime/wire.js';
import type { Webhooks } from './webhooks/webhooks.js';

export type { AdapterHealth } from './runtime/adapter-health.js';
export { measuredAdapter } from './runtime/measured-adapter.js';

/** Options of {@link startRunner}. */
export interface StartRunnerOptions {
  readonly config: CtiConfig;
  /** Config file path (relative store paths resolve against its directory). */
  readonly configPath?: string;
  readonly logger: RunnerLogger;
  /** Use this store instead of opening the configured one (it is still closed on stop). */
  readonly store?: Store;
  /** Use these events instead of polling OVH (replay). */
  readonly events?: AsyncIterable<OvhEvent>;
  /** Epoch ms clock (default `Date.now`). */
  readonly clock?: () => number;
  /** Serve /healthz, /readyz, /metrics (default: as configured). */
  readonly http?: boolean;
}

/** A running runner. */
export interface Runner {
  readonly container: DependencyContainer;
  readonly connector: Connector;
  readonly store: Store;
  readonly metrics: RunnerMetrics;
  readonly adapters: ReadonlyMap<string, CrmAdapter>;
  /** The OVH stream, when polling (not when replaying). */
  readonly stream?: EventStream;
  /** This runner's part of a Redis cluster (its token leases), with a Redis store. */
  readonly cluster?: LeasedPolling;
  readonly http?: HttpServer;
  /** The live board, when served (`http.board`). */
  readonly board?: Board;
  /** Webhook subscribers' delivery (`webhooks`). */
  readonly webhooks?: Webhooks;
  /** Resolves when the event source ended (replay) — never while polling until stop. */
  readonly sourceEnded: Promise<void>;
  /**
   * Graceful stop: stops polling, waits up to `timeoutMs` for due deliveries to finish, then
   * persists what is still in flight (tracker snapshot; pending outbox entries stay in the store),
   * closes adapters, the store and the HTTP server. Idempotent.
   */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Wires and starts everything a config describes: store, adapters, DI container (a child per
 * token), the OVH event stream, core's connector, metrics and the health server.
 */
export async function startRunner(options: StartRunnerOptions): Promise<Runner> {
  const { config, logger } = options;
  const clock = options.clock ?? Date.now;
  registerConfigSecrets(config);

  const store = await openRunnerStore(options);
  const { requestDeadlines, metrics, adapters, health, container, routes } = await wireAdapters(
    config,
    logger,
    store,
    clock,
  );
  const events = await openEventSource(config, store, options.events, logger, metrics);
  const { cluster, stream, source } = events;

  const connector = createRunnerConnector(config, { events, routes, store, clock, logger });
  container.register(TOKENS.Connector, { useValue: connector });
  instrument(connector, metrics, logger);
  const httpConfig = options.http === false ? false : config.http;
  const board = await startBoard(config, httpConfig, routes, { connector, store, clock, logger });
  const webhooks = startWebhooks(config, { connector, store, clock, logger });
  await connector.start();
  await cluster?.start(connector);

  const healing = await startRunnerHealing(config, stream, { store, connector, logger, clock });
  const http = await startOpsServer(httpConfig, {
    config,
    stream,
    store,
    adapters,
    health,
    connector,
    cluster,
    metrics,
    board,
    webhooks,
  });
  if (http !== undefined) {
    logger.info({ url: http.url }, 'health and metrics listening');
    if (board !== undefined) logger.info({ url: `${http.url}/` }, 'live call board listening');
  }

  const stop = createStop({
    healing,
    cluster,
    stream,
    connector,
    webhooks,
    board,
    requestDeadlines,
    adapters,
    http,
    store,
    logger,
  });

  return {
    container,
    connector,
    store,
    metrics,
    adapters,
    ...(stream === undefined ? {} : { stream }),
    ...(cluster === undefined ? {} : { cluster }),
    ...(http === undefined ? {} : { http }),
    ...(board === undefined ? {} : { board }),
    ...(webhooks === undefined ? {} : { webhooks }),
    sourceEnded: source.ended,
    stop,
  };
}
