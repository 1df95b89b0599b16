/** What every injected fault may say: how many matching requests it applies to. */
export interface FaultTimes {
  /** How many matching requests it applies to. Default 1; 0 or less: none. */
  readonly times?: number | undefined;
}

/**
 * Faults injected into a fake, applied in injection order: {@link FaultQueue.take} gives the first
 * queued fault a request matches and counts one use of it; a fault used `times` times leaves the
 * queue.
 */
export class FaultQueue<F extends FaultTimes> {
  #queue: Array<{ readonly fault: F; remaining: number }> = [];

  /** Queues a fault for the next `fault.times` (default 1) matching requests. */
  inject(fault: F): void {
    const remaining = fault.times ?? 1;
    if (remaining > 0) this.#queue.push({ fault, remaining });
  }

  /** The first queued fault `matches` accepts, counted as used once; undefined when none. */
  take(matches: (fault: F) => boolean = () => true): F | undefined {
    const index = this.#queue.findIndex((entry) => matches(entry.fault));
    if (index < 0) return undefined;
    const entry = this.#queue[index] as { readonly fault: F; remaining: number };
    entry.remaining--;
    if (entry.remaining <= 0) this.#queue.splice(index, 1);
    return entry.fault;
  }

  /** Faults still queued, with the uses each has left. */
  pending(): Array<{ readonly fault: F; readonly remaining: number }> {
    return this.#queue.map((entry) => ({ ...entry }));
  }

  /** Drops every queued fault. */
  clear(): void {
    this.#queue = [];
  }
}
