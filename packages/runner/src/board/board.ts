import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Connector, Logger, Store } from '@cti-bridge/core';
import { BoardHub, type BoardHubOptions } from './hub.js';
import type { Labeller } from './labels.js';
import { BoardModel } from './model.js';
import { boardRoutes } from './routes.js';
import { loadBoardFiles } from './static.js';

/** Options of {@link createBoard}. */
export interface BoardOptions {
  readonly connector: Connector;
  /** Where the board is kept across restarts (`kv` namespace `board`). */
  readonly store: Store;
  /** Adapter names per token (`*` for the rest), in lookup order. */
  readonly routes: Readonly<Record<string, readonly string[]>>;
  /** Configured labels of our lines and queues. */
  readonly labels?: Labeller;
  /** The secret a request must present (`http.boardToken`); none: every request may look. */
  readonly token?: string;
  readonly logger: Logger;
  readonly clock?: () => number;
  /** Tuning of the event stream (buffer, per-page memory, heartbeat). */
  readonly hub?: Omit<BoardHubOptions, 'snapshot'>;
  /** Debounce of saving the board to the store after a change (default 1 000 ms). */
  readonly saveDelayMs?: number;
}

/** The live board: its state, its event stream and its HTTP routes. */
export interface Board {
  readonly model: BoardModel;
  readonly hub: BoardHub;
  /** Serves `/`, `/board.js`, `/board.css`, `/board/state` and `/events`; false for other paths. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): boolean;
  /** Saves the board and ends every page's stream. */
  close(): Promise<void>;
}

const STATE_KEY = 'state';

/**
 * Builds the board from the connector's events (call changes, screen pops, deliveries, retries,
 * dead letters) and restores the one saved by the previous run, so a restarted runner shows the
 * recent calls and today's queue counts again. Call it before `connector.start()`.
 */
export async function createBoard(options: BoardOptions): Promise<Board> {
  const { connector, store, logger } = options;
  const clock = options.clock ?? Date.now;
  const files = loadBoardFiles();
  const model = new BoardModel({
    routes: options.routes,
    clock,
    labels: options.labels,
  });
  await restoreBoard(model, store, logger);
  const hub = new BoardHub({ ...options.hub, snapshot: () => model.snapshot() });

  let saveTimer: NodeJS.Timeout | undefined;
  const save = async () => {
    saveTimer = undefined;
    try {
      await store.kv.set('board', STATE_KEY, model.serialize());
    } catch (error) {
      logger.warn({ err: String(error) }, 'saving the live board failed');
    }
  };
  const saveDelayMs = options.saveDelayMs ?? 1_000;
  model.onChange((change) => {
    hub.publish(change);
    if (saveTimer === undefined) {
      saveTimer = setTimeout(() => void save(), saveDelayMs);
      saveTimer.unref();
    }
  });

  const unsubscribe = subscribeBoard(connector, model);

  return {
    model,
    hub,
    handle: boardRoutes(files, model, hub, options.token),
    async close() {
      for (const off of unsubscribe) off();
      if (saveTimer !== undefined) clearTimeout(saveTimer);
      await save();
      hub.close();
    },
  };
}

/** Restores the board the previous run saved (an unreadable one is left: the board starts empty). */
async function restoreBoard(model: BoardModel, store: Store, logger: Logger): Promise<void> {
  try {
    const saved = await store.kv.get('board', STATE_KEY);
    if (saved !== undefined) model.restore(saved);
  } catch (error) {
    logger.warn({ err: String(error) }, 'the saved live board could not be read; it starts empty');
  }
}

/** Feeds the board the connector's events; returns the unsubscribers. */
function subscribeBoard(connector: Connector, model: BoardModel): Array<() => void> {
  return [
    connector.on('call-event', (event) => model.applyCallEvent(event)),
    connector.on('screen-pop', (pop) => model.applyScreenPop(pop)),
    connector.on('delivered', (d) => {
      if (d.entry.kind === 'log-call') model.applyDelivered(d.entry.id, d.result);
    }),
    connector.on('delivery-retry', (r) => {
      if (r.entry.kind === 'log-call') model.applyRetry(r.entry.id);
    }),
    connector.on('dead-letter', (d) => {
      if (d.entry.kind === 'log-call') model.applyDead(d.entry.id);
    }),
  ];
}
