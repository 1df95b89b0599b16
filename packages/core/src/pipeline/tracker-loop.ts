import { performance } from 'node:perf_hooks';
import { CallTracker, type CallTrackerOptions } from '../calls/call-tracker.js';
import type { CallEvent } from '../calls/types.js';
import type { StoreInbox } from '../ovh/store-inbox.js';
import type { OvhEvent } from '../ovh/types.js';
import type { Store } from '../store/types.js';

/** What a {@link TrackerLoop} needs. */
export interface TrackerLoopOptions {
  readonly stream: AsyncIterable<OvhEvent>;
  readonly snapshots: Store['snapshots'];
  /** Where the tracker snapshot is saved. */
  readonly snapshotKey: string;
  /** How soon after a change the snapshot is saved (ms); 0: only on tick() and stop. */
  readonly snapshotDelayMs: number;
  readonly inbox?: Pick<StoreInbox, 'checkpoint'> | undefined;
  readonly trackerOptions: CallTrackerOptions;
  /** Handles the tracker's call events (screen pops, outbox entries). */
  readonly handle: (events: readonly CallEvent[], arrivedAt: number) => Promise<void>;
  /** Each event read from the stream. */
  readonly onEvent: () => void;
  readonly report: (error: unknown, context: string) => void;
}

/**
 * The stream → tracker → handler loop and the tracker's snapshots: one event at a time, its call
 * events handled before the next is read; the handling of one batch never overlaps another's.
 */
export class TrackerLoop {
  readonly #o: TrackerLoopOptions;
  #tracker: CallTracker;
  #handling: Promise<void> = Promise.resolve();
  #iterator: AsyncIterator<OvhEvent> | undefined;
  #stopping = false;
  #snapshotDirty = false;
  #snapshotTimer: NodeJS.Timeout | undefined;

  constructor(options: TrackerLoopOptions) {
    this.#o = options;
    this.#tracker = new CallTracker(options.trackerOptions);
  }

  /** The tracker (a restored one after {@link restore}). */
  get tracker(): CallTracker {
    return this.#tracker;
  }

  /** The tracker's settle window (ms); 0: none. */
  get settleMs(): number {
    return this.#o.trackerOptions.settleMs ?? 0;
  }

  /** True once {@link halt} was called. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** The handling in flight (resolved when none). */
  get handling(): Promise<void> {
    return this.#handling;
  }

  /** Restores the tracker from its saved snapshot, if any. */
  async restore(): Promise<void> {
    const snapshot = await this.#o.snapshots.load(this.#o.snapshotKey);
    if (snapshot !== undefined) this.#tracker = CallTracker.restore(snapshot, this.#o.trackerOptions);
  }

