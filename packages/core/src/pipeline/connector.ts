import { performance } from 'node:perf_hooks';
import type { AdapterContext, AdapterState } from '../adapter/contract.js';
import type { CallTrackerOptions } from '../calls/call-tracker.js';
import { createSeenCallJournal } from '../healing/journal.js';
import { type Logger, silentLogger } from '../logger.js';
import type { KeyValueStore, Store } from '../store/types.js';
import { type CallCounters, createCallHandler } from './call-handler.js';
import { type ConnectorEmitter, createConnectorEmitter, errorSummary } from './connector-events.js';
import { validateConnectorOptions } from './connector-options.js';
import type { DeliveryWorker } from './delivery.js';
import { createDeliveryWorkers, type DeliveryCounters } from './delivery-workers.js';
import { tokenTag } from './idempotency.js';
import { createLookupCache, type LookupCache } from './lookup-cache.js';
import { createOutboxWriter, type OutboxWriter } from './outbox-writer.js';
import { createRouting } from './routing.js';
import { realSleep } from './timing.js';
import { TrackerLoop } from './tracker-loop.js';
import type { Connector, ConnectorOptions, ConnectorStats } from './types.js';

export { idempotencyKey, tokenTag } from './idempotency.js';
export { DEFAULT_POLICIES } from './routing.js';

