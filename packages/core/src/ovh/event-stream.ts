import type { Dispatcher } from 'undici';
import { maskToken } from '../adapter-kit/redact.js';
import { DEFAULT_COUNTRY, DEFAULT_OVH_EVENTS_URL, DEFAULT_POLL_TIMEOUT_MS } from '../config/defaults.js';
import { type Logger, silentLogger } from '../logger.js';
import type { CursorStore } from '../store/types.js';
import type { BackoffOptions } from './backoff.js';
import { ClippedFieldWarning } from './clip-warning.js';
import { createDeduplicator } from './dedupe.js';
import { EventQueue } from './event-queue.js';
import { HandOutTracker } from './hand-out.js';
import { Agent } from './http.js';
import { startSilenceWatchdog } from './silence-watchdog.js';
import { createStreamSignals, letLoopsEnd } from './stream-lifecycle.js';
import { StreamListeners } from './stream-listeners.js';
import { TokenLoop, type TokenLoopShared } from './token-loop.js';
import type { OvhEvent } from './types.js';

export { type BackoffOptions, backoffDelay } from './backoff.js';
export { sortByEventTime } from './event-order.js';
export { MAX_KEPT_ANSWER_CHARS } from './token-loop.js';

/** Options of {@link createEventStream}. */
export interface EventStreamOptions {
  /** Event tokens to follow, one long-poll loop each. Duplicates are ignored. */
  readonly tokens: readonly string[];
  /** Default `https://events.voip.ovh.net`. */
  readonly baseUrl?: string;
  /**
   * Client timeout of one poll. The server holds a poll about 60 s; a poll that times out is a
   * normal empty poll, not an error. Default 65,000 ms.
   */
  readonly pollTimeoutMs?: number;
  /**
   * Largest poll answer read, in bytes (default 4 MiB; a real answer holds a few events). A longer
   * or endless answer is cut, counted as a failed poll (backoff) and reported: a broken or hostile
   * server cannot make the process grow without bound.
   */
  readonly maxResponseBytes?: number;
  /** Country for national numbers. Default `FR`. */
  readonly defaultCountry?: string;
  /** Where the `Session` cursor of each token is loaded from and saved to. */
  readonly cursors?: CursorStore;
  readonly logger?: Logger;
  /** Aborting it closes the stream, like {@link EventStream.close}. */
  readonly signal?: AbortSignal;
  /** A token with no event for this long is reported `silent`. Default 10 minutes. 0 disables. */
  readonly watchdogMs?: number;
  readonly backoff?: BackoffOptions;
  /** How many recent event keys are remembered to drop re-deliveries. Default 10,000. */
  readonly dedupeWindow?: number;
  /**
   * Events held for the async iterator before the loops stop polling (back-pressure). A loop
   * finishes pushing the batch it received, then waits for room. Default 1,000.
   */
  readonly bufferSize?: number;
  /** An undici dispatcher to use instead of the stream's own Agent (it is then not closed). */
  readonly dispatcher?: Dispatcher;
  /** Randomness for the backoff jitter, in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
  /** Wall clock in epoch ms, for stats and the watchdog. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * Where each answer's raw events are kept before they are handed out (see {@link EventInbox}):
   * OVH v1 has no acknowledgement, so events answered to a poll just before a crash are gone unless
   * kept. Without it, what the consumer had not saved yet is lost in a crash.
   */
  readonly inbox?: EventInbox;
}

/**
 * Durable keeping of received events until the consumer has saved what it made of them. The stream
 * keeps each non-empty answer before handing its events out, says when the consumer has taken all
 * of them (it asked for the next event), and on start hands out again what is still kept (received
 * before a crash, maybe not saved): the consumer must take a repeated event calmly (the call
 * tracker does). Who releases kept answers, and when (after a snapshot), is the inbox's business.
 */
export interface EventInbox {
  /**
   * Keeps one answer's raw events; resolves with its id once they are durable. Resolves with
   * `null` when the answer was kept for another consumer (several runners: the token's lease went
   * to another runner while this poll ran): the stream then does not hand those events out, the
   * token's new holder does (see {@link EventInbox.late}).
   */
  keep(token: string, events: readonly unknown[]): Promise<number | null>;
  /** What is still kept for a token, oldest first. */
  pending(
    token: string,
  ): Promise<ReadonlyArray<{ readonly id: number; readonly events: readonly unknown[] }>>;
  /**
   * Answers kept for this consumer by another since {@link EventInbox.pending} or the last call
   * (several runners: the token's previous holder received them after it lost the token). The
   * stream asks before each poll and hands them out like the answers kept before a restart.
   */
  late?(token: string): Promise<ReadonlyArray<{ readonly id: number; readonly events: readonly unknown[] }>>;
  /** The consumer has taken every event of answer `id` (it asked for the one after). */
  handedOut(id: number): void;
}