  /** Reads the stream until it ends, fails or the loop is halted. */
  async consume(): Promise<void> {
    const iterator = this.#o.stream[Symbol.asyncIterator]();
    this.#iterator = iterator;
    while (!this.#stopping) {
      let next: IteratorResult<OvhEvent>;
      try {
        next = await iterator.next();
      } catch (error) {
        this.#o.report(error, 'the event stream failed; no more events will be read');
        return;
      }
      if (next.done || this.#stopping) return;
      const arrivedAt = performance.now();
      this.#o.onEvent();
      const out = this.#tracker.push(next.value);
      this.#snapshotSoon();
      if (out.length === 0) continue;
      await this.handle(out, arrivedAt);
    }
  }

  /**
   * Handles call events after the handling in flight (if any) has ended; waits for them. The
   * stream's events and the settle timer both hand call events here: chained, `#handling` covers
   * every batch in flight, so a snapshot never waits for the last one only (a call finished by an
   * earlier batch would be in no snapshot and in no outbox yet: a crash then lost it).
   */
  async handle(events: readonly CallEvent[], arrivedAt: number): Promise<void> {
    const current = this.#handling.catch(() => {}).then(() => this.#o.handle(events, arrivedAt));
    this.#handling = current;
    await current;
  }

  /** Stops reading (a long poll in flight is not waited for) and saving soon. */
  halt(): void {
    this.#stopping = true;
    if (this.#snapshotTimer) clearTimeout(this.#snapshotTimer);
  }

  /** Asks the stream to finish. */
  closeStream(): void {
    void Promise.resolve(this.#iterator?.return?.()).catch(() => {});
  }

  // A crash loses what the tracker learnt since its last snapshot (the stream's cursor has moved
  // on: OVH will not send those events again), so calls in flight are saved soon after they change.
  #snapshotSoon(): void {
    this.#snapshotDirty = true;
    if (this.#snapshotTimer !== undefined || this.#o.snapshotDelayMs <= 0 || this.#stopping) return;
    this.#snapshotTimer = setTimeout(() => {
      this.#snapshotTimer = undefined;
      if (!this.#snapshotDirty || this.#stopping) return;
      this.#snapshotDirty = false;
      void this.#handling.then(() => this.saveSnapshot());
    }, this.#o.snapshotDelayMs);
    this.#snapshotTimer.unref?.();
  }

  /**
   * Saves the tracker snapshot at a quiet moment, then lets the inbox release what it holds.
   * Resolves false when the store failed (reported, not thrown).
   */
  async saveSnapshot(): Promise<boolean> {
    try {
      await this.#quiet();
      // what the stream handed out until now is in this snapshot: once saved, its inbox lets it go
      const release = this.#o.inbox?.checkpoint();
      await this.#o.snapshots.save(this.#o.snapshotKey, this.#tracker.snapshot());
      await release?.();
      return true;
    } catch (error) {
      this.#o.report(error, 'saving the tracker snapshot failed');
      return false;
    }
  }

  /**
   * Resolves at a quiet moment: no batch of call events being handled. A call the tracker has
   * finished is in no snapshot: it is safe once its outbox entries are written. A snapshot taken
   * while they are being written (a settle or stream batch started while we waited) would hold
   * such a call nowhere (and its inbox would let its events go, or the next holder of its token
   * would find nothing to finish): a crash then would lose it. Take snapshots right after this,
   * with no await in between.
   */
  async #quiet(): Promise<void> {
    for (let writing = this.#handling; ; writing = this.#handling) {
      await writing;
      if (writing === this.#handling) return;
    }
  }

  /** Finishes the calls whose settle window ended while no event came (all of them with `all`). */
  async settle(all = false): Promise<void> {
    await this.#handling;
    const out = all ? this.#tracker.flush() : this.#tracker.settle();
    if (out.length > 0) await this.handle(out, performance.now());
  }

  /** Housekeeping: the tracker's timeouts, then a snapshot. */
  async tick(): Promise<void> {
    await this.#handling;
    const out = this.#tracker.tick();
    if (out.length > 0) await this.handle(out, performance.now());
    await this.saveSnapshot();
  }

  /**
   * Adopts the calls of `tokens` from the snapshots under `keys` (newest first); first saves these
   * tokens' calls under `carryKey` (when given), then this runner's snapshot, when any came. Throws
   * when that snapshot could not be saved (the calls are adopted all the same): the snapshots read
   * must then be kept.
   */
  async adopt(
    keys: string | readonly string[],
    tokens: readonly string[],
    carryKey?: string,
  ): Promise<number> {
    const wanted = new Set(tokens);
    const snapshots: string[] = [];
    for (const key of typeof keys === 'string' ? [keys] : keys) {
      const snapshot = await this.#o.snapshots.load(key);
      if (snapshot !== undefined) snapshots.push(snapshot);
    }
    await this.#quiet();
    let adopted = 0;
    for (const snapshot of snapshots) adopted += this.#tracker.adopt(snapshot, (token) => wanted.has(token));
    // one write, right away: the runner's own snapshot waits for a quiet moment first
    if (carryKey !== undefined && adopted > 0) {
      await this.#o.snapshots.save(
        carryKey,
        this.#tracker.snapshot((token) => wanted.has(token)),
      );
    }
    // Saved before the tokens are polled: were this runner to die before its next periodic
    // snapshot, the runner after it (which reads this runner's snapshot) would miss these calls.
    if (adopted > 0 && !(await this.saveSnapshot())) {
      throw new Error(
        `adopted ${adopted} calls in flight but could not save this runner's snapshot: the snapshots they came from are kept`,
      );
    }
    return adopted;
  }

  /** Saves each token's calls under its own key (unless `save` is false), then forgets them. */
  async handOver(
    tokens: readonly string[],
    snapshotKeyOf: (token: string) => string,
    save: boolean,
  ): Promise<void> {
    await this.#quiet();
    // every token's calls as they stand at this quiet moment (a call of these tokens finished by a
    // batch started while saving is then in its snapshot still, as in flight: its next holder
    // finishes it, and idempotency keys keep it logged once)
    const snapshots = save ? tokens.map((token) => this.#tracker.snapshot((t) => t === token)) : [];
    for (const [i, snapshot] of snapshots.entries()) {
      await this.#o.snapshots.save(snapshotKeyOf(tokens[i] as string), snapshot);
    }
    const gone = new Set(tokens);
    this.#tracker.forget((token) => gone.has(token));
  }
}
