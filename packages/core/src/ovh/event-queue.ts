import type { OvhEvent } from './types.js';

/** Bounded hand-off between the polling loops and the single async consumer. */
export class EventQueue {
  private items: OvhEvent[] = [];
  private head = 0;
  private readers: Array<(result: IteratorResult<OvhEvent>) => void> = [];
  private spaceWaiters: Array<() => void> = [];
  private emptyWaiters: Array<() => void> = [];
  private ended = false;

  constructor(private readonly capacity: number) {}

  /** Events queued and not yet taken. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Hands an event to a waiting reader, else queues it (dropped once the queue has ended). */
  push(event: OvhEvent): void {
    if (this.ended) return;
    const reader = this.readers.shift();
    if (reader) {
      reader({ value: event, done: false });
      return;
    }
    this.items.push(event);
  }

  /** Resolves when the consumer has taken every event (or the queue has ended). */
  whenEmpty(): Promise<void> {
    if (this.ended || this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  /** True when {@link EventQueue.waitForRoom} would wait: the queue is full and has not ended. */
  get full(): boolean {
    return !this.ended && this.length >= this.capacity;
  }

  /** Resolves when the queue has room (or has ended). */
  waitForRoom(): Promise<void> {
    if (this.ended || this.length < this.capacity) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  /** The next event, waiting for one when none is queued; done once the queue has ended. */
  next(): Promise<IteratorResult<OvhEvent>> {
    if (this.length > 0) {
      const value = this.items[this.head] as OvhEvent;
      this.items[this.head] = undefined as unknown as OvhEvent;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      if (this.length < this.capacity) this.releaseWaiters();
      if (this.length === 0) for (const waiter of this.emptyWaiters.splice(0)) waiter();
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.readers.push(resolve));
  }

  /** Drops what is queued, ends the waiting readers and releases every waiter. */
  end(): void {
    this.ended = true;
    this.items = [];
    this.head = 0;
    for (const reader of this.readers.splice(0)) reader({ value: undefined, done: true });
    this.releaseWaiters();
    for (const waiter of this.emptyWaiters.splice(0)) waiter();
  }

  private releaseWaiters(): void {
    for (const waiter of this.spaceWaiters.splice(0)) waiter();
  }
}
