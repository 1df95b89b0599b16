import {
  createEventStream,
  createStoreInbox,
  DEFAULT_OVH_EVENTS_URL,
  type EventStream,
  type OvhEvent,
  type Store,
  type StoreInbox,
} from '@cti-bridge/core';
import { createLeasedPolling, type LeasedPolling } from '../cluster/cluster.js';
import type { CtiConfig } from '../config/schema.js';
import type { RunnerLogger } from '../ops/logger.js';
import type { RunnerMetrics } from '../ops/metrics.js';
import { maskToken } from '../ops/secrets.js';
import { isRedisStore } from '../store/open-redis.js';

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

/** Where a runner's events come from. */
export interface EventSource {
  /** The inbox of the stream's answers, when polling (fenced by the leases in a Redis cluster). */
  readonly inbox?: Pick<StoreInbox, 'checkpoint'>;
  /** This runner's part of a Redis cluster, with a Redis store. */
  readonly cluster?: LeasedPolling;
  /** The OVH stream, when polling (not when replaying). */
  readonly stream?: EventStream;
  /** The events, counted; `ended` resolves when they are exhausted. */
  readonly source: { readonly iterable: AsyncIterable<OvhEvent>; readonly ended: Promise<void> };
}

/** Sets up the event source: the given events, or OVH polled (alone, or leased in a Redis cluster). */
export async function openEventSource(
  config: CtiConfig,
  store: Store,
  events: AsyncIterable<OvhEvent> | undefined,
  logger: RunnerLogger,
  metrics: RunnerMetrics,
): Promise<EventSource> {
  const streamOptions = {
    baseUrl: config.ovh.baseUrl ?? DEFAULT_OVH_EVENTS_URL,
    ...(config.ovh.pollTimeoutMs === undefined ? {} : { pollTimeoutMs: config.ovh.pollTimeoutMs }),
    ...(config.ovh.watchdogMs === undefined ? {} : { watchdogMs: config.ovh.watchdogMs }),
    ...(config.ovh.defaultCountry === undefined ? {} : { defaultCountry: config.ovh.defaultCountry }),
    logger: logger.child({ component: 'ovh-stream' }),
  };
  // Several runners on Redis: this one polls only the tokens whose lease it holds.
  const cluster =
    events === undefined && config.store.kind === 'redis' && isRedisStore(store)
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
  const inbox = events === undefined ? (cluster?.inbox ?? createStoreInbox(store.kv)) : undefined;
  const stream =
    events === undefined
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
  const source = tap(events ?? (stream as EventStream), (event) =>
    metrics.events.inc({ token: maskToken(event.token) }),
  );
  return {
    ...(inbox === undefined ? {} : { inbox }),
    ...(cluster === undefined ? {} : { cluster }),
    ...(stream === undefined ? {} : { stream }),
    source,
  };
}
