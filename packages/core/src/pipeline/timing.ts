/** Waits `ms` milliseconds; resolves early (without error) when the signal aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** The default {@link Sleep}: a timer, cleared on abort. */
export const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Options of {@link backoffDelay}. */
export interface BackoffOptions {
  /** First retry delay cap (default 1 000 ms). */
  readonly baseDelayMs: number;
  /** Maximum delay cap (default 5 minutes). */
  readonly maxDelayMs: number;
}

/**
 * Exponential backoff with full jitter: a uniform delay in `[0, min(max, base · 2^attempt))`,
 * never shorter than the `Retry-After` the CRM asked for. `attempt` counts from 0.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number,
  retryAfterMs?: number,
): number {
  const cap = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.min(attempt, 30));
  const jittered = Math.floor(random() * cap);
  return retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered);
}

/**
 * A token bucket: `ratePerSecond` tokens a second, up to `burst` stored. `take()` says how long to
 * wait before the next operation may start (0 = now) and reserves the token.
 */
export class TokenBucket {
  #tokens: number;
  #last: number;
  readonly #rate: number;
  readonly #burst: number;
  readonly #clock: () => number;

  constructor(ratePerSecond: number, burst: number, clock: () => number) {
    this.#rate = ratePerSecond;
    this.#burst = Math.max(1, burst);
    this.#tokens = this.#burst;
    this.#clock = clock;
    this.#last = clock();
  }

  /** Reserves one token; returns the wait in ms before using it. */
  take(): number {
    if (!Number.isFinite(this.#rate) || this.#rate <= 0) return 0;
    const now = this.#clock();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#rate);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#rate) * 1000);
  }
}

/** A counting semaphore for per-adapter concurrency. */
export class Semaphore {
  #free: number;
  readonly #waiters: Array<() => void> = [];

  constructor(size: number) {
    this.#free = Math.max(1, size);
  }

  async acquire(): Promise<() => void> {
    if (this.#free > 0) {
      this.#free -= 1;
    } else {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      if (next) next();
      else this.#free += 1;
    };
  }
}

/**
 * Runs `operation` with a timeout: rejects with `onTimeout()` when it takes longer, aborting its
 * signal. With `waitForEndMs`, the rejection waits until the aborted operation has ended (at most
 * that long): a write told to stop may still be finishing, and a retry must never run beside it
 * (two writes of one call); should it succeed meanwhile, its result is returned. When `parent`
 * aborts (a worker stopping), it aborts too and rejects with `onAbort()` at once.
 */
export async function withTimeout<T>(
  operation: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  onTimeout: () => Error,
  parent?: { readonly signal: AbortSignal; readonly onAbort: () => Error },
  waitForEndMs = 0,
): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let grace: ReturnType<typeof setTimeout> | undefined;
  let onParentAbort: (() => void) | undefined;
  let timedOut = false;
  const running = operation(controller.signal);
  const ended = running.then(
    () => undefined,
    () => undefined,
  );
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      const error = onTimeout();
      if (waitForEndMs <= 0) {
        reject(error);
        return;
      }
      timedOut = true;
      void Promise.race([
        ended,
        new Promise<void>((resolve) => {
          grace = setTimeout(resolve, waitForEndMs);
        }),
      ]).then(() => reject(error));
    }, timeoutMs);
    if (parent) {
      onParentAbort = () => {
        controller.abort();
        reject(parent.onAbort());
      };
      if (parent.signal.aborted) onParentAbort();
      else parent.signal.addEventListener('abort', onParentAbort, { once: true });
    }
  });
  // after the timeout, the operation's own failure (its abort) gives way to the timeout's error
  const outcome = running.catch((error: unknown) => {
    if (timedOut) return new Promise<never>(() => {});
    throw error;
  });
  try {
    return await Promise.race([outcome, timeout]);
  } finally {
    clearTimeout(timer);
    clearTimeout(grace);
    if (onParentAbort) parent?.signal.removeEventListener('abort', onParentAbort);
  }
}
