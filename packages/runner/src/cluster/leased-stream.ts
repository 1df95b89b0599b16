import {
  type CursorStore,
  createEventStream,
  type EventStream,
  type EventStreamEvents,
  type EventStreamOptions,
  type OvhEvent,
  type TokenStats,
} from '@cti-bridge/core';

/** Options of {@link createLeasedEventStream}. */
export interface LeasedEventStreamOptions {
  /** Options of each token's stream (one long-poll loop per token held). */
  readonly stream: Omit<EventStreamOptions, 'tokens' | 'cursors'>;
  /** The cursor store of a token held with fencing number `fence`. */
  readonly cursors: (token: string, fence: number) => CursorStore;
  /** Events held for the consumer before the token loops wait (default 1,000). */
  readonly bufferSize?: number;
  /** Makes a token's stream (default core's `createEventStream`; tests inject). */
  readonly create?: (options: EventStreamOptions) => EventStream;
}

/** An {@link EventStream} whose tokens change while it runs: the tokens this runner holds. */
export interface LeasedEventStream extends EventStream {
  /** Starts polling `token` (held with `fence`); a token already polled is left alone. */
  add(token: string, fence: number): void;
  /**
   * Stops polling `token`. Its poll in flight is aborted, or with `finishMs` left to end (its
   * answer handed out; aborted past that time: see {@link EventStream.finish}). Resolves once its
   * loop ended and, with `drainMs`, once the consumer took the token's events still queued
   * (waiting at most that long).
   */
  remove(token: string, options?: { readonly drainMs?: number; readonly finishMs?: number }): Promise<void>;
  /** The tokens polled now. */
  tokens(): string[];
}

type Listeners = { [K in keyof EventStreamEvents]: Set<EventStreamEvents[K]> };

/**
 * The events of every token's stream waiting for the one consumer: bounded (the token loops wait
 * for room), counted per token (a token removed may wait until the consumer took its events), and
 * taken one at a time per token (see {@link ConsumerQueue.put}).
 */
class ConsumerQueue {
  readonly #events: OvhEvent[] = [];
  readonly #queued = new Map<string, number>();
  readonly #drainWaiters = new Map<string, (() => void)[]>();
  /** The token loop waiting for the consumer to take that token's last event. */
  readonly #takenWaiters = new Map<string, () => void>();
  #wakeConsumer: (() => void) | undefined;
  #roomWaiters: (() => void)[] = [];
  #closed = false;

  constructor(readonly size: number) {}

  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves when there is room for one more event (or the queue closed). */
  async room(): Promise<void> {
    while (this.#events.length >= this.size && !this.#closed) {
      await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    }
  }

