import type { Connector, CrmAdapter, EventStream, Store } from '@cti-bridge/core';
import type { Board } from '../board/board.js';
import type { LeasedPolling } from '../cluster/cluster.js';
import type { HttpServer } from '../ops/http.js';
import type { RequestDeadlines } from '../ops/http-agents.js';
import type { RunnerLogger } from '../ops/logger.js';
import type { Webhooks } from '../webhooks/webhooks.js';

/** Whether `promise` settled within `ms`. */
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

/** Everything a runner stops, in the order it stops them. */
export interface StoppableParts {
  readonly healing: { stop(): void } | undefined;
  readonly cluster: LeasedPolling | undefined;
  readonly stream: EventStream | undefined;
  readonly connector: Connector;
  readonly webhooks: Webhooks | undefined;
  readonly board: Board | undefined;
  readonly requestDeadlines: RequestDeadlines;
  readonly adapters: ReadonlyMap<string, CrmAdapter>;
  readonly http: HttpServer | undefined;
  readonly store: Store;
  readonly logger: RunnerLogger;
}

/** The runner's graceful, idempotent stop (see `Runner.stop`). */
export function createStop(parts: StoppableParts): (timeoutMs?: number) => Promise<void> {
  let stopping: Promise<void> | undefined;
  return (timeoutMs = 10_000): Promise<void> => {
    stopping ??= stopRunner(parts, timeoutMs);
    return stopping;
  };
}

/** Stops polling, drains the deliveries (up to `timeoutMs`), then closes everything. */
async function stopRunner(parts: StoppableParts, timeoutMs: number): Promise<void> {
  const { healing, cluster, stream, connector, webhooks, board, requestDeadlines, http, store, logger } =
    parts;
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
    logger.warn({}, 'webhook deliveries still pending at shutdown: kept in the outbox for the next start');
  }
  await webhooks?.stop();
  await board?.close();
  // requests still hanging on a CRM fail now: nothing of theirs is lost (their entries are pending)
  requestDeadlines.close();
  await closeAdapters(parts.adapters, timeoutMs, logger);
  await http?.close();
  await store.close();
}

/** Closes the adapters, giving them `min(timeoutMs, 5 s)`. */
async function closeAdapters(
  adapters: ReadonlyMap<string, CrmAdapter>,
  timeoutMs: number,
  logger: RunnerLogger,
): Promise<void> {
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
}
