import type { AdapterContext } from '../adapter/contract.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/types.js';
import type { ConnectorEmitter } from './connector-events.js';
import { DEFAULT_DELIVERY, DeliveryWorker } from './delivery.js';
import type { LookupCache } from './lookup-cache.js';
import type { Routing } from './routing.js';
import type { Sleep } from './timing.js';
import type { DeliveryOptions, RouteAdapter } from './types.js';

/** The delivery counters a connector reports in its stats. */
export interface DeliveryCounters {
  delivered: number;
  retries: number;
  deadLetters: number;
}

/** What the delivery workers of a connector need. */
export interface DeliveryWorkersOptions {
  readonly routing: Routing;
  readonly cache: Pick<LookupCache, 'lookup'>;
  readonly store: Store;
  readonly contextOf: (adapter: string) => AdapterContext;
  /** The connector's delivery options (under each adapter's own). */
  readonly delivery?: Partial<DeliveryOptions> | undefined;
  readonly clock: () => number;
  readonly sleep: Sleep;
  readonly random: () => number;
  readonly logger: Logger;
  readonly events: ConnectorEmitter;
  readonly counters: DeliveryCounters;
}

/**
 * An adapter's delivery options: defaults < the connector's < the adapter's own. The burst, when
 * neither gives one, follows the rate (at least 1).
 */
export function deliveryOptionsOf(
  target: RouteAdapter,
  connector?: Partial<DeliveryOptions>,
): DeliveryOptions {
  const merged = { ...DEFAULT_DELIVERY, ...connector, ...target.delivery };
  const burstGiven = target.delivery?.burst ?? connector?.burst;
  return { ...merged, burst: burstGiven ?? Math.max(1, merged.ratePerSecond) };
}

/** One delivery worker per adapter name of the routes; they log and emit what they do. */
export function createDeliveryWorkers(options: DeliveryWorkersOptions): Map<string, DeliveryWorker> {
  const workers = new Map<string, DeliveryWorker>();
  for (const target of options.routing.targets.values()) {
    workers.set(target.name, createDeliveryWorker(target, options));
  }
  return workers;
}

function createDeliveryWorker(target: RouteAdapter, options: DeliveryWorkersOptions): DeliveryWorker {
  const { routing, cache, logger, events, counters } = options;
  return new DeliveryWorker({
    target,
    options: deliveryOptionsOf(target, options.delivery),
    store: options.store,
    context: options.contextOf(target.name),
    clock: options.clock,
    sleep: options.sleep,
    random: options.random,
    lookup: (phone, since) => cache.lookup(target, phone, 'delivery', since),
    unknownCallerPolicy: (token) => routing.unknownCallerPolicy(token, target),
    onDelivered: (entry, result) => {
      counters.delivered++;
      events.emit('delivered', { adapter: target.name, entry, result });
    },
    onRetry: (entry, error, delayMs) => {
      counters.retries++;
      logger.info(
        {
          adapter: target.name,
          id: entry.id,
          attempts: entry.attempts,
          kind: error.kind,
          delayMs,
          err: error.message,
        },
        `delivery to ${target.name} failed (${error.kind}); retrying in ${delayMs} ms`,
      );
      events.emit('delivery-retry', { adapter: target.name, entry, error, delayMs });
    },
    onPaused: (error, until) => {
      logger.warn(
        { adapter: target.name, kind: error.kind, code: error.code, retryAt: new Date(until).toISOString() },
        `${target.name} refused the credentials: deliveries paused, nothing is dropped (fix them, or restart): ${error.message}`,
      );
      events.emit('adapter-paused', { adapter: target.name, error, until });
    },
    onDead: (entry, error) => {
      counters.deadLetters++;
      logger.error(
        { adapter: target.name, id: entry.id, attempts: entry.attempts, kind: error.kind },
        `delivery to ${target.name} gave up: ${error.message}`,
      );
      events.emit('dead-letter', { adapter: target.name, entry, error });
    },
    onError: (error, context) => events.report(error, context, target.name),
  });
}
