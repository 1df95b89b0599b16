import {
  type BatchItemResult,
  type Connector,
  type CrmAdapter,
  createConnector,
  createEventStream,
  createStoreInbox,
  DEFAULT_DELIVERY,
  DEFAULT_OVH_EVENTS_URL,
  DEFAULT_POLL_TIMEOUT_MS,
  type DeliveryOptions,
  type EventStream,
  type OvhEvent,
  type Store,
} from '@cti-bridge/core';
import type { DependencyContainer } from 'tsyringe';
import { type Board, createBoard } from './board/board.js';
import { labeller } from './board/labels.js';
import { createLeasedPolling, type LeasedPolling } from './cluster/cluster.js';
import { clusterReadiness, sampleClusterMetrics } from './cluster/ops.js';
import { givenSettings } from './config/given.js';
import { boardEnabled, type CtiConfig } from './config/schema.js';
import { buildBaseContainer, buildContainer, type Route, resolveAdapterFactoryContext } from './di.js';
import { TOKENS } from './di-tokens.js';
import { buildHealer, healingLines, startHealing } from './healing.js';
import { type ComponentHealth, type HttpServer, type Readiness, startHttpServer } from './ops/http.js';
import { installRequestDeadlines } from './ops/http-agents.js';
import type { RunnerLogger } from './ops/logger.js';
import { createMetrics, type RunnerMetrics } from './ops/metrics.js';
import { logScreenPop } from './ops/screen-pop-log.js';
import { maskToken, registerSecret } from './ops/secrets.js';
import { openConfiguredStore } from './store/open.js';
import { isRedisStore } from './store/open-redis.js';
import { tokenSafeStore } from './store/token-safe-store.js';
import { createWebhooks, type Webhooks } from './webhooks/webhooks.js';
import { buildAdapters } from './wiring.js';

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

/** A pass-through async iterable that resolves `ended` when its source is exhausted. */
function tap(
  source: AsyncIterable<OvhEvent>,
  onEvent: (event: OvhEvent) => void,
): {
  iterable: AsyncIterable<OvhEvent>;
  ended: Promise<void>;
} {
  let resolveEnded: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    resolveEnded = resolve;
  });
  return {
    ended,
    iterable: {
      async *[Symbol.asyncIterator]() {
        try {
          for await (const event of source) {
            onEvent(event);
            yield event;
          }
        } finally {
          resolveEnded();
        }
      },
    },
  };
}

async function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Wires and starts everything a config describes: store, adapters, DI container (a child per
 * token), the OVH event stream, core's connector, metrics and the health server.
 */
