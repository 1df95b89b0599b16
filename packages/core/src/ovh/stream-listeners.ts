import type { Logger } from '../logger.js';
import type { EventStreamEvents } from './event-stream.js';

/** The listeners of an event stream, by event name; a listener that throws is logged, not fatal. */
export class StreamListeners {
  private readonly sets: { [K in keyof EventStreamEvents]: Set<EventStreamEvents[K]> } = {
    event: new Set(),
    invalid: new Set(),
    'poll-error': new Set(),
    silent: new Set(),
  };

  constructor(private readonly logger: Logger) {}

  /** Adds a listener of `name`. */
  add<K extends keyof EventStreamEvents>(name: K, listener: EventStreamEvents[K]): void {
    (this.sets[name] as Set<typeof listener>).add(listener);
  }

  /** Removes a listener of `name`. */
  remove<K extends keyof EventStreamEvents>(name: K, listener: EventStreamEvents[K]): void {
    (this.sets[name] as Set<typeof listener>).delete(listener);
  }

  /** How many `event` listeners there are. */
  get eventListenerCount(): number {
    return this.sets.event.size;
  }

  /** Calls every listener of `name`, in the order they were added. */
  emit<K extends keyof EventStreamEvents>(name: K, ...args: Parameters<EventStreamEvents[K]>): void {
    for (const listener of this.sets[name]) {
      try {
        (listener as (...a: Parameters<EventStreamEvents[K]>) => void)(...args);
      } catch (error) {
        this.logger.error(
          { err: error instanceof Error ? error.message : String(error), listener: name },
          'listener threw',
        );
      }
    }
  }
}
