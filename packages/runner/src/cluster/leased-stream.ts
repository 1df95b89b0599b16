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
 * One event stream made of one core event stream per token held: tokens come and go as leases are
 * won and lost, the consumer sees a single async iterable (one consumer, bounded buffer with
 * back-pressure on the token loops). Each token's stream keeps its own cursor, de-duplication and
 * statistics.
 */
export function createLeasedEventStream(options: LeasedEventStreamOptions): LeasedEventStream {
  const create = options.create ?? createEventStream;
  const bufferSize = Math.max(1, options.bufferSize ?? 1000);
  const subs = new Map<string, { stream: EventStream; pump: Promise<void>; stop: () => void }>();
  const listeners: Listeners = {
    event: new Set(),
    invalid: new Set(),
    'poll-error': new Set(),
    silent: new Set(),
  };
  const queue: OvhEvent[] = [];
  /** Events of each token still in the queue, and who waits for a token's to be consumed. */
  const queued = new Map<string, number>();
  const drainWaiters = new Map<string, (() => void)[]>();
  /** The pump of a token waiting for the consumer to take that token's last event. */
  const takenWaiters = new Map<string, () => void>();
  const consumedOne = (token: string) => {
    const taken = takenWaiters.get(token);
    takenWaiters.delete(token);
    taken?.();
    const left = (queued.get(token) ?? 1) - 1;
    if (left > 0) {
      queued.set(token, left);
      return;
    }
    queued.delete(token);
    for (const resolve of drainWaiters.get(token) ?? []) resolve();
    drainWaiters.delete(token);
  };
  let wakeConsumer: (() => void) | undefined;
  let roomWaiters: (() => void)[] = [];
  let closed = false;
  let closing: Promise<void> | undefined;
  /** Streams of removed tokens letting their last poll end: closing cuts them short. */
  const finishing = new Set<EventStream>();

  const wake = () => {
    const resolve = wakeConsumer;
    wakeConsumer = undefined;
    resolve?.();
  };
  const freeRoom = () => {
    const waiters = roomWaiters;
    roomWaiters = [];
    for (const resolve of waiters) resolve();
  };

  /**
   * Moves a token's events to the consumer, one at a time: a token's stream counts an event as
   * taken (and lets its inbox forget it at the next snapshot) when asked for the next one, so the
   * next is asked for only once the consumer took this one. Read ahead, an event waiting here
   * would be forgotten without being in the snapshot, and lost if this runner died then.
   */
  async function pump(token: string, stream: EventStream, stopped: { value: boolean }): Promise<void> {
    const events = stream[Symbol.asyncIterator]();
    for (;;) {
      const next = await events.next();
      if (next.done) break;
      const event = next.value;
      for (const listener of listeners.event) listener(event);
      while (queue.length >= bufferSize && !closed) await new Promise<void>((r) => roomWaiters.push(r));
      if (closed || stopped.value) break;
      const taken = new Promise<void>((resolve) => takenWaiters.set(token, resolve));
      queue.push(event);
      queued.set(event.token, (queued.get(event.token) ?? 0) + 1);
      wake();
      await taken;
      if (closed || stopped.value) break;
    }
    await events.return?.();
  }

  /** Lets a token's pump go without waiting for its last event to be taken. */
  const releasePump = (token: string) => {
    const waiter = takenWaiters.get(token);
    takenWaiters.delete(token);
    waiter?.();
  };

  const forward = <K extends keyof EventStreamEvents>(name: K) =>
    ((...args: unknown[]) => {
      for (const listener of listeners[name]) (listener as (...a: unknown[]) => void)(...args);
    }) as EventStreamEvents[K];

  const composite: LeasedEventStream = {
    add(token, fence) {
      if (closed || subs.has(token)) return;
      const stream = create({ ...options.stream, tokens: [token], cursors: options.cursors(token, fence) });
      stream.on('invalid', forward('invalid'));
      stream.on('poll-error', forward('poll-error'));
      stream.on('silent', forward('silent'));
      const stopped = { value: false };
      subs.set(token, {
        stream,
        pump: pump(token, stream, stopped).catch(() => undefined),
        stop: () => {
          stopped.value = true;
          releasePump(token);
        },
      });
    },
    async remove(token, removeOptions = {}) {
      const sub = subs.get(token);
      if (!sub) return;
      subs.delete(token);
      const finishMs = removeOptions.finishMs ?? 0;
      // finishing, the pump goes on moving the last answer's events to the consumer
      if (finishMs > 0 && !closed) {
        finishing.add(sub.stream);
        await sub.stream.finish(finishMs).finally(() => finishing.delete(sub.stream));
      }
      sub.stop();
      await sub.stream.close();
      await sub.pump;
      const drainMs = removeOptions.drainMs ?? 0;
      if (drainMs <= 0 || !queued.has(token) || closed) return;
      // Let the consumer take the token's events still queued (then one turn to process them).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) =>
          drainWaiters.set(token, [...(drainWaiters.get(token) ?? []), resolve]),
        ),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, drainMs);
        }),
      ]);
      clearTimeout(timer);
      await new Promise((resolve) => setImmediate(resolve));
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
        closed = true;
        for (const stream of finishing) void stream.close();
        freeRoom();
        for (const token of [...takenWaiters.keys()]) releasePump(token);
        await Promise.all([...subs.keys()].map((token) => composite.remove(token)));
        wake();
      })();
      return closing;
    },
    get closed() {
      return closed;
    },
    [Symbol.asyncIterator](): AsyncIterator<OvhEvent> {
      // The event handed to the consumer last: it counts as taken (its token's stream may ask for
      // the next one and let its answer go at the next snapshot) only when the consumer asks for
      // more, by which time it has applied it.
      let handed: OvhEvent | undefined;
      return {
        async next(): Promise<IteratorResult<OvhEvent>> {
          if (handed !== undefined) {
            consumedOne(handed.token);
            handed = undefined;
          }
          for (;;) {
            const event = queue.shift();
            if (event !== undefined) {
              handed = event;
              if (queue.length < bufferSize) freeRoom();
              return { value: event, done: false };
            }
            if (closed) return { value: undefined, done: true };
            await new Promise<void>((resolve) => {
              wakeConsumer = resolve;
            });
          }
        },
        async return(): Promise<IteratorResult<OvhEvent>> {
          return { value: undefined, done: true };
        },
      };
    },
  };
  return composite;
}
