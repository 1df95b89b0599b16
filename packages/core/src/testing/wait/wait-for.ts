/**
 * Waiting in tests for something asynchronous to happen, on real timers: the condition is checked
 * every few milliseconds until it holds or a deadline passes. The deadline is generous (a loaded
 * machine may be many times slower than a quiet one) and costs nothing when the condition comes
 * true early. Never use this to prove that something did *not* happen: drive an injected clock
 * instead.
 */

/** Options of {@link waitFor} and {@link waitForValue}. */
export interface WaitForOptions {
  /** Give up after this long (default 20,000 ms). */
  readonly timeoutMs?: number | undefined;
  /** Check this often (default 10 ms). */
  readonly intervalMs?: number | undefined;
  /** Give up at once when this returns true (e.g. the process under test has exited). */
  readonly stopWhen?: (() => boolean) | undefined;
  /** More to say when giving up (e.g. the output of the process under test). */
  readonly context?: (() => string) | undefined;
}

/** Default deadline of {@link waitFor}: long enough for a starved CI machine. */
export const WAIT_FOR_TIMEOUT_MS = 20_000;

/**
 * Resolves once `probe` returns a value other than `undefined`, with that value. Throws
 * `timed out after N ms waiting for <what>` (plus the `context`) when the deadline passes, or
 * `gave up waiting for <what>` when `stopWhen` says so.
 */
export async function waitForValue<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  options: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? WAIT_FOR_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    const stopped = options.stopWhen?.() === true;
    if (stopped || Date.now() > deadline) {
      const why = stopped
        ? `gave up waiting for ${what}`
        : `timed out after ${timeoutMs} ms waiting for ${what}`;
      const context = options.context?.();
      throw new Error(context ? `${why}\n${context}` : why);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 10));
  }
}

/** Resolves once `condition` returns true; throws as {@link waitForValue} does. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  options: WaitForOptions = {},
): Promise<void> {
  await waitForValue(async () => ((await condition()) ? true : undefined), what, options);
}
