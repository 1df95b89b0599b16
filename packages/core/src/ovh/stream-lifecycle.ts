import { setMaxListeners } from 'node:events';
import type { EventQueue } from './event-queue.js';

/** The signals that stop an event stream's loops. */
export interface StreamSignals {
  /** close(): aborts everything, polls in flight included. */
  readonly controller: AbortController;
  /** finish(): no new poll, no wait (backoff, back-pressure), but the polls in flight go on. */
  readonly finishing: AbortController;
  /** Aborted by either: ends a loop's wait (backoff). */
  readonly pause: AbortSignal;
  /** Resolves when `finishing` aborts. */
  readonly finishingNow: Promise<void>;
}

/** New signals for one stream; every token loop may wait on them at once, so no listener limit. */
export function createStreamSignals(): StreamSignals {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const finishing = new AbortController();
  setMaxListeners(0, finishing.signal);
  const pause = AbortSignal.any([controller.signal, finishing.signal]);
  // every token loop of the stream may be waiting on it at once (one backoff each)
  setMaxListeners(0, pause);
  const finishingNow = new Promise<void>((resolve) =>
    finishing.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  return { controller, finishing, pause, finishingNow };
}

/**
 * The graceful part of finish(graceMs): stops new polls, lets the polls in flight end (aborted past
 * `graceMs`), then, when the consumer iterates (`drainQueue()`), lets it take the events of the last
 * answers within what is left of the grace.
 */
export async function letLoopsEnd(
  signals: StreamSignals,
  loops: readonly Promise<void>[],
  graceMs: number,
  queue: EventQueue,
  drainQueue: () => boolean,
): Promise<void> {
  signals.finishing.abort();
  const deadline = performance.now() + Math.max(0, graceMs);
  const cut = setTimeout(() => signals.controller.abort(), Math.max(0, graceMs));
  await Promise.all(loops);
  clearTimeout(cut);
  // the events of the last answers go to the consumer (within the grace) before the queue ends
  if (drainQueue()) {
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
