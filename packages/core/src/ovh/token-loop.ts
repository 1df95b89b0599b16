import type { Dispatcher } from 'undici';
import type { Logger } from '../logger.js';
import type { CursorStore } from '../store/types.js';
import { abortableSleep, type BackoffOptions, backoffDelay } from './backoff.js';
import type { ClippedFieldWarning } from './clip-warning.js';
import type { Deduplicator } from './dedupe.js';
import { sortByEventTime } from './event-order.js';
import type { EventQueue } from './event-queue.js';
import type { EventInbox, TokenStats } from './event-stream.js';
import type { HandOutTracker } from './hand-out.js';
import { normalizeEvent } from './normalize.js';
import { pollOnce } from './poll.js';
import type { StreamSignals } from './stream-lifecycle.js';
import type { StreamListeners } from './stream-listeners.js';
import type { OvhEvent } from './types.js';

/** What every token loop of one stream shares. */
export interface TokenLoopShared {
  /** The events server, without a trailing slash. */
  readonly baseUrl: string;
  readonly pollTimeoutMs: number;
  readonly maxResponseBytes: number;
  readonly defaultCountry: string;
  readonly dispatcher: Dispatcher;
  readonly backoff: BackoffOptions;
  readonly random: () => number;
  readonly now: () => number;
  readonly cursors: CursorStore | undefined;
  readonly inbox: EventInbox | undefined;
  readonly deduper: Deduplicator;
  readonly queue: EventQueue;
  readonly listeners: StreamListeners;
  readonly handOut: HandOutTracker;
  readonly clipped: ClippedFieldWarning;
  readonly signals: StreamSignals;
  /** True when delivered events go to the queue (an iterator exists, or no `event` listener). */
  readonly shouldQueue: () => boolean;
}

/**
 * The largest answer (in characters) an {@link EventInbox} keeps: a busy OVH answer is a few
 * kilobytes (about 700 bytes an event).
 */
export const MAX_KEPT_ANSWER_CHARS = 256 * 1024;

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * One token's long-poll loop: {@link TokenLoop.run} loads the token's cursor, hands out again what
 * the inbox kept, then polls until the stream closes or finishes.
 */
export class TokenLoop {
  constructor(
    private readonly shared: TokenLoopShared,
    private readonly token: string,
    private readonly log: Logger,
    private readonly tokenStats: TokenStats,
  ) {}

  /** Replays what was kept, then polls until closed. */
  async run(): Promise<void> {
    const { shared, token, log, tokenStats } = this;
    const { now, backoff, random, signals } = shared;
    const signal = signals.controller.signal;
    let session = await this.loadCursor();
    await this.replayKept();
    let fastEmpty = 0;
    while (!signal.aborted && !signals.finishing.signal.aborted) {
      await this.replayKept('late');
      const started = now();
      const outcome = await pollOnce({
        baseUrl: shared.baseUrl,
        token,
        session,
        dispatcher: shared.dispatcher,
        signal,
        timeoutMs: shared.pollTimeoutMs,
        maxResponseBytes: shared.maxResponseBytes,
      });
      if (outcome.kind === 'aborted' || signal.aborted) break;
      if (outcome.kind === 'answer' && outcome.session && outcome.session !== session) {
        if (session) {
          tokenStats.sessionChanges++;
          log.info({}, 'the server answered with a new session (it may have reset the previous one)');
        }
        session = outcome.session;
        await this.saveCursor(session);
      }
      if (signal.aborted) break;
      tokenStats.polls++;
      tokenStats.lastPollAt = now();

      if (outcome.kind === 'failure') {
        const retryInMs = this.pollFailed(outcome);
        await abortableSleep(retryInMs, signals.pause);
        continue;
      }
      tokenStats.consecutiveErrors = 0;

      const events = outcome.events;
      if (events.length > 0) {
        // an answer far larger than OVH sends (a hostile or broken server) is not kept: it would
        // cost the store and memory more than its events are worth
        const keptId = outcome.chars <= MAX_KEPT_ANSWER_CHARS ? await this.keep(events) : undefined;
        // null: kept for the token's new holder (this consumer lost it), who hands the events out
        if (keptId !== null) this.deliver(events, keptId);
      }
      // A server that answers empty polls at once (it should hold them) must not spin us.
      if (events.length === 0 && now() - started < 50) {
        fastEmpty++;
        await abortableSleep(backoffDelay(fastEmpty, backoff, random), signals.pause);
      } else fastEmpty = 0;
      if (shared.shouldQueue()) await this.waitForRoom(signals.finishingNow);
    }
  }

