import { type CrmAdapter, DEFAULT_DELIVERY, type Store } from '@cti-bridge/core';
import type { DependencyContainer } from 'tsyringe';
import type { CtiConfig } from '../config/schema.js';
import { buildBaseContainer, buildContainer, type Route, resolveAdapterFactoryContext } from '../di.js';
import { TOKENS } from '../di-tokens.js';
import { installRequestDeadlines, type RequestDeadlines } from '../ops/http-agents.js';
import type { RunnerLogger } from '../ops/logger.js';
import { createMetrics, type RunnerMetrics } from '../ops/metrics.js';
import { maskToken, registerSecret } from '../ops/secrets.js';
import { openConfiguredStore } from '../store/open.js';
import { tokenSafeStore } from '../store/token-safe-store.js';
import { buildAdapters } from '../wiring.js';
import { type AdapterHealth, newAdapterHealth } from './adapter-health.js';
import { measuredAdapter } from './measured-adapter.js';

/** Registers the secrets of a config (tokens, OVH API keys, `logging.redact`): never printed. */
export function registerConfigSecrets(config: CtiConfig): void {
  for (const token of Object.keys(config.tokens)) registerSecret(token, maskToken(token));
  if (config.ovh.api) {
    registerSecret(config.ovh.api.applicationSecret);
    registerSecret(config.ovh.api.consumerKey);
  }
  for (const secret of config.logging.redact ?? []) registerSecret(secret);
}

/** What {@link openRunnerStore} needs of the runner's options. */
export interface RunnerStoreOptions {
  readonly config: CtiConfig;
  readonly configPath?: string;
  readonly logger: RunnerLogger;
  readonly store?: Store;
  readonly events?: AsyncIterable<unknown>;
}

/** The store given, or the configured one opened (token-safe). */
export async function openRunnerStore(options: RunnerStoreOptions): Promise<Store> {
  const { config, logger } = options;
  return (
    options.store ??
    // OVH tokens never reach the state in clear: cursors, snapshots and payloads hold references
    tokenSafeStore(
      await openConfiguredStore(config.store, options.configPath, {
        // One polling runner per SQLite file; replay and heal (events given) may run beside it.
        lock: options.events === undefined,
        onError: (error) => logger.warn({ err: error.message }, 'Redis connection error (reconnecting)'),
      }),
      Object.keys(config.tokens),
    )
  );
}

/** The adapters, DI container and routes of a runner, and what measures them. */
export interface WiredAdapters {
  readonly requestDeadlines: RequestDeadlines;
  readonly metrics: RunnerMetrics;
  readonly adapters: ReadonlyMap<string, CrmAdapter>;
  readonly health: ReadonlyMap<string, AdapterHealth>;
  readonly container: DependencyContainer;
  readonly routes: Record<string, Route>;
}

/** Builds the measured adapters, the DI container (a child per token) and each token's route. */
export async function wireAdapters(
  config: CtiConfig,
  logger: RunnerLogger,
  store: Store,
  clock: () => number,
): Promise<WiredAdapters> {
  // a CRM that hangs must not collect sockets: each request gets a deadline (the delivery timeout)
  const deliveryTimeouts = [
    config.delivery.timeoutMs ?? DEFAULT_DELIVERY.timeoutMs,
    ...Object.values(config.delivery.adapters ?? {}).map((d) => d.timeoutMs ?? 0),
  ];
  const requestDeadlines = installRequestDeadlines({ idleTimeoutMs: Math.max(...deliveryTimeouts) });
  const metrics = createMetrics();
  const base = buildBaseContainer({
    config,
    logger,
    store,
    clock,
    metrics,
    httpAgents: requestDeadlines.agents,
  });
  const built = await buildAdapters(config, (name) => resolveAdapterFactoryContext(base, name));
  const health = new Map([...built.keys()].map((name) => [name, newAdapterHealth()]));
  const adapters = new Map(
    [...built].map(([name, adapter]) => [name, measuredAdapter(name, adapter, metrics, health.get(name))]),
  );
  const { container, tokens } = buildContainer({ config, logger, store, clock, metrics, adapters, base });

  const routes: Record<string, Route> = {};
  for (const [token, child] of tokens) routes[token] = child.resolve<Route>(TOKENS.Route);
  return { requestDeadlines, metrics, adapters, health, container, routes };
}