/** Per-token counters. */
export interface TokenStats {
  /** Polls completed (answered, timed out or failed). */
  polls: number;
  /** Events delivered (after de-duplication). */
  events: number;
  /** Events dropped as re-deliveries. */
  duplicates: number;
  /** Events that failed validation (reported on `invalid`, skipped). */
  invalid: number;
  /** Failed polls: HTTP errors, non-JSON bodies, network errors. */
  errors: number;
  /** Failed polls since the last good one. */
  consecutiveErrors: number;
  /** Times the server answered with a session other than the one echoed. */
  sessionChanges: number;
  /** When the last event was delivered (epoch ms). */
  lastEventAt?: number;
  /** When the last poll completed (epoch ms). */
  lastPollAt?: number;
  /** When the last error happened (epoch ms). */
  lastErrorAt?: number;
  /** What the last error was (log-safe: no token). */
  lastError?: string;
  /** True while the watchdog considers the token silent. */
  silent: boolean;
  /**
   * True while the token's loop is held by back-pressure: the iterator's buffer is full (see
   * {@link EventStreamOptions.bufferSize}), and the loop sends no poll until the consumer takes
   * events (or the stream finishes or closes). True for long means a consumer that does not keep up.
   */
  waitingForRoom: boolean;
}

/** Payload of the `invalid` event. */
export interface InvalidEventReport {
  readonly token: string;
  readonly error: string;
  readonly raw: unknown;
}

/** Payload of the `poll-error` event. */
export interface PollErrorReport {
  readonly token: string;
  readonly error: string;
  /** HTTP status when the server answered. */
  readonly status?: number;
  /** Consecutive failures so far, this one included. */
  readonly attempt: number;
  /** How long the loop waits before polling again. */
  readonly retryInMs: number;
}

/** Payload of the `silent` event. */
export interface SilentTokenReport {
  readonly token: string;
  /** How long the token has gone without an event (ms). */
  readonly silentForMs: number;
  readonly lastEventAt?: number;
}

/** Listener signatures of an {@link EventStream}. */
export interface EventStreamEvents {
  /** A normalised, de-duplicated event. */
  event: (event: OvhEvent) => void;
  /** An event that failed validation; it was skipped. */
  invalid: (report: InvalidEventReport) => void;
  /** A failed poll; the loop backs off and retries. */
  'poll-error': (report: PollErrorReport) => void;
  /** A token went without events for `watchdogMs`. */
  silent: (report: SilentTokenReport) => void;
}

/**
 * The OVH v1 event stream for a set of tokens: an async iterable of normalised, de-duplicated
 * events, and a typed emitter. Iterate it (single consumer), or listen to `event`.
 *
 * Buffering: events are queued for the iterator (bounded by `bufferSize`, with back-pressure on the
 * polling loops). When no iterator was ever created and `event` listeners exist, events go to the
 * listeners only and nothing is queued. Breaking out of a `for await` does not close the stream:
 * call {@link EventStream.close}.
 */
export interface EventStream extends AsyncIterable<OvhEvent> {
  /** Adds a listener: `event` (each delivered event), `invalid`, `poll-error`, `silent`. */
  on<K extends keyof EventStreamEvents>(name: K, listener: EventStreamEvents[K]): this;
  /** Removes a listener added with {@link EventStream.on}. */
  off<K extends keyof EventStreamEvents>(name: K, listener: EventStreamEvents[K]): this;
  /** Counters per token (a copy). */
  stats(): Record<string, TokenStats>;
  /** Stops every loop, aborts polls in flight, ends the iterator. Resolves once all loops ended. */
  close(): Promise<void>;
  /**
   * Stops polling without cutting the polls in flight: each ends as the server answers (its events
   * kept in the inbox, the cursor saved), aborted only past `graceMs`; then {@link close}. OVH v1
   * has no acknowledgement: an answer sent just as its poll is aborted is gone, so a runner that
   * gives a token up finishes its poll first.
   */
  finish(graceMs: number): Promise<void>;
  /** True once closed. */
  readonly closed: boolean;
}

/**
 * Follows OVH CTI v1 event tokens: `GET {baseUrl}/?token=T&session=S` in one loop per token, all
 * sharing one undici Agent. Each answer's non-empty `Session` is echoed on the next poll (and saved
 * to `cursors`), so events that arrive between two polls are not lost. A client timeout is an
 * empty poll. HTTP errors, non-JSON bodies and network errors back off with full jitter (capped);
 * bad events are reported on `invalid` and skipped; re-delivered events are dropped; a token silent
 * longer than `watchdogMs` is reported on `silent`. `close()` (or the `signal`) stops everything at
 * once, polls in flight included.
 */
