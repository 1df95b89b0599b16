import type { EventInbox } from './event-stream.js';

/**
 * Tells the {@link EventInbox} when the consumer has taken every event of a kept answer. `end` of a
 * kept answer counts the queued events up to its last; an event counts as taken when the consumer
 * asks for the one after it.
 */
export class HandOutTracker {
  private readonly untaken: Array<{ readonly id: number; readonly end: number }> = [];
  private queuedTotal = 0;
  private taken = 0;
  private asked = 0;

  constructor(private readonly inbox: EventInbox | undefined) {}

  /** One more event was queued for the consumer. */
  queued(): void {
    this.queuedTotal++;
  }

  /** Every event of kept answer `id` has been queued (or delivered to listeners only). */
  answerQueued(id: number): void {
    this.untaken.push({ id, end: this.queuedTotal });
    this.release();
  }

  /** The consumer asks for the next event: the previous one was taken. */
  consumerAsked(): void {
    this.taken = Math.max(this.taken, this.asked);
    this.asked++;
    this.release();
  }

  private release(): void {
    while (this.untaken.length > 0 && (this.untaken[0] as { end: number }).end <= this.taken) {
      this.inbox?.handedOut((this.untaken.shift() as { id: number }).id);
    }
  }
}
