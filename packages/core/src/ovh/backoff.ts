/** Backoff after a failed poll: full jitter over a capped exponential. */
export interface BackoffOptions {
  /** Base delay of the first retry. Default 1,000 ms. */
  readonly baseMs?: number;
  /** Cap of the exponential. Default 60,000 ms. */
  readonly maxMs?: number;
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

/** Waits `ms`, or less when `signal` aborts (at once when it already has); never rejects. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
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