export function createEventStream(options: EventStreamOptions): EventStream {
  const tokens = [...new Set(options.tokens)];
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const queue = new EventQueue(Math.max(1, options.bufferSize ?? 1000));
  const ownAgent = options.dispatcher
    ? undefined
    : new Agent({ keepAliveTimeout: 10_000, connect: { timeout: 10_000 } });
  const signals = createStreamSignals();
  const listeners = new StreamListeners(logger);
  const startedAt = now();
  const stats = new Map<string, TokenStats>(tokens.map((token) => [token, newTokenStats()]));
  let iteratorCreated = false;
  const handOut = new HandOutTracker(options.inbox);
  let closed = false;
  let closing: Promise<void> | undefined;
  const shared: TokenLoopShared = {
    ...loopSettings(options),
    now,
    dispatcher: options.dispatcher ?? (ownAgent as Dispatcher),
    deduper: createDeduplicator(options.dedupeWindow ?? 10_000),
    queue,
    listeners,
    handOut,
    clipped: new ClippedFieldWarning(now),
    signals,
    shouldQueue: () => iteratorCreated || listeners.eventListenerCount === 0,
  };

  const loops = startTokenLoops(tokens, shared, stats, logger);

  const watchdogMs = options.watchdogMs ?? 10 * 60_000;
  const watchdog = startSilenceWatchdog({ watchdogMs, now, startedAt, stats, logger, listeners });

  const close = (): Promise<void> => {
    if (closing) return closing;
    closed = true;
    signals.controller.abort();
    if (watchdog) clearInterval(watchdog);
    queue.end();
    closing = (async () => {
      await Promise.all(loops);
      if (ownAgent) await ownAgent.destroy().catch(() => {});
    })();
    return closing;
  };

  const finish = async (graceMs: number): Promise<void> => {
    if (!closed) await letLoopsEnd(signals, loops, graceMs, queue, () => iteratorCreated);
    await close();
  };

  if (options.signal) {
    if (options.signal.aborted) void close();
    else options.signal.addEventListener('abort', () => void close(), { once: true });
  }

  return exposeStream({
    listeners,
    stats,
    close,
    finish,
    isClosed: () => closed,
    iterate: () => {
      iteratorCreated = true;
      return queueIterator(queue, handOut);
    },
  });
}

/** Starts one loop per token; a loop that crashes is logged, and its promise resolves anyway. */
function startTokenLoops(
  tokens: readonly string[],
  shared: TokenLoopShared,
  stats: ReadonlyMap<string, TokenStats>,
  logger: Logger,
): Promise<void>[] {
  return tokens.map((token) =>
    // Started on a later tick so that listeners attached right after creation see every event.
    Promise.resolve()
      .then(() => {
        const log = logger.child({ token: maskToken(token) });
        return new TokenLoop(shared, token, log, stats.get(token) as TokenStats).run();
      })
      .catch((error: unknown) => {
        logger.error(
          { token: maskToken(token), err: error instanceof Error ? error.message : String(error) },
          'event loop crashed',
        );
      }),
  );
}

/** The settings of the token loops taken from the options, defaults applied. */
function loopSettings(options: EventStreamOptions) {
  return {
    baseUrl: (options.baseUrl ?? DEFAULT_OVH_EVENTS_URL).replace(/\/+$/, ''),
    pollTimeoutMs: options.pollTimeoutMs ?? DEFAULT_POLL_TIMEOUT_MS,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    defaultCountry: options.defaultCountry ?? DEFAULT_COUNTRY,
    backoff: options.backoff ?? {},
    random: options.random ?? Math.random,
    cursors: options.cursors,
    inbox: options.inbox,
  };
}

/** The counters of a token that has not polled yet. */
function newTokenStats(): TokenStats {
  return {
    polls: 0,
    events: 0,
    duplicates: 0,
    invalid: 0,
    errors: 0,
    consecutiveErrors: 0,
    sessionChanges: 0,
    silent: false,
    waitingForRoom: false,
  };
}

/** An iterator over the queued events that tells the hand-out tracker what the consumer took. */
function queueIterator(queue: EventQueue, handOut: HandOutTracker): AsyncIterator<OvhEvent> {
  return {
    next: () => {
      // asking for the next event means the previous one was taken
      handOut.consumerAsked();
      return queue.next();
    },
    // Leaving a `for await` early detaches this iterator; the stream keeps running (and
    // queueing) until close(), so another iterator can pick up where this one left.
    return: async () => ({ value: undefined, done: true }),
  };
}

/** What {@link exposeStream} wraps. */
interface StreamParts {
  readonly listeners: StreamListeners;
  readonly stats: ReadonlyMap<string, TokenStats>;
  readonly close: () => Promise<void>;
  readonly finish: (graceMs: number) => Promise<void>;
  readonly isClosed: () => boolean;
  /** Marks that an iterator exists and returns it. */
  readonly iterate: () => AsyncIterator<OvhEvent>;
}

/** The public face of a stream over its parts. */
function exposeStream(parts: StreamParts): EventStream {
  const { listeners, stats } = parts;
  const stream: EventStream = {
    on(name, listener) {
      listeners.add(name, listener);
      return stream;
    },
    off(name, listener) {
      listeners.remove(name, listener);
      return stream;
    },
    stats() {
      const out: Record<string, TokenStats> = {};
      for (const [token, s] of stats) out[token] = { ...s };
      return out;
    },
    close: parts.close,
    finish: parts.finish,
    get closed() {
      return parts.isClosed();
    },
    [Symbol.asyncIterator]: parts.iterate,
  };
  return stream;
}

/** Default of {@link EventStreamOptions.maxResponseBytes}: 4 MiB. */
const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
