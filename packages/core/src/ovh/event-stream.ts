import { setMaxListeners } from 'node:events';
import type { Dispatcher } from 'undici';
import { maskToken } from '../adapter-kit/redact.js';
import { DEFAULT_COUNTRY, DEFAULT_OVH_EVENTS_URL, DEFAULT_POLL_TIMEOUT_MS } from '../config/defaults.js';
import { type Logger, silentLogger } from '../logger.js';
import type { CursorStore } from '../store/types.js';
import { createDeduplicator } from './dedupe.js';
import { Agent } from './http.js';
import { MAX_FIELD_LENGTH, normalizeEvent, takeClippedFieldCount } from './normalize.js';
import { pollOnce } from './poll.js';
import type { OvhEvent } from './types.js';

/** Backoff after a failed poll: full jitter over a capped exponential. */
export interface BackoffOptions {
  /** Base delay of the first retry. Default 1,000 ms. */
  readonly baseMs?: number;
  /** Cap of the exponential. Default 60,000 ms. */
  readonly maxMs?: number;
}

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

/**
 * The largest answer (in characters) an {@link EventInbox} keeps: a busy OVH answer is a few
 * kilobytes (about 700 bytes an event).
 */
export const MAX_KEPT_ANSWER_CHARS = 256 * 1024;

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
 * Delay before retry number `attempt` (1-based): full jitter, uniform in [0, min(max, base·2^(attempt−1))],
 * but never below half the base delay so that a server failing fast can never cause a tight loop.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random = Math.random): number {
  const base = options.baseMs ?? 1000;
  const max = Math.max(base, options.maxMs ?? 60_000);
  const cap = Math.min(max, base * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.max(base / 2, Math.floor(random() * cap));
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Bounded hand-off between the polling loops and the single async consumer. */
class EventQueue {
  private items: OvhEvent[] = [];
  private head = 0;
  private readers: Array<(result: IteratorResult<OvhEvent>) => void> = [];
  private spaceWaiters: Array<() => void> = [];
  private emptyWaiters: Array<() => void> = [];
  private ended = false;

  constructor(private readonly capacity: number) {}

  get length(): number {
    return this.items.length - this.head;
  }

  push(event: OvhEvent): void {
    if (this.ended) return;
    const reader = this.readers.shift();
    if (reader) {
      reader({ value: event, done: false });
      return;
    }
    this.items.push(event);
  }

  /** Resolves when the consumer has taken every event (or the queue has ended). */
  whenEmpty(): Promise<void> {
    if (this.ended || this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  /** Resolves when the queue has room (or has ended). */
  waitForRoom(): Promise<void> {
    if (this.ended || this.length < this.capacity) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  next(): Promise<IteratorResult<OvhEvent>> {
    if (this.length > 0) {
      const value = this.items[this.head] as OvhEvent;
      this.items[this.head] = undefined as unknown as OvhEvent;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      if (this.length < this.capacity) this.releaseWaiters();
      if (this.length === 0) for (const waiter of this.emptyWaiters.splice(0)) waiter();
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.readers.push(resolve));
  }

  end(): void {
    this.ended = true;
    this.items = [];
    this.head = 0;
    for (const reader of this.readers.splice(0)) reader({ value: undefined, done: true });
    this.releaseWaiters();
    for (const waiter of this.emptyWaiters.splice(0)) waiter();
  }

  private releaseWaiters(): void {
    for (const waiter of this.spaceWaiters.splice(0)) waiter();
  }
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
  const baseUrl = (options.baseUrl ?? DEFAULT_OVH_EVENTS_URL).replace(/\/+$/, '');
  const pollTimeoutMs = options.pollTimeoutMs ?? DEFAULT_POLL_TIMEOUT_MS;
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const defaultCountry = options.defaultCountry ?? DEFAULT_COUNTRY;
  const logger = options.logger ?? silentLogger;
  const watchdogMs = options.watchdogMs ?? 10 * 60_000;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const backoff = options.backoff ?? {};
  const deduper = createDeduplicator(options.dedupeWindow ?? 10_000);
  const queue = new EventQueue(Math.max(1, options.bufferSize ?? 1000));
  const ownAgent = options.dispatcher
    ? undefined
    : new Agent({ keepAliveTimeout: 10_000, connect: { timeout: 10_000 } });
  const dispatcher: Dispatcher = options.dispatcher ?? (ownAgent as Dispatcher);
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  // finish(): no new poll, no wait (backoff, back-pressure), but the polls in flight go on
  const finishing = new AbortController();
  setMaxListeners(0, finishing.signal);
  const pause = AbortSignal.any([controller.signal, finishing.signal]);
  // every token loop of the stream may be waiting on it at once (one backoff each)
  setMaxListeners(0, pause);
  const finishingNow = new Promise<void>((resolve) =>
    finishing.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  const listeners: { [K in keyof EventStreamEvents]: Set<EventStreamEvents[K]> } = {
    event: new Set(),
    invalid: new Set(),
    'poll-error': new Set(),
    silent: new Set(),
  };
  const startedAt = now();
  const stats = new Map<string, TokenStats>();
  for (const token of tokens) {
    stats.set(token, {
      polls: 0,
      events: 0,
      duplicates: 0,
      invalid: 0,
      errors: 0,
      consecutiveErrors: 0,
      sessionChanges: 0,
      silent: false,
    });
  }
  let iteratorCreated = false;
  // Kept answers not yet wholly taken by the consumer: `end` counts queued events up to the answer's
  // last; an event counts as taken when the consumer asks for the one after it.
  const inbox = options.inbox;
  const untaken: Array<{ readonly id: number; readonly end: number }> = [];
  let queuedTotal = 0;
  let taken = 0;
  let asked = 0;
  const releaseTaken = () => {
    while (untaken.length > 0 && (untaken[0] as { end: number }).end <= taken) {
      inbox?.handedOut((untaken.shift() as { id: number }).id);
    }
  };
  let clippedSinceWarning = 0;
  let lastClipWarning = Number.NEGATIVE_INFINITY;
  let closed = false;
  let closing: Promise<void> | undefined;

  function emit<K extends keyof EventStreamEvents>(name: K, ...args: Parameters<EventStreamEvents[K]>): void {
    for (const listener of listeners[name]) {
      try {
        (listener as (...a: Parameters<EventStreamEvents[K]>) => void)(...args);
      } catch (error) {
        logger.error(
          { err: error instanceof Error ? error.message : String(error), listener: name },
          'listener threw',
        );
      }
    }
  }

  const shouldQueue = () => iteratorCreated || listeners.event.size === 0;

  /** Keeps an answer in the inbox (when there is one) before its events are handed out. */
  async function keep(
    token: string,
    events: readonly unknown[],
    log: Logger,
  ): Promise<number | null | undefined> {
    if (!inbox) return undefined;
    try {
      return await inbox.keep(token, events);
    } catch (error) {
      log.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'could not keep the received events (a crash in the next seconds would lose them)',
      );
      return undefined;
    }
  }

  /** Saves a token's new session cursor; a store that fails costs a warning, not the stream. */
  async function saveCursor(token: string, session: string, log: Logger): Promise<void> {
    if (!options.cursors) return;
    try {
      await options.cursors.set(token, session);
    } catch (error) {
      log.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'could not save the session cursor',
      );
    }
  }

  /** Normalises, de-duplicates and orders one answer's raw events, then hands them out. */
  function deliver(
    token: string,
    events: readonly unknown[],
    log: Logger,
    tokenStats: TokenStats,
    keptId: number | undefined,
  ): void {
    const fresh: OvhEvent[] = [];
    for (const raw of events) {
      const result = normalizeEvent(raw, { token, defaultCountry, poll: tokenStats.polls });
      if (!result.ok) {
        tokenStats.invalid++;
        log.warn({ error: result.error }, 'skipped an invalid event');
        emit('invalid', { token, error: result.error, raw });
        continue;
      }
      if (deduper.seen(result.event)) {
        tokenStats.duplicates++;
        continue;
      }
      fresh.push(result.event);
    }
    const clippedNow = takeClippedFieldCount();
    if (clippedNow > 0) {
      clippedSinceWarning += clippedNow;
      if (now() - lastClipWarning >= 60_000) {
        lastClipWarning = now();
        log.warn(
          { fields: clippedSinceWarning, maxLength: MAX_FIELD_LENGTH },
          `oversized event fields clipped to ${MAX_FIELD_LENGTH} characters (said at most once a minute)`,
        );
        clippedSinceWarning = 0;
      }
    }
    // OVH promises no order within an answer: apply the events by their own times.
    if (fresh.length > 1) sortByEventTime(fresh);
    for (const event of fresh) {
      tokenStats.events++;
      tokenStats.lastEventAt = now();
      tokenStats.silent = false;
      if (shouldQueue()) {
        queue.push(event);
        queuedTotal++;
      }
      emit('event', event);
    }
    if (keptId !== undefined) {
      untaken.push({ id: keptId, end: queuedTotal });
      releaseTaken();
    }
  }

  /** A token's saved session cursor ('' when none, or when the store fails: a warning). */
  async function loadCursor(token: string, log: Logger): Promise<string> {
    if (!options.cursors) return '';
    try {
      return (await options.cursors.get(token)) ?? '';
    } catch (error) {
      log.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'could not load the session cursor',
      );
      return '';
    }
  }

  /**
   * Hands out again the answers kept before a restart (maybe never saved by the consumer), or with
   * `late` those another consumer kept for this one since.
   */
  async function replayKept(
    token: string,
    log: Logger,
    tokenStats: TokenStats,
    which: 'pending' | 'late' = 'pending',
  ): Promise<void> {
    if (!inbox || (which === 'late' && !inbox.late)) return;
    try {
      const kept =
        which === 'late'
          ? await (inbox.late as NonNullable<EventInbox['late']>)(token)
          : await inbox.pending(token);
      if (kept.length > 0) log.debug({ answers: kept.length, which }, 'handing out the answers kept earlier');
      for (const answer of kept) {
        deliver(token, answer.events, log, tokenStats, answer.id);
        if (shouldQueue()) await queue.waitForRoom();
      }
    } catch (error) {
      log.warn(
        { err: error instanceof Error ? error.message : String(error) },
        which === 'late'
          ? 'could not read the events kept by the previous holder of this token'
          : 'could not read the events kept before the restart',
      );
    }
  }

  /** Counts and reports a failed poll; returns the backoff to wait before the next one. */
  function pollFailed(
    token: string,
    failure: { error: string; status?: number },
    log: Logger,
    tokenStats: TokenStats,
  ): number {
    tokenStats.errors++;
    tokenStats.consecutiveErrors++;
    tokenStats.lastErrorAt = tokenStats.lastPollAt ?? now();
    tokenStats.lastError = failure.error;
    const retryInMs = backoffDelay(tokenStats.consecutiveErrors, backoff, random);
    log.warn({ status: failure.status, attempt: tokenStats.consecutiveErrors, retryInMs }, failure.error);
    emit('poll-error', {
      token,
      error: failure.error,
      ...(failure.status !== undefined ? { status: failure.status } : {}),
      attempt: tokenStats.consecutiveErrors,
      retryInMs,
    });
    return retryInMs;
  }

  /** One token's loop: replay what was kept, then poll until closed. */
  async function loop(token: string): Promise<void> {
    const signal = controller.signal;
    const log = logger.child({ token: maskToken(token) });
    const tokenStats = stats.get(token) as TokenStats;
    let session = await loadCursor(token, log);
    await replayKept(token, log, tokenStats);
    let fastEmpty = 0;
    while (!signal.aborted && !finishing.signal.aborted) {
      await replayKept(token, log, tokenStats, 'late');
      const started = now();
      const outcome = await pollOnce({
        baseUrl,
        token,
        session,
        dispatcher,
        signal,
        timeoutMs: pollTimeoutMs,
        maxResponseBytes,
      });
      if (outcome.kind === 'aborted' || signal.aborted) break;
      if (outcome.kind === 'answer' && outcome.session && outcome.session !== session) {
        if (session) {
          tokenStats.sessionChanges++;
          log.info({}, 'the server answered with a new session (it may have reset the previous one)');
        }
        session = outcome.session;
        await saveCursor(token, session, log);
      }
      if (signal.aborted) break;
      tokenStats.polls++;
      tokenStats.lastPollAt = now();

      if (outcome.kind === 'failure') {
        const retryInMs = pollFailed(token, outcome, log, tokenStats);
        await abortableSleep(retryInMs, pause);
        continue;
      }
      tokenStats.consecutiveErrors = 0;

      const events = outcome.events;
      if (events.length > 0) {
        // an answer far larger than OVH sends (a hostile or broken server) is not kept: it would
        // cost the store and memory more than its events are worth
        const keptId = outcome.chars <= MAX_KEPT_ANSWER_CHARS ? await keep(token, events, log) : undefined;
        // null: kept for the token's new holder (this consumer lost it), who hands the events out
        if (keptId !== null) deliver(token, events, log, tokenStats, keptId);
      }
      // A server that answers empty polls at once (it should hold them) must not spin us.
      if (events.length === 0 && now() - started < 50) {
        fastEmpty++;
        await abortableSleep(backoffDelay(fastEmpty, backoff, random), pause);
      } else fastEmpty = 0;
      if (shouldQueue()) await Promise.race([queue.waitForRoom(), finishingNow]);
    }
  }

  const loops = tokens.map((token) =>
    // Started on a later tick so that listeners attached right after creation see every event.
    Promise.resolve()
      .then(() => loop(token))
      .catch((error: unknown) => {
        logger.error(
          { token: maskToken(token), err: error instanceof Error ? error.message : String(error) },
          'event loop crashed',
        );
      }),
  );

  let watchdog: NodeJS.Timeout | undefined;
  if (watchdogMs > 0) {
    watchdog = setInterval(
      () => {
        const t = now();
        for (const [token, s] of stats) {
          const since = s.lastEventAt ?? startedAt;
          if (!s.silent && t - since >= watchdogMs) {
            s.silent = true;
            logger.warn(
              { token: maskToken(token), silentForMs: t - since },
              'no event from this token for a while: check that it still exists (OVH API) and that the line has traffic',
            );
            emit('silent', {
              token,
              silentForMs: t - since,
              ...(s.lastEventAt !== undefined ? { lastEventAt: s.lastEventAt } : {}),
            });
          }
        }
      },
      Math.max(10, Math.min(30_000, Math.floor(watchdogMs / 2))),
    );
    watchdog.unref();
  }

  const close = (): Promise<void> => {
    if (closing) return closing;
    closed = true;
    controller.abort();
    if (watchdog) clearInterval(watchdog);
    queue.end();
    closing = (async () => {
      await Promise.all(loops);
      if (ownAgent) await ownAgent.destroy().catch(() => {});
    })();
    return closing;
  };

  const finish = async (graceMs: number): Promise<void> => {
    if (!closed) {
      finishing.abort();
      const deadline = performance.now() + Math.max(0, graceMs);
      const cut = setTimeout(() => controller.abort(), Math.max(0, graceMs));
      await Promise.all(loops);
      clearTimeout(cut);
      // the events of the last answers go to the consumer (within the grace) before the queue ends
      if (iteratorCreated) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          queue.whenEmpty(),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, Math.max(0, deadline - performance.now()));
          }),
        ]);
        clearTimeout(timer);
      }
    }
    await close();
  };

  if (options.signal) {
    if (options.signal.aborted) void close();
    else options.signal.addEventListener('abort', () => void close(), { once: true });
  }

  const stream: EventStream = {
    on(name, listener) {
      (listeners[name] as Set<typeof listener>).add(listener);
      return stream;
    },
    off(name, listener) {
      (listeners[name] as Set<typeof listener>).delete(listener);
      return stream;
    },
    stats() {
      const out: Record<string, TokenStats> = {};
      for (const [token, s] of stats) out[token] = { ...s };
      return out;
    },
    close,
    finish,
    get closed() {
      return closed;
    },
    [Symbol.asyncIterator](): AsyncIterator<OvhEvent> {
      iteratorCreated = true;
      return {
        next: () => {
          // asking for the next event means the previous one was taken
          taken = Math.max(taken, asked);
          asked++;
          releaseTaken();
          return queue.next();
        },
        // Leaving a `for await` early detaches this iterator; the stream keeps running (and
        // queueing) until close(), so another iterator can pick up where this one left.
        return: async () => ({ value: undefined, done: true }),
      };
    },
  };
  return stream;
}

/** An event's time in nanoseconds: the server's `Timestamp` when sent, else `Data.Ts` (`at`). */
function eventTimeNs(event: OvhEvent): bigint {
  return event.timestampNs ?? BigInt(event.at.getTime()) * 1_000_000n;
}

/**
 * Sorts the events of one poll by their own time, in place; events with the same time keep their
 * order in the answer (a stable sort). See docs/ovh-stream.md §1: no order is promised.
 */
export function sortByEventTime(events: OvhEvent[]): OvhEvent[] {
  return events.sort((a, b) => {
    const x = eventTimeNs(a);
    const y = eventTimeNs(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** Default of {@link EventStreamOptions.maxResponseBytes}: 4 MiB. */
const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