export async function startRunner(options: StartRunnerOptions): Promise<Runner> {
  const { config, logger } = options;
  const clock = options.clock ?? Date.now;
  for (const token of Object.keys(config.tokens)) registerSecret(token, maskToken(token));
  if (config.ovh.api) {
    registerSecret(config.ovh.api.applicationSecret);
    registerSecret(config.ovh.api.consumerKey);
  }
  for (const secret of config.logging.redact ?? []) registerSecret(secret);

  const store =
    options.store ??
    // OVH tokens never reach the state in clear: cursors, snapshots and payloads hold references
    tokenSafeStore(
      await openConfiguredStore(config.store, options.configPath, {
        // One polling runner per SQLite file; replay and heal (events given) may run beside it.
        lock: options.events === undefined,
        onError: (error) => logger.warn({ err: error.message }, 'Redis connection error (reconnecting)'),
      }),
      Object.keys(config.tokens),
    );
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

  const streamOptions = {
    baseUrl: config.ovh.baseUrl ?? DEFAULT_OVH_EVENTS_URL,
    ...(config.ovh.pollTimeoutMs === undefined ? {} : { pollTimeoutMs: config.ovh.pollTimeoutMs }),
    ...(config.ovh.watchdogMs === undefined ? {} : { watchdogMs: config.ovh.watchdogMs }),
    ...(config.ovh.defaultCountry === undefined ? {} : { defaultCountry: config.ovh.defaultCountry }),
    logger: logger.child({ component: 'ovh-stream' }),
  };
  // Several runners on Redis: this one polls only the tokens whose lease it holds.
  const cluster =
    options.events === undefined && config.store.kind === 'redis' && isRedisStore(store)
      ? await createLeasedPolling({
          store,
          config: config.store,
          tokens: Object.keys(config.tokens),
          logger,
          stream: streamOptions,
        })
      : undefined;
  // What the stream receives is kept in the store until the tracker snapshot that has it is saved
  // (OVH sends nothing twice). Several runners: a token's kept answers go with its lease (fenced).
  const inbox = options.events === undefined ? (cluster?.inbox ?? createStoreInbox(store.kv)) : undefined;
  const stream =
    options.events === undefined
      ? (cluster?.stream ??
        createEventStream({
          ...streamOptions,
          tokens: Object.keys(config.tokens),
          cursors: store.cursors,
          ...(inbox ? { inbox } : {}),
        }))
      : undefined;
  if (stream !== undefined) {
    stream.on('invalid', (report) =>
      logger.warn({ token: maskToken(report.token), error: report.error }, 'invalid OVH event skipped'),
    );
    stream.on('silent', (report) =>
      logger.warn({ token: maskToken(report.token), silentForMs: report.silentForMs }, 'OVH token silent'),
    );
  }
  const source = tap(options.events ?? (stream as EventStream), (event) =>
    metrics.events.inc({ token: maskToken(event.token) }),
  );

  const connector = createConnector({
    stream: source.iterable,
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
  container.register(TOKENS.Connector, { useValue: connector });
  instrument(connector, metrics, logger);
  const httpConfig = options.http === false ? false : config.http;
  const adapterNames = Object.fromEntries(
    Object.entries(routes).map(([t, r]) => [t, r.adapters.map((a) => a.name)]),
  );
  let board: Board | undefined;
  if (httpConfig !== false && httpConfig.board === undefined && !boardEnabled(httpConfig)) {
    logger.warn(
      { host: httpConfig.host },
      `the live board is not served: ${httpConfig.host} is reachable from other machines and http.boardToken is not set (set it to serve the board, or http.board: false)`,
    );
  }
  if (httpConfig !== false && boardEnabled(httpConfig)) {
    if (httpConfig.boardToken !== undefined) registerSecret(httpConfig.boardToken);
    board = await createBoard({
      connector,
      store,
      routes: adapterNames,
      labels: labeller(config.tokens),
      ...(httpConfig.boardToken === undefined ? {} : { token: httpConfig.boardToken }),
      logger: logger.child({ component: 'board' }),
      clock,
    });
  }
  let webhooks: Webhooks | undefined;
  if (config.webhooks.length > 0) {
    // A webhook URL often carries its own secret (Slack's, n8n's paths): never printed either.
    for (const webhook of config.webhooks) {
      registerSecret(webhook.secret);
      registerSecret(webhook.url);
    }
    webhooks = createWebhooks({
      webhooks: config.webhooks,
      connector,
      store,
      clock,
      logger: logger.child({ component: 'webhooks' }),
    });
    webhooks.start();
  }
  await connector.start();
  await cluster?.start(connector);

  // Healing: calls the stream missed (downtime, outages, resets) are read from OVH's call records.
  let healing: { stop(): void } | undefined;
  if (stream !== undefined && config.ovh.healing?.enabled !== false) {
    const healer = buildHealer(config, { store, connector, logger, clock });
    if (typeof healer !== 'string') {
      healing = await startHealing({ config, healer, store, stream, logger, clock });
    } else if (Object.keys(healingLines(config)).length > 0) {
      logger.warn({}, `healing from OVH call records is off: ${healer}`);
    }
  }
  const http =
    httpConfig === false
      ? undefined
      : await startHttpServer({
          host: httpConfig.host,
          port: httpConfig.port,
          registry: metrics.registry,
          readiness: () => readiness(config, stream, store, adapters, health, connector, cluster),
          ...(board === undefined ? {} : { handle: board.handle }),
          beforeScrape: async () => {
            if (cluster !== undefined) await sampleClusterMetrics(metrics, cluster, store);
            if (board !== undefined) {
              const stats = board.hub.stats();
              metrics.boardPages.set({ state: 'connected' }, stats.clients);
              metrics.boardPages.set({ state: 'dropped' }, stats.dropped);
            }
            for (const name of [...adapters.keys(), ...(webhooks?.targets ?? [])]) {
              const counts = await store.outbox.counts(name);
              for (const [status, value] of Object.entries(counts))
                metrics.outbox.set({ adapter: name, status }, value);
            }
          },
        });
  if (http !== undefined) {
    logger.info({ url: http.url }, 'health and metrics listening');
    if (board !== undefined) logger.info({ url: `${http.url}/` }, 'live call board listening');
  }

  let stopping: Promise<void> | undefined;
  const stop = (timeoutMs = 10_000): Promise<void> => {
    stopping ??= (async () => {
      healing?.stop();
      await (cluster === undefined ? stream?.close() : cluster.stop());
      const drained = await withTimeout(
        connector.drain().catch((error: unknown) => {
          logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'draining failed');
        }),
        timeoutMs,
      );
      if (!drained)
        logger.warn(
          { timeoutMs },
          'deliveries still in flight at shutdown: kept in the outbox for the next start',
        );
      await connector.stop();
      if (webhooks !== undefined && !(await withTimeout(webhooks.whenIdle(), Math.min(timeoutMs, 2_000)))) {
        logger.warn(
          {},
          'webhook deliveries still pending at shutdown: kept in the outbox for the next start',
        );
      }
      await webhooks?.stop();
      await board?.close();
      // requests still hanging on a CRM fail now: nothing of theirs is lost (their entries are pending)
      requestDeadlines.close();
      const closed = await withTimeout(
        Promise.all(
          [...adapters.values()].map((adapter) =>
            adapter
              .close?.()
              .catch((error: unknown) => logger.warn({ err: String(error) }, 'adapter close failed')),
          ),
        ),
        Math.min(timeoutMs, 5_000),
      );
      if (!closed) logger.warn({}, 'an adapter did not close in time: stopping without it');
      await http?.close();
      await store.close();
    })();
    return stopping;
  };

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

/** What `/readyz` knows about an adapter's recent writes. */
export interface AdapterHealth {
  /** Writes (and batches whose every item failed) failing in a row. */
  failuresInARow: number;
  /** Lookups failing in a row (a CRM that cannot be searched cannot pop anyone). */
  lookupFailuresInARow: number;
  lastErrorKind?: string;
  lastError?: string;
  lastSuccessAt?: number;
  /** When the current run of failures began (epoch ms). */
  failingSince?: number;
}

function newAdapterHealth(): AdapterHealth {
  return { failuresInARow: 0, lookupFailuresInARow: 0 };
}

/** Records a failed write or lookup on an adapter's health. */
function recordFailure(health: AdapterHealth, error: unknown, lookup: boolean): string {
  const kind = (error as { kind?: unknown }).kind;
  const errorKind = typeof kind === 'string' ? kind : 'transient';
  if (health.failuresInARow === 0 && health.lookupFailuresInARow === 0) health.failingSince = Date.now();
  if (lookup) health.lookupFailuresInARow++;
  else health.failuresInARow++;
  health.lastErrorKind = errorKind;
  health.lastError = `${errorKind}: ${error instanceof Error ? error.message : String(error)}`;
  return errorKind;
}

/** Records a successful write or lookup: ends that run of failures. */
function recordSuccess(health: AdapterHealth, lookup: boolean): void {
  if (lookup) health.lookupFailuresInARow = 0;
  else {
    health.failuresInARow = 0;
    health.lastSuccessAt = Date.now();
  }
  if (health.failuresInARow === 0 && health.lookupFailuresInARow === 0) delete health.failingSince;
}

/**
 * Writes failing in a row before `/readyz` reports the adapter not ready; an `auth` failure
 * (a person must fix credentials) counts at once.
 */
const UNHEALTHY_AFTER = 5;

/** Counts what the connector reports, and logs it. */
function instrument(connector: Connector, metrics: RunnerMetrics, logger: RunnerLogger): void {
  connector.on('screen-pop', (pop) => {
    metrics.screenPops.inc({ adapter: pop.adapter ?? 'none' });
    logScreenPop(logger, pop);
  });
  connector.on('call', (call) => {
    metrics.calls.inc({
      token: maskToken(call.token),
      direction: call.direction,
      outcome: call.outcome ?? 'unknown',
    });
  });
  connector.on('queue-session', (session) => {
    metrics.queueSessions.inc({ token: maskToken(session.token), outcome: session.outcome ?? 'unknown' });
  });
  connector.on('delivered', (delivery) => {
    metrics.deliveries.inc({ adapter: delivery.adapter, kind: delivery.entry.kind });
  });
  connector.on('dead-letter', (dead) => {
    metrics.deadLetters.inc({ adapter: dead.adapter });
    logger.error(
      { adapter: dead.adapter, id: dead.entry.id, kind: dead.error.kind, error: dead.error.message },
      'delivery gave up: dead letter (see `cti-runner outbox list`)',
    );
  });
  connector.on('error', (event) => {
    logger.error(
      {
        context: event.context,
        ...(event.adapter === undefined ? {} : { adapter: event.adapter }),
        err: event.error instanceof Error ? event.error.message : String(event.error),
      },
      'pipeline error',
    );
  });
}

/**
 * Wraps an adapter to measure it: lookup latency, and failed writes (each one is a retry or a
 * dead letter for the pipeline). Everything else passes through untouched.
 */
export function measuredAdapter(
  name: string,
  adapter: CrmAdapter,
  metrics: RunnerMetrics,
  health: AdapterHealth = newAdapterHealth(),
): CrmAdapter {
  const failed = (error: unknown): never => {
    metrics.retries.inc({ adapter: name, error: recordFailure(health, error, false) });
    throw error;
  };
  const succeeded = <T>(value: T): T => {
    recordSuccess(health, false);
    return value;
  };
  // A batch answers per item: one where every item failed is a failed write, not a success.
  const batchOutcome = (results: BatchItemResult[]): BatchItemResult[] => {
    const failures = results.filter((r): r is Extract<BatchItemResult, { ok: false }> => !r.ok);
    if (results.length > 0 && failures.length === results.length) {
      for (const failure of failures) {
        metrics.retries.inc({ adapter: name, error: recordFailure(health, failure.error, false) });
      }
    } else recordSuccess(health, false);
    return results;
  };
  const wrapped: CrmAdapter = {
    specificationVersion: adapter.specificationVersion,
    name: adapter.name,
    capabilities: adapter.capabilities,
    async findContacts(query, ctx) {
      const end = metrics.lookupSeconds.startTimer({ adapter: name });
      try {
        const matches = await adapter.findContacts(query, ctx);
        recordSuccess(health, true);
        return matches;
      } catch (error) {
        recordFailure(health, error, true);
        throw error;
      } finally {
        end();
      }
    },
    logCall: (call, ctx) => adapter.logCall(call, ctx).then(succeeded, failed),
  };
  const optional: Partial<CrmAdapter> = {
    ...(adapter.logCalls
      ? { logCalls: (items, ctx) => adapter.logCalls!(items, ctx).then(batchOutcome, failed) }
      : {}),
    ...(adapter.createContact
      ? { createContact: (input, ctx) => adapter.createContact!(input, ctx).then(succeeded, failed) }
      : {}),
    ...(adapter.createFollowUpTask
      ? { createFollowUpTask: (call, ctx) => adapter.createFollowUpTask!(call, ctx).then(succeeded, failed) }
      : {}),
    ...(adapter.logQueueSession
      ? { logQueueSession: (session, ctx) => adapter.logQueueSession!(session, ctx).then(succeeded, failed) }
      : {}),
    ...(adapter.check ? { check: (ctx) => adapter.check!(ctx) } : {}),
    ...(adapter.close ? { close: () => adapter.close!() } : {}),
  };
  return { ...wrapped, ...optional };
}

async function readiness(
  config: CtiConfig,
  stream: EventStream | undefined,
  store: Store,
  adapters: ReadonlyMap<string, CrmAdapter>,
  health: ReadonlyMap<string, AdapterHealth>,
  connector: Connector,
  cluster?: LeasedPolling,
): Promise<Readiness> {
  const stats = stream?.stats() ?? {};
  const leased =
    cluster === undefined ? undefined : await clusterReadiness(cluster, Object.keys(config.tokens), store);
  // a poll is held about a minute: none completed in twice the client timeout means a stalled loop
  const pollDeadlineMs = 2 * (config.ovh.pollTimeoutMs ?? DEFAULT_POLL_TIMEOUT_MS);
  const now = Date.now();
  const tokens: Readiness['tokens'] = Object.fromEntries(
    Object.keys(config.tokens).map((token) => {
      const s = stats[token];
      const elsewhere = leased?.tokens.get(token);
      if (s === undefined && elsewhere !== undefined) return [maskToken(token), elsewhere];
      const stalled = s?.lastPollAt !== undefined && now - s.lastPollAt > pollDeadlineMs;
      const ok = s !== undefined && !s.silent && s.consecutiveErrors < 3 && !stalled;
      const message =
        s === undefined
          ? 'not polling'
          : stalled
            ? `stalled: no poll completed since ${new Date(s.lastPollAt as number).toISOString()}`
            : s.silent
              ? 'silent: no event for a long time'
              : s.consecutiveErrors >= 3
                ? `failing: ${s.lastError ?? 'poll errors'}`
                : 'polling';
      return [
        maskToken(token),
        {
          ok,
          message,
          details: s === undefined ? {} : { polls: s.polls, events: s.events, errors: s.errors },
        },
      ];
    }),
  );
  const entries = await Promise.all(
    [...adapters.keys()].map(async (name) => {
      const counts = await store.outbox.counts(name);
      const h = health.get(name) ?? newAdapterHealth();
      const authFailing = h.lastErrorKind === 'auth' && (h.failuresInARow > 0 || h.lookupFailuresInARow > 0);
      const writesFailing = h.failuresInARow >= UNHEALTHY_AFTER || (h.failuresInARow > 0 && authFailing);
      const lookupsFailing =
        h.lookupFailuresInARow >= UNHEALTHY_AFTER || (h.lookupFailuresInARow > 0 && authFailing);
      const failing = writesFailing || lookupsFailing;
      const since = h.failingSince === undefined ? '' : ` since ${new Date(h.failingSince).toISOString()}`;
      const message = failing
        ? `${
            writesFailing
              ? `${h.failuresInARow} write(s) failed in a row`
              : `${h.lookupFailuresInARow} lookup(s) failed in a row`
          }${since} (${h.lastError ?? 'unknown error'})${
            authFailing
              ? ': fix the credentials of this adapter (its deliveries are paused, nothing is dropped)'
              : ''
          }`
        : counts.dead > 0
          ? `${counts.dead} dead letter(s): see \`cti-runner outbox list\``
          : 'ok';
      return [
        name,
        {
          ok: !failing,
          message,
          details: {
            ...counts,
            failuresInARow: h.failuresInARow,
            lookupFailuresInARow: h.lookupFailuresInARow,
            ...(h.failingSince === undefined ? {} : { failingSince: new Date(h.failingSince).toISOString() }),
            ...(h.lastSuccessAt === undefined
              ? {}
              : { lastSuccessAt: new Date(h.lastSuccessAt).toISOString() }),
          },
        },
      ] as const;
    }),
  );
  return {
    tokens,
    adapters: Object.fromEntries(entries),
    store: await storeHealth(store, connector),
    ...(leased === undefined ? {} : { cluster: leased.cluster }),
  };
}

/** Whether the store accepts a write now (a full disk, a read-only or broken file does not). */
async function storeHealth(store: Store, connector: Connector): Promise<ComponentHealth> {
  const { unwritten, unwrittenDropped } = connector.stats();
  const details = { unwritten, unwrittenDropped };
  try {
    await store.kv.set('ops', 'readyz', String(Date.now()));
    if (unwritten > 0) {
      return {
        ok: false,
        message: `${unwritten} call(s) wait in memory for the store to accept them`,
        details,
      };
    }
    return { ok: true, message: 'writable', details };
  } catch (error) {
    return {
      ok: false,
      message: `cannot write the state store: ${error instanceof Error ? error.message : String(error)}${
        unwritten > 0 ? ` (${unwritten} call(s) kept in memory until it can: free space on its disk)` : ''
      }`,
      details,
    };
  }
}
