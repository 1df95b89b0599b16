import {
  AdapterError,
  type CrmAdapter,
  DEFAULT_DELIVERY,
  DeliveryWorker,
  kvAdapterState,
  type Logger,
  type Store,
} from '@cti-bridge/core';
import { givenSettings } from '../config/given.js';
import type { WebhookConfig } from './schema.js';
import { webhookSender } from './sender.js';

/** What the delivery worker needs as its "adapter": a webhook target only delivers `webhook` entries. */
function webhookTargetAdapter(name: string): CrmAdapter {
  const refuse = async (): Promise<never> => {
    throw new AdapterError('invalid', `${name} is a webhook target: it only delivers webhook entries`);
  };
  return {
    specificationVersion: 'v1',
    name,
    capabilities: { createContact: false, followUpTask: false, queueSessions: false, batchLogCall: false },
    findContacts: async () => [],
    logCall: refuse,
  };
}

const realSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** A webhook subscriber: its outbox name, its config and the worker that delivers its entries. */
export interface WebhookTarget {
  readonly name: string;
  readonly config: WebhookConfig;
  readonly worker: DeliveryWorker;
}

/** What the delivery workers of the webhook targets share. */
export interface WebhookTargetDeps {
  readonly store: Store;
  readonly logger: Logger;
  readonly clock: () => number;
  /** Waits between retries (default: timers). */
  readonly sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
}

/** The target of the `index`th webhook subscriber (`webhook.<name>`, else `webhook.<index + 1>`). */
export function createWebhookTarget(
  config: WebhookConfig,
  index: number,
  deps: WebhookTargetDeps,
): WebhookTarget {
  const { store, logger, clock } = deps;
  const sleep = deps.sleep ?? realSleep;
  const name = `webhook.${config.name ?? String(index + 1)}`;
  const send = webhookSender({ url: config.url, secret: config.secret, clock });
  const worker = new DeliveryWorker({
    target: { name, adapter: webhookTargetAdapter(name), lookup: false },
    options: {
      ...DEFAULT_DELIVERY,
      concurrency: 1,
      ratePerSecond: 0,
      burst: 1,
      batchSize: 1,
      timeoutMs: 10_000,
      ...givenSettings(config.delivery ?? {}),
    },
    store,
    context: { logger: logger.child({ webhook: name }), state: kvAdapterState(store.kv, name, clock) },
    clock,
    sleep,
    random: Math.random,
    lookup: async () => [],
    unknownCallerPolicy: () => 'log-only',
    onDelivered: () => {},
    onRetry: (entry, error, delayMs) =>
      logger.info(
        { webhook: name, id: entry.id, attempts: entry.attempts, kind: error.kind, delayMs },
        `webhook delivery to ${name} failed (${error.message}); retrying in ${delayMs} ms`,
      ),
    onPaused: (error, until) =>
      logger.warn(
        { webhook: name, retryAt: new Date(until).toISOString() },
        `${name}: ${error.message}; deliveries paused, nothing is dropped`,
      ),
    onDead: (entry, error) =>
      logger.error(
        { webhook: name, id: entry.id, attempts: entry.attempts, kind: error.kind },
        `webhook delivery to ${name} gave up: ${error.message} (see \`cti-runner outbox list --adapter ${name}\`)`,
      ),
    onError: (error, context) =>
      logger.error({ webhook: name, err: error instanceof Error ? error.message : String(error) }, context),
    send,
  });
  return { name, config, worker };
}
