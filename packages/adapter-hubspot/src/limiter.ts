import { AdapterError } from '@cti-bridge/core';

/** Options of {@link RollingWindowLimiter}. */
export interface RollingWindowLimiterOptions {
  /** Requests allowed in any window of `intervalMs`. */
  readonly max: number;
  readonly intervalMs: number;
  /** Requests allowed per UTC day (HubSpot's daily quota); unlimited when absent. */
  readonly daily?: number | undefined;
  /** Longest a request waits for a slot before failing with a `rate-limit` error. */
  readonly maxWaitMs: number;
  /**
   * How long an `interactive` request (a screen pop) keeps its place ahead of the others; after
   * that it can no longer pop in time and waits as `background` work, in arrival order, for the
   * delivery that will use its answer (default: never demoted).
   */
  readonly interactiveWaitMs?: number;
  /** Extra spacing added to the window (default 0). */
  readonly slackMs?: number;
  /** Name in error messages (`HubSpot API`, `HubSpot search`). */
  readonly label: string;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Call when the request is over (answered or failed): its slot then ages out of the window. */
export type Release = () => void;

/**
 * Who is waiting: `interactive` requests (a screen pop: a person is waiting for the ring) are granted
 * before every `background` one (delivery, checks) that is still waiting; interactive ones newest
 * first, background ones oldest first.
 */
export type LimiterPriority = 'interactive' | 'background';

interface Waiter {
  readonly queuedAt: number;
  readonly resolve: (release: Release) => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  onAbort?: () => void;
}

/**
 * A client-side rolling-window rate limiter: at most `max` grants in any `intervalMs` window
 * (HubSpot counts requests per app over a rolling 10 seconds), a daily cap, and a pause after a 429
 * (`block`). Grants go to `interactive` waiters first (newest first: under overload, the newest ring
 * has the most time left to pop), then `background` ones (oldest first). A
 * slot counts from the grant until `intervalMs` after the request ended (the release): HubSpot
 * counts a request when it arrives, somewhere in between, so network delays can never push more
 * than `max` arrivals into one of its windows. A request that would wait longer than `maxWaitMs`
 * fails at once with a `rate-limit` {@link AdapterError} carrying the wait, so the pipeline
 * reschedules it instead of holding a worker; a waiter whose signal aborts leaves the queue at once.
 * An interactive waiter that waited `interactiveWaitMs` can no longer pop in time: it goes on
 * waiting as background work (its answer still serves the delivery of that call), so stale screen
 * pops never hold up fresh ones, and nothing already asked is thrown away.
 */
export class RollingWindowLimiter {
  private grants: Array<{ endedAt: number | undefined }> = [];
  private readonly queues: Record<LimiterPriority, Waiter[]> = { interactive: [], background: [] };
  private pumping = false;
  private blockedUntil = 0;
  private dayStart = 0;
  private dayCount = 0;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: RollingWindowLimiterOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
  }