  /**
   * Back-pressure: waits until the iterator's buffer has room (or `until` resolves), showing it in
   * the token's `waitingForRoom` stat meanwhile.
   */
  private async waitForRoom(until?: Promise<void>): Promise<void> {
    const { queue } = this.shared;
    if (!queue.full) return;
    this.tokenStats.waitingForRoom = true;
    try {
      await (until ? Promise.race([queue.waitForRoom(), until]) : queue.waitForRoom());
    } finally {
      this.tokenStats.waitingForRoom = false;
    }
  }

  /** Keeps an answer in the inbox (when there is one) before its events are handed out. */
  private async keep(events: readonly unknown[]): Promise<number | null | undefined> {
    const inbox = this.shared.inbox;
    if (!inbox) return undefined;
    try {
      return await inbox.keep(this.token, events);
    } catch (error) {
      this.log.warn(
        { err: errorText(error) },
        'could not keep the received events (a crash in the next seconds would lose them)',
      );
      return undefined;
    }
  }

  /** Saves the token's new session cursor; a store that fails costs a warning, not the stream. */
  private async saveCursor(session: string): Promise<void> {
    const cursors = this.shared.cursors;
    if (!cursors) return;
    try {
      await cursors.set(this.token, session);
    } catch (error) {
      this.log.warn({ err: errorText(error) }, 'could not save the session cursor');
    }
  }

  /** The token's saved session cursor ('' when none, or when the store fails: a warning). */
  private async loadCursor(): Promise<string> {
    const cursors = this.shared.cursors;
    if (!cursors) return '';
    try {
      return (await cursors.get(this.token)) ?? '';
    } catch (error) {
      this.log.warn({ err: errorText(error) }, 'could not load the session cursor');
      return '';
    }
  }

  /**
   * Hands out again the answers kept before a restart (maybe never saved by the consumer), or with
   * `late` those another consumer kept for this one since.
   */
  private async replayKept(which: 'pending' | 'late' = 'pending'): Promise<void> {
    const { inbox } = this.shared;
    if (!inbox || (which === 'late' && !inbox.late)) return;
    try {
      const kept =
        which === 'late'
          ? await (inbox.late as NonNullable<EventInbox['late']>)(this.token)
          : await inbox.pending(this.token);
      if (kept.length > 0)
        this.log.debug({ answers: kept.length, which }, 'handing out the answers kept earlier');
      for (const answer of kept) {
        this.deliver(answer.events, answer.id);
        if (this.shared.shouldQueue()) await this.waitForRoom();
      }
    } catch (error) {
      this.log.warn(
        { err: errorText(error) },
        which === 'late'
          ? 'could not read the events kept by the previous holder of this token'
          : 'could not read the events kept before the restart',
      );
    }
  }

  /** Normalises, de-duplicates and orders one answer's raw events, then hands them out. */
  private deliver(events: readonly unknown[], keptId: number | undefined): void {
    const { token, log, tokenStats, shared } = this;
    const fresh: OvhEvent[] = [];
    for (const raw of events) {
      const result = normalizeEvent(raw, {
        token,
        defaultCountry: shared.defaultCountry,
        poll: tokenStats.polls,
      });
      if (!result.ok) {
        tokenStats.invalid++;
        log.warn({ error: result.error }, 'skipped an invalid event');
        shared.listeners.emit('invalid', { token, error: result.error, raw });
        continue;
      }
      if (shared.deduper.seen(result.event)) {
        tokenStats.duplicates++;
        continue;
      }
      fresh.push(result.event);
    }
    shared.clipped.check(log);
    // OVH promises no order within an answer: apply the events by their own times.
    if (fresh.length > 1) sortByEventTime(fresh);
    for (const event of fresh) {
      tokenStats.events++;
      tokenStats.lastEventAt = shared.now();
      tokenStats.silent = false;
      if (shared.shouldQueue()) {
        shared.queue.push(event);
        shared.handOut.queued();
      }
      shared.listeners.emit('event', event);
    }
    if (keptId !== undefined) shared.handOut.answerQueued(keptId);
  }

  /** Counts and reports a failed poll; returns the backoff to wait before the next one. */
  private pollFailed(failure: { error: string; status?: number }): number {
    const { token, log, tokenStats, shared } = this;
    tokenStats.errors++;
    tokenStats.consecutiveErrors++;
    tokenStats.lastErrorAt = tokenStats.lastPollAt ?? shared.now();
    tokenStats.lastError = failure.error;
    const retryInMs = backoffDelay(tokenStats.consecutiveErrors, shared.backoff, shared.random);
    log.warn({ status: failure.status, attempt: tokenStats.consecutiveErrors, retryInMs }, failure.error);
    shared.listeners.emit('poll-error', {
      token,
      error: failure.error,
      ...(failure.status !== undefined ? { status: failure.status } : {}),
      attempt: tokenStats.consecutiveErrors,
      retryInMs,
    });
    return retryInMs;
  }
}
