import type { Connector, Store } from '@cti-bridge/core';
import { type Board, createBoard } from '../board/board.js';
import { labeller } from '../board/labels.js';
import { boardEnabled, type CtiConfig } from '../config/schema.js';
import type { Route } from '../di.js';
import type { RunnerLogger } from '../ops/logger.js';
import { registerSecret } from '../ops/secrets.js';
import { createWebhooks, type Webhooks } from '../webhooks/webhooks.js';

/** What the board and the webhooks of a runner are built from. */
export interface SubscriberParts {
  readonly connector: Connector;
  readonly store: Store;
  readonly clock: () => number;
  readonly logger: RunnerLogger;
}

/** The live board when the HTTP config serves it (a warning when it is left off for safety). */
export async function startBoard(
  config: CtiConfig,
  httpConfig: CtiConfig['http'],
  routes: Record<string, Route>,
  parts: SubscriberParts,
): Promise<Board | undefined> {
  const { connector, store, clock, logger } = parts;
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
  return board;
}

/** The webhook subscribers' delivery, started, when the config has webhooks. */
export function startWebhooks(config: CtiConfig, parts: SubscriberParts): Webhooks | undefined {
  const { connector, store, clock, logger } = parts;
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
  return webhooks;
}