/** An {@link AdapterState} over the store's key-value state, namespaced by adapter name. */
export function kvAdapterState(kv: KeyValueStore, namespace: string, clock: () => number): AdapterState {
  return {
    get: (key) => kv.get(namespace, key, clock()),
    set: (key, value, options) =>
      kv.set(namespace, key, value, {
        ...(options?.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
        now: clock(),
      }),
    delete: (key) => kv.delete(namespace, key),
  };
}

/**
 * The connector's default settle window (ms): a call whose end was seen waits this long (and never
 * past the next poll) for late events of its own before it is logged.
 */
export const DEFAULT_SETTLE_MS = 3_000;

/**
 * Creates the pipeline: OVH events → {@link CallTracker} → screen pops and CRM activities.
 *
 * - Routing: each token's calls go to every adapter of its route (fan-out); lookups try the
 *   adapters in order and the first with a match wins the screen pop (the others still log the
 *   call, attached to their own match).
 * - Screen pop on ringing (and on an outbound call's start), with a short-TTL lookup cache so that a
 *   ring and its end cost one lookup. Lookups run beside the stream: a slow CRM never holds back
 *   other calls' screen pops.
 * - On a call's end: one outbox entry per adapter is written to the store **before** any delivery;
 *   delivery workers (one per adapter) then deliver with retries, backoff and rate limits, and give
 *   up into dead letters that can be listed and replayed.
 * - Policies: unknown caller, internal calls, missed-call follow-up, queue sessions; owner mapping
 *   from OVH line or queue agent to a CRM user id per adapter.
 * - The tracker snapshot is saved on `stop()` and by the housekeeping timer, and restored on
 *   `start()`; pending outbox entries resume on `start()`.
 *
 * Throws a descriptive error when the routes are invalid (e.g. two different adapters under one name).
 */
export function createConnector(options: ConnectorOptions): Connector {
  validateConnectorOptions(options);
  const { store } = options;
  const clock = options.clock ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const routing = createRouting(options.routes, options.policies);
  const events = createConnectorEmitter(logger);
  const counters: ConnectorCounters = {
    events: 0,
    calls: 0,
    queueSessions: 0,
    screenPops: 0,
    delivered: 0,
    retries: 0,
    deadLetters: 0,
    strayEnds: 0,
  };
  const contextOf = adapterContexts(routing.targets.keys(), store, logger, clock);
  const cache = createLookupCache({ clock, ttlMs: options.lookupCacheTtlMs ?? 60_000, contextOf });
  const workers = createDeliveryWorkers({
    routing,
    cache,
    store,
    contextOf,
    delivery: options.delivery,
    clock,
    sleep: options.sleep ?? realSleep,
    random: options.random ?? Math.random,
    logger,
    events,
    counters,
  });
  const writer = createOutboxWriter({
    outbox: store.outbox,
    logger,
    clock,
    maxUnwritten: options.maxUnwrittenEntries ?? 10_000,
    onWritten: (entry) => workers.get(entry.adapter)?.notify(),
    report: (error, context) => events.report(error, context),
  });
  const handler = createCallHandler({
    routing,
    cache,
    writer,
    journal: createSeenCallJournal(store.kv, tokenTag),
    events,
    counters,
    logger,
    clock,
    lookupTimeoutMs: options.lookupTimeoutMs ?? 3_000,
  });
  const loop = new TrackerLoop({
    stream: options.stream,
    snapshots: store.snapshots,
    snapshotKey: options.snapshotKey ?? 'tracker',
    snapshotDelayMs: options.snapshotDelayMs ?? 1_000,
    inbox: options.inbox,
    trackerOptions: trackerOptionsOf(options, clock, logger),
    handle: (list, arrivedAt) => handler.handle(list, arrivedAt),
    onEvent: () => counters.events++,
    report: (error, context) => events.report(error, context),
  });
  return new PipelineConnector({
    options,
    store,
    clock,
    logger,
    events,
    counters,
    cache,
    workers,
    writer,
    loop,
    pending: handler.pending,
  });
}

/** Each adapter's context: its own child logger and its state namespaced in the store. */
function adapterContexts(
  names: Iterable<string>,
  store: Store,
  logger: Logger,
  clock: () => number,
): (name: string) => AdapterContext {
  const contexts = new Map<string, AdapterContext>();
  for (const name of names) {
    contexts.set(name, {
      logger: logger.child({ adapter: name }),
      state: kvAdapterState(store.kv, name, clock),
    });
  }
  return (name) => contexts.get(name) as AdapterContext;
}

/**
 * The tracker's options: the connector's clock, {@link DEFAULT_SETTLE_MS}, and a warning (once a
 * minute at most) when a stream opening calls that never end makes the tracker drop the oldest;
 * then the connector's own tracker options.
 */
function trackerOptionsOf(
  options: ConnectorOptions,
  clock: () => number,
  logger: Logger,
): CallTrackerOptions {
  let droppedSinceWarning = 0;
  let lastDropWarning = Number.NEGATIVE_INFINITY;
  return {
    clock,
    settleMs: DEFAULT_SETTLE_MS,
    // a stream opening calls that never end: memory stays bounded, and it is said (once a minute)
    onDropped: (what: string, id: string) => {
      droppedSinceWarning++;
      const now = clock();
      if (now - lastDropWarning < 60_000) return;
      lastDropWarning = now;
      logger.warn(
        { what, id: id.slice(0, 64), dropped: droppedSinceWarning },
        'too many calls in flight (a broken or hostile stream?): the oldest are dropped',
      );
      droppedSinceWarning = 0;
    },
    ...options.tracker,
  };
}

/** The counters of a connector's stats that its parts count. */
interface ConnectorCounters extends CallCounters, DeliveryCounters {
  /** Events read from the stream. */
  events: number;
}

/** The parts a {@link PipelineConnector} composes. */
interface ConnectorParts {
  readonly options: ConnectorOptions;
  readonly store: Store;
  readonly clock: () => number;
  readonly logger: Logger;
  readonly events: ConnectorEmitter;
  readonly counters: ConnectorCounters;
  readonly cache: LookupCache;
  readonly workers: ReadonlyMap<string, DeliveryWorker>;
  readonly writer: OutboxWriter;
  readonly loop: TrackerLoop;
  /** The screen pops in flight. */
  readonly pending: () => ReadonlySet<Promise<void>>;
}

/** The {@link Connector} over its parts: lifecycle, timers, drain and stats. */
class PipelineConnector implements Connector {
  readonly #p: ConnectorParts;
  #started = false;
  #consumed: Promise<void> = Promise.resolve();
  #timers: Array<ReturnType<typeof setInterval>> = [];
  readonly outbox: Connector['outbox'];

  constructor(parts: ConnectorParts) {
    this.#p = parts;
    const { store, clock, workers } = parts;
    this.outbox = {
      listDeadLetters: (filter = {}) => store.outbox.list({ ...filter, status: 'dead' }),
      async replayDeadLetters(filter = {}) {
        const count = await store.outbox.requeue({ ...filter, status: 'dead' }, clock());
        for (const worker of workers.values()) worker.notify();
        return count;
      },
      counts: (adapter) => store.outbox.counts(adapter),
    };
  }

  on: Connector['on'] = (event, listener) => this.#p.events.on(event, listener);

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const { loop, workers, options } = this.#p;
    await loop.restore();
    for (const worker of workers.values()) worker.start();
    this.#consumed = loop.consume();
    this.#startTimers(options);
  }

  #startTimers(options: ConnectorOptions): void {
    const { loop, workers, writer, events } = this.#p;
    const every = (ms: number, run: () => void) => {
      const timer = setInterval(run, ms);
      timer.unref?.();
      this.#timers.push(timer);
    };
    const housekeepingMs = options.housekeepingIntervalMs ?? 30_000;
    if (housekeepingMs > 0) {
      every(housekeepingMs, () => {
        loop.tick().catch((error: unknown) => events.report(error, 'housekeeping failed'));
      });
    }
    const settleMs = loop.settleMs;
    if (settleMs > 0) {
      every(Math.min(500, settleMs), () => {
        if (loop.tracker.settling() > 0)
          loop.settle().catch((error: unknown) => events.report(error, 'settling failed'));
      });
    }
    const outboxPollMs = options.outboxPollIntervalMs ?? 2_000;
    if (outboxPollMs > 0) {
      // Another process may have made entries due (`outbox retry`): idle workers look again.
      every(outboxPollMs, () => {
        for (const worker of workers.values()) worker.notify();
        if (writer.unwritten().length > 0) writer.writeUnwritten().catch(() => {});
      });
    }
  }

  async stop(): Promise<void> {
    const { loop, workers, writer, logger } = this.#p;
    if (loop.stopping) return;
    loop.halt();
    for (const timer of this.#timers) clearInterval(timer);
    // Never started: nothing ran, and an empty tracker must not overwrite a saved snapshot.
    if (!this.#started) return;
    // Ask the stream to finish; do not wait for a long poll in flight.
    loop.closeStream();
    await loop.handling;
    await Promise.all([...workers.values()].map((worker) => worker.stop()));
    await writer.writeUnwritten().catch((error: unknown) => {
      const unwritten = writer.unwritten();
      logger.error(
        { err: errorSummary(error), ids: unwritten.map((entry) => entry.id) },
        `stopping with ${unwritten.length} outbox entries the state store refused: they are lost (free space on its disk)`,
      );
    });
    await loop.saveSnapshot();
  }

  async drain(): Promise<void> {
    if (!this.#started) throw new Error('drain() needs a started connector: call start() first');
    const { loop, workers, writer, store, pending } = this.#p;
    await this.#consumed;
    await loop.handling;
    // the stream ended: no late event can come for the calls still settling
    await loop.settle(true);
    for (;;) {
      if (writer.unwritten().length > 0) {
        // the store refuses writes: look again shortly (the caller bounds how long it waits)
        const written = await writer.writeUnwritten().catch(() => false);
        if (!written) {
          if (loop.stopping) return;
          await new Promise((resolve) => setTimeout(resolve, 200));
          continue;
        }
      }
      await Promise.all([...pending()]);
      await Promise.all([...workers.values()].map((worker) => worker.whenIdle()));
      // Only this connector's adapters: other targets may share the store (webhooks, other runners).
      let waiting = 0;
      for (const name of workers.keys()) waiting += (await store.outbox.counts(name)).pending;
      if (waiting === 0 && pending().size === 0 && writer.unwritten().length === 0) return;
      if (loop.stopping) return;
      for (const worker of workers.values()) worker.notify();
    }
  }

  tick: Connector['tick'] = () => this.#p.loop.tick();

  adopt: Connector['adopt'] = (key, tokens, adoptOptions) =>
    this.#p.loop.adopt(key, tokens, adoptOptions?.carryTo);

  handOver: Connector['handOver'] = (tokens, snapshotKeyOf, handOptions = {}) =>
    this.#p.loop.handOver(tokens, snapshotKeyOf, handOptions.save !== false);

  async ingest(call: Parameters<Connector['ingest']>[0]): Promise<void> {
    if (call.state !== 'ended') throw new Error('ingest() takes ended calls');
    const { loop } = this.#p;
    await loop.handling;
    await loop.handle([{ type: 'call.ended', call }], performance.now());
  }

  activeCalls: Connector['activeCalls'] = () => this.#p.loop.tracker.activeCalls();

  stats(): ConnectorStats {
    const { counters, cache, loop, writer } = this.#p;
    const { lookups, hits } = cache.stats();
    return {
      events: counters.events,
      calls: counters.calls,
      queueSessions: counters.queueSessions,
      screenPops: counters.screenPops,
      lookups,
      lookupCacheHits: hits,
      delivered: counters.delivered,
      retries: counters.retries,
      deadLetters: counters.deadLetters,
      strayEnds: counters.strayEnds,
      inFlight: loop.tracker.inFlight(),
      unwritten: writer.unwritten().length,
      unwrittenDropped: writer.dropped(),
    };
  }
}
