/** Resolves after `ms` milliseconds (a timer, even for 0). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A fake's answer delay, changeable while it runs (`setLatency`). */
export class Latency {
  #ms: number;

  constructor(ms = 0) {
    this.#ms = ms;
  }

  /** The delay now, ms. */
  get ms(): number {
    return this.#ms;
  }

  /** Changes the delay of the requests that start waiting from now on. */
  set(ms: number): void {
    this.#ms = ms;
  }

  /** Waits the delay; without a delay (0 or less), resolves without a timer. */
  async wait(): Promise<void> {
    if (this.#ms > 0) await delay(this.#ms);
  }

  /**
   * Runs `fn` after the delay, on a timer even without one (the answer always leaves after the
   * request's I/O callbacks). Returns a function that cancels it.
   */
  schedule(fn: () => void, atLeastMs = 0): () => void {
    const timer = setTimeout(fn, Math.max(this.#ms, atLeastMs));
    return () => clearTimeout(timer);
  }
}
