import {
  AdapterError,
  type Connector,
  type CrmAdapter,
  DEFAULT_DELIVERY,
  DeliveryWorker,
  decodePayload,
  kvAdapterState,
  type Logger,
  type Store,
  tokenTag,
} from '@cti-bridge/core';
import type { BoardMatch } from '../board/model.js';
import { givenSettings } from '../config/given.js';
import {
  WEBHOOK_SCHEMA_VERSION,
  type WebhookCallData,
  type WebhookEnvelope,
  type WebhookLoggedData,
  type WebhookQueueData,
  webhookCall,
  webhookSession,
} from './payloads.js';
import { subscribes, type WebhookConfig, type WebhookEventType } from './schema.js';
import { type WebhookEntryPayload, webhookSender } from './sender.js';

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
  const sleep = options.sleep ?? realSleep;
  const contacts = new Map<string, BoardMatch[]>();
  const targets = options.webhooks.map((config, index) => {
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
  });

  const enqueue = (type: WebhookEventType, subject: string, occurredAt: Date, data: unknown, suffix = '') => {
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

  const unsubscribe = [
    connector.on('screen-pop', (pop) => {
      const found = pop.matches.map(
        (m): BoardMatch => ({
          crm: pop.adapter ?? '',
          name: m.displayName,
          ...(m.companyName !== undefined ? { company: m.companyName } : {}),
          recordType: m.recordType,
          url: m.url,
          ambiguous: m.ambiguous,
        }),
      );
      if (contacts.size > 10_000) contacts.clear();
      contacts.set(pop.call.id, found);
      const data: WebhookCallData = { call: webhookCall(pop.call), contacts: found };
      enqueue('call.ringing', `${tokenTag(pop.token)}:${pop.call.id}`, pop.call.startedAt, data);
    }),
    connector.on('call-event', (event) => {
      switch (event.type) {
        case 'call.answered':
        case 'call.ended': {
          const data: WebhookCallData = {
            call: webhookCall(event.call),
            contacts: contacts.get(event.call.id) ?? [],
          };
          if (event.type === 'call.ended') contacts.delete(event.call.id);
          const at =
            (event.type === 'call.ended' ? event.call.endedAt : event.call.answeredAt) ??
            event.call.startedAt;
          enqueue(event.type, `${tokenTag(event.call.token)}:${event.call.id}`, at, data);
          break;
        }
        case 'queue.joined':
        case 'queue.offered':
        case 'queue.answered':
        case 'queue.left': {
          const session = event.session;
          const data: WebhookQueueData = {
            session: webhookSession(session),
            ...(event.type === 'queue.offered' ? { agent: event.agent } : {}),
          };
          const at =
            event.type === 'queue.left'
              ? (session.leftAt ?? session.joinedAt)
              : event.type === 'queue.answered'
                ? (session.answeredAt ?? session.joinedAt)
                : event.type === 'queue.offered'
                  ? new Date(clock())
                  : session.joinedAt;
          enqueue(
            event.type,
            `${tokenTag(session.token)}:${session.memberUuid}`,
            at,
            data,
            event.type === 'queue.offered' ? `:${event.agent}` : '',
          );
          break;
        }
        default:
          break;
      }
    }),
    connector.on('delivered', (delivered) => {
      if (delivered.entry.kind !== 'log-call') return;
      // The call is in the entry's payload; its id (`<adapter>:<token tag>:<call id>:log-call`) says
      // the same, for a payload that cannot be read.
      const id = delivered.entry.id;
      let tag = id.slice(delivered.adapter.length + 1, delivered.adapter.length + 13);
      let callId = id.slice(delivered.adapter.length + 14, id.length - ':log-call'.length);
      try {
        const call = decodePayload(delivered.entry.payload).call;
        if (call) {
          callId = call.callId;
          tag = tokenTag(call.token);
        }
      } catch {
        // keep what the id says
      }
      const result = delivered.result;
      const data: WebhookLoggedData = {
        callId,
        tokenTag: tag,
        crm: delivered.adapter,
        ...('skipped' in result
          ? { skipped: result.skipped }
          : {
              activity: {
                id: result.id,
                ...(result.url !== undefined ? { url: result.url } : {}),
                created: result.created,
              },
            }),
      };
      enqueue(
        'call.logged',
        `${tag}:${callId}`,
        new Date(delivered.entry.updatedAt),
        data,
        `:${delivered.adapter}`,
      );
    }),
  ];

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