  /** Queues one event; resolves once the consumer took it (asked for the next) or it was let go. */
  put(event: OvhEvent): Promise<void> {
    const taken = new Promise<void>((resolve) => this.#takenWaiters.set(event.token, resolve));
    this.#events.push(event);
    this.#queued.set(event.token, (this.#queued.get(event.token) ?? 0) + 1);
    this.#wake();
    return taken;
  }

  /** Lets a token's loop go without waiting for its last event to be taken. */
  letGo(token: string): void {
    const waiter = this.#takenWaiters.get(token);
    this.#takenWaiters.delete(token);
    waiter?.();
  }

  /** The consumer applied `event` (it asks for the next one). */
  consumed(event: OvhEvent): void {
    this.letGo(event.token);
    const left = (this.#queued.get(event.token) ?? 1) - 1;
    if (left > 0) {
      this.#queued.set(event.token, left);
      return;
    }
    this.#queued.delete(event.token);
    for (const resolve of this.#drainWaiters.get(event.token) ?? []) resolve();
    this.#drainWaiters.delete(event.token);
  }

  /** Waits (at most `ms`) until the consumer took the token's queued events, then one more turn. */
  async drained(token: string, ms: number): Promise<void> {
    if (!this.#queued.has(token) || this.#closed) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) =>
        this.#drainWaiters.set(token, [...(this.#drainWaiters.get(token) ?? []), resolve]),
      ),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** The next event for the consumer; undefined once closed and empty. */
  async take(): Promise<OvhEvent | undefined> {
    for (;;) {
      const event = this.#events.shift();
      if (event !== undefined) {
        if (this.#events.length < this.size) this.#freeRoom();
        return event;
      }
      if (this.#closed) return undefined;
      await new Promise<void>((resolve) => {
        this.#wakeConsumer = resolve;
      });
    }
  }

  /** No more events: token loops waiting for room or for the consumer go on (and stop). */
  close(): void {
    this.#closed = true;
    this.#freeRoom();
    for (const token of [...this.#takenWaiters.keys()]) this.letGo(token);
  }

  /** Wakes the consumer (an event came, or the stream closed). */
  #wake(): void {
    const resolve = this.#wakeConsumer;
    this.#wakeConsumer = undefined;
    resolve?.();
  }

  wakeConsumer(): void {
    this.#wake();
  }

  #freeRoom(): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * Moves a token's events to the consumer, one at a time: a token's stream counts an event as taken
 * (and lets its inbox forget it at the next snapshot) when asked for the next one, so the next is
 * asked for only once the consumer took this one. Read ahead, an event waiting here would be
 * forgotten without being in the snapshot, and lost if this runner died then.
 */
async function pump(
  stream: EventStream,
  queue: ConsumerQueue,
  onEvent: (event: OvhEvent) => void,
  stopped: { value: boolean },
): Promise<void> {
  const events = stream[Symbol.asyncIterator]();
  for (;;) {
    const next = await events.next();
    if (next.done) break;
    onEvent(next.value);
    await queue.room();
    if (queue.closed || stopped.value) break;
    await queue.put(next.value);
    if (queue.closed || stopped.value) break;
  }
  await events.return?.();
}

/** Makes the listener that passes a token stream's reports on to this stream's listeners. */
function forwarder(listeners: Listeners) {
  return <K extends keyof EventStreamEvents>(name: K) =>
    ((...args: unknown[]) => {
      for (const listener of listeners[name]) (listener as (...a: unknown[]) => void)(...args);
    }) as EventStreamEvents[K];
}

type Sub = { readonly stream: EventStream; readonly pump: Promise<void>; readonly stop: () => void };

/** Ends one token's stream (see {@link LeasedEventStream.remove}). */
async function endSub(
  sub: Sub,
  token: string,
  queue: ConsumerQueue,
  finishing: Set<EventStream>,
  options: { readonly drainMs?: number; readonly finishMs?: number },
): Promise<void> {
  const finishMs = options.finishMs ?? 0;
  // finishing, the pump goes on moving the last answer's events to the consumer
  if (finishMs > 0 && !queue.closed) {
    finishing.add(sub.stream);
    await sub.stream.finish(finishMs).finally(() => finishing.delete(sub.stream));
  }
  sub.stop();
  await sub.stream.close();
  await sub.pump;
  // let the consumer take the token's events still queued (then one turn to process them)
  const drainMs = options.drainMs ?? 0;
  if (drainMs > 0) await queue.drained(token, drainMs);
}

/**
 * The consumer's iterator. The event handed out last counts as taken (its token's stream may ask
 * for the next one and let its answer go at the next snapshot) only when the consumer asks for
 * more, by which time it has applied it.
 */
function consumerIterator(queue: ConsumerQueue): AsyncIterator<OvhEvent> {
  let handed: OvhEvent | undefined;
  return {
    async next(): Promise<IteratorResult<OvhEvent>> {
      if (handed !== undefined) queue.consumed(handed);
      handed = await queue.take();
      return handed === undefined ? { value: undefined, done: true } : { value: handed, done: false };
    },
    async return(): Promise<IteratorResult<OvhEvent>> {
      return { value: undefined, done: true };
    },
  };
}

/**
 * One event stream made of one core event stream per token held: tokens come and go as leases are
 * won and lost, the consumer sees a single async iterable (one consumer, bounded buffer with
 * back-pressure on the token loops). Each token's stream keeps its own cursor, de-duplication and
 * statistics.
 */
export function createLeasedEventStream(options: LeasedEventStreamOptions): LeasedEventStream {
  const create = options.create ?? createEventStream;
  const queue = new ConsumerQueue(Math.max(1, options.bufferSize ?? 1000));
  const subs = new Map<string, Sub>();
  const listeners: Listeners = {
    event: new Set(),
    invalid: new Set(),
    'poll-error': new Set(),
    silent: new Set(),
  };
  const forward = forwarder(listeners);
  const onEvent = forward('event');
  let closing: Promise<void> | undefined;
  /** Streams of removed tokens letting their last poll end: closing cuts them short. */
  const finishing = new Set<EventStream>();

  const composite: LeasedEventStream = {
    add(token, fence) {
      if (queue.closed || subs.has(token)) return;
      const stream = create({ ...options.stream, tokens: [token], cursors: options.cursors(token, fence) });
      stream.on('invalid', forward('invalid'));
      stream.on('poll-error', forward('poll-error'));
      stream.on('silent', forward('silent'));
      const stopped = { value: false };
      subs.set(token, {
        stream,
        pump: pump(stream, queue, onEvent, stopped).catch(() => undefined),
        stop: () => {
          stopped.value = true;
          queue.letGo(token);
        },
      });
    },
    async remove(token, removeOptions = {}) {
      const sub = subs.get(token);
      if (!sub) return;
      subs.delete(token);
      await endSub(sub, token, queue, finishing, removeOptions);
    },
    tokens: () => [...subs.keys()],
    async finish(graceMs) {
      await Promise.all(
        [...subs.keys()].map((token) => composite.remove(token, { finishMs: graceMs, drainMs: graceMs })),
      );
      await composite.close();
    },
    on(name, listener) {
      (listeners[name] as Set<typeof listener>).add(listener);
      return composite;
    },
    off(name, listener) {
      (listeners[name] as Set<typeof listener>).delete(listener);
      return composite;
    },
    stats() {
      const all: Record<string, TokenStats> = {};
      for (const { stream } of subs.values()) Object.assign(all, stream.stats());
      return all;
    },
    close() {
      closing ??= (async () => {
        queue.close();
        for (const stream of finishing) void stream.close();
        await Promise.all([...subs.keys()].map((token) => composite.remove(token)));
        queue.wakeConsumer();
      })();
      return closing;
    },
    get closed() {
      return queue.closed;
    },
    [Symbol.asyncIterator]: () => consumerIterator(queue),
  };
  return composite;
}
