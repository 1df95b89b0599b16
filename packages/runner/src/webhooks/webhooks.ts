import type { Connector, Logger, Store } from '@cti-bridge/core';
import { subscribeWebhookEvents, type WebhookEnqueue } from './events.js';
import { WEBHOOK_SCHEMA_VERSION, type WebhookEnvelope } from './payloads.js';
import { subscribes, type WebhookConfig, type WebhookEventType } from './schema.js';
import type { WebhookEntryPayload } from './sender.js';
import { createWebhookTarget, type WebhookTarget } from './target.js';

/** Options of {@link createWebhooks}. */
export interface WebhooksOptions {
  readonly webhooks: readonly WebhookConfig[];
  readonly connector: Connector;
  /** The outbox the events are written to before any delivery. */
  readonly store: Store;
  readonly logger: Logger;
  /** Epoch ms (default `Date.now`). */
  readonly clock?: () => number;
  /** Waits between retries (default: timers). */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Period at which idle workers look at the outbox again (default 2 s; 0 disables). */
  readonly pollIntervalMs?: number;
}

/** The webhook subscribers' delivery. */
export interface Webhooks {
  /** Outbox adapter names, one per subscriber (`webhook.<name>`). */
  readonly targets: readonly string[];
  /** Starts the workers: pending entries of an earlier run are delivered too. */
  start(): void;
  /** Resolves when every subscriber's outbox is empty of pending entries. */
  whenIdle(): Promise<void>;
  /** Stops after the requests in flight; pending entries stay in the outbox for the next start. */
  stop(): Promise<void>;
}

/**
 * Webhooks through the durable outbox: each connector event a subscriber takes becomes one outbox
 * entry (kind `webhook`, adapter `webhook.<name>`, a stable id, the signed-to-be JSON body) written
 * to the store first, then delivered by core's {@link DeliveryWorker} — the same retries, backoff,
 * Retry-After, dead letters and `cti-runner outbox list/retry` as CRM writes. The id is the
 * idempotency key: an event enqueued twice (a restart replaying a call) is sent once, and receivers
 * deduplicate retries on the `cti-webhook-id` header.
 */
export function createWebhooks(options: WebhooksOptions): Webhooks {
  const { connector, store, logger } = options;
  const clock = options.clock ?? Date.now;
  const targets = options.webhooks.map((config, index) =>
    createWebhookTarget(config, index, { store, logger, clock, sleep: options.sleep }),
  );
  const unsubscribe = subscribeWebhookEvents(connector, webhookEnqueue(targets, store, logger, clock), clock);

  let poll: NodeJS.Timeout | undefined;
  return {
    targets: targets.map((t) => t.name),
    start() {
      for (const target of targets) {
        target.worker.start();
        target.worker.notify();
      }
      const every = options.pollIntervalMs ?? 2_000;
      if (every > 0 && poll === undefined) {
        // `cti-runner outbox retry` in another process makes dead letters due: look again.
        poll = setInterval(() => {
          for (const target of targets) target.worker.notify();
        }, every);
        poll.unref();
      }
    },
    async whenIdle() {
      await Promise.all(targets.map((t) => t.worker.whenIdle()));
    },
    async stop() {
      for (const off of unsubscribe) off();
      if (poll !== undefined) clearInterval(poll);
      await Promise.all(targets.map((t) => t.worker.stop()));
    },
  };
}

/** The {@link WebhookEnqueue} of the targets: one outbox entry per subscriber, then its worker is told. */
function webhookEnqueue(
  targets: readonly WebhookTarget[],
  store: Store,
  logger: Logger,
  clock: () => number,
): WebhookEnqueue {
  return (type: WebhookEventType, subject: string, occurredAt: Date, data: unknown, suffix = '') => {
    const createdAt = clock();
    for (const target of targets) {
      if (!subscribes(target.config.events, type)) continue;
      const id = `${target.name}:${subject}:${type}${suffix}`;
      const envelope: WebhookEnvelope = {
        version: WEBHOOK_SCHEMA_VERSION,
        id,
        type,
        occurredAt: occurredAt.toISOString(),
        data,
      };
      const payload: WebhookEntryPayload = { type, body: JSON.stringify(envelope) };
      store.outbox
        .enqueue({ id, adapter: target.name, kind: 'webhook', payload, createdAt })
        .then(() => target.worker.notify())
        .catch((error: unknown) =>
          logger.error(
            { webhook: target.name, id, err: error instanceof Error ? error.message : String(error) },
            'a webhook event could not be written to the outbox',
          ),
        );
    }
  };
}