  /**
   * Waits for a slot (interactive first, FIFO within a priority). Rejects with a `rate-limit`
   * AdapterError when the wait is too long, and with a `transient` one when `signal` aborts.
   */
  acquire(signal?: AbortSignal, priority: LimiterPriority = 'background'): Promise<Release> {
    if (signal?.aborted) return Promise.reject(this.cancelled());
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = { queuedAt: this.now(), resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          for (const queue of Object.values(this.queues)) {
            const at = queue.indexOf(waiter);
            if (at >= 0) queue.splice(at, 1);
          }
          reject(this.cancelled());
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queues[priority].push(waiter);
      void this.pump();
    });
  }

  /** Stops granting until `now + ms` (after a 429 with Retry-After). */
  block(ms: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, this.now() + ms);
  }

  /** Grants in the current window, for stats and tests. */
  inWindow(): number {
    this.prune(this.now());
    return this.grants.length;
  }

  /** Requests waiting for a slot, by priority (stats and tests). */
  waiting(): Record<LimiterPriority, number> {
    return { interactive: this.queues.interactive.length, background: this.queues.background.length };
  }

  private get window(): number {
    return this.options.intervalMs + (this.options.slackMs ?? 0);
  }

  private cancelled(): AdapterError {
    return new AdapterError('transient', `${this.options.label}: request cancelled.`);
  }

  private prune(now: number): void {
    this.grants = this.grants.filter(
      (grant) => grant.endedAt === undefined || now - grant.endedAt < this.window,
    );
  }

  /** Hands out slots to the waiters in order while it can; sleeps while none is free. One at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        this.demoteStale();
        // interactive: newest first (it has the most time left to pop; under overload the oldest
        // would be served just as its ring is over), background: oldest first
        const interactive = this.queues.interactive.length > 0;
        const queue = interactive ? this.queues.interactive : this.queues.background;
        const head = interactive ? queue[queue.length - 1] : queue[0];
        if (head === undefined) return;
        const turn = this.turn();
        if (turn.kind === 'wait') {
          await this.sleep(Math.max(1, turn.ms));
          continue;
        }
        if (interactive) queue.pop();
        else queue.shift();
        if (head.onAbort) head.signal?.removeEventListener('abort', head.onAbort);
        if (turn.kind === 'granted') head.resolve(turn.release);
        else head.reject(turn.error);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Moves interactive waiters past their {@link RollingWindowLimiterOptions.interactiveWaitMs} behind, in arrival order. */
  private demoteStale(): void {
    const patience = this.options.interactiveWaitMs;
    const interactive = this.queues.interactive;
    if (patience === undefined || interactive.length === 0) return;
    const now = this.now();
    let stale = 0;
    while (stale < interactive.length && now - (interactive[stale] as Waiter).queuedAt >= patience) stale++;
    if (stale === 0) return;
    const background = this.queues.background;
    background.push(...interactive.splice(0, stale));
    background.sort((a, b) => a.queuedAt - b.queuedAt);
  }

  /** What the next waiter gets now: a slot, an error (daily quota, too long a wait) or a wait. */
  private turn():
    | { readonly kind: 'granted'; readonly release: Release }
    | { readonly kind: 'refused'; readonly error: AdapterError }
    | { readonly kind: 'wait'; readonly ms: number } {
    const now = this.now();
    const day = Math.floor(now / 86_400_000);
    if (day !== this.dayStart) {
      this.dayStart = day;
      this.dayCount = 0;
    }
    if (this.options.daily !== undefined && this.dayCount >= this.options.daily) {
      const retryAfterMs = (day + 1) * 86_400_000 - now;
      return {
        kind: 'refused',
        error: new AdapterError(
          'rate-limit',
          `${this.options.label}: the configured daily limit of ${this.options.daily} requests is used up; resuming after midnight UTC.`,
          { retryAfterMs, code: 'DAILY' },
        ),
      };
    }
    let wait: number;
    if (this.blockedUntil > now) {
      wait = this.blockedUntil - now;
    } else {
      this.prune(now);
      if (this.grants.length < this.options.max) {
        const grant: { endedAt: number | undefined } = { endedAt: undefined };
        this.grants.push(grant);
        this.dayCount++;
        return {
          kind: 'granted',
          release: () => {
            grant.endedAt ??= this.now();
          },
        };
      }
      const ended = this.grants.map((grant) => grant.endedAt).filter((at): at is number => at !== undefined);
      // Every slot still in flight: check again shortly (a release frees a slot one window later).
      wait = ended.length > 0 ? Math.min(...ended) + this.window - now : Math.min(50, this.window);
    }
    if (wait > this.options.maxWaitMs) {
      return {
        kind: 'refused',
        error: new AdapterError(
          'rate-limit',
          `${this.options.label}: rate limit reached (${this.options.max} requests per ${this.options.intervalMs} ms); retry in ${Math.ceil(wait / 1000)} s.`,
          { retryAfterMs: wait, code: 'CLIENT_RATE_LIMIT' },
        ),
      };
    }
    return { kind: 'wait', ms: wait };
  }
}
