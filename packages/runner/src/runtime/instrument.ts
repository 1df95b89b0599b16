import type { Connector } from '@cti-bridge/core';
import type { RunnerLogger } from '../ops/logger.js';
import type { RunnerMetrics } from '../ops/metrics.js';
import { logScreenPop } from '../ops/screen-pop-log.js';
import { maskToken } from '../ops/secrets.js';

/** Counts what the connector reports, and logs it. */
export function instrument(connector: Connector, metrics: RunnerMetrics, logger: RunnerLogger): void {
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
