import type { NewOutboxEntry } from '@cti-bridge/core';
import type { Redis } from 'ioredis';

/** Options of {@link createOutboxBuffer}. */
export interface OutboxBufferOptions {
  /** The store's connection: its status tells whether Redis is reachable now. */
  readonly client: Redis;
  /** Entries kept in memory at most (0 disables the buffer). */
  readonly limit: number;
  /** How often buffered entries are retried. */
  readonly flushIntervalMs: number;
  readonly onError?: ((error: Error) => void) | undefined;
  /** Writes one entry (its payload frozen as JSON) to Redis: true when written, false when its id exists. */
  readonly write: (entry: NewOutboxEntry, payload: string) => Promise<boolean>;
}

/** The store's outbox `enqueue` with entries kept in memory while Redis cannot be reached. */
export interface OutboxBuffer {
  /** Writes the entry, or keeps it in memory while Redis is unreachable (throws past the limit). */
  enqueue(entry: NewOutboxEntry): Promise<boolean>;
  /** Writes the buffered entries now. Returns how many remain. */
  flush(): Promise<number>;
  /** Entries waiting in memory. */
  size(): number;
  /** Stops the periodic flush. */
  stop(): void;
}

/** True for an error that means "Redis is not reachable now" rather than a refused command. */
function isConnectionError(client: Redis, error: unknown): boolean {
  if (client.status !== 'ready') return true;
  const name = (error as { name?: string } | null)?.name ?? '';
  const message = error instanceof Error ? error.message : '';
  return (
    name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT/.test(message)
  );
}

/**
 * Outbox entries accepted while Redis is unreachable, kept in order (payload frozen as JSON) and
 * written, in order, as soon as Redis answers again (every `flushIntervalMs`).
 */
export function createOutboxBuffer(options: OutboxBufferOptions): OutboxBuffer {
  const { client, limit: bufferLimit, write: writeEntry } = options;
  const buffer = new Map<string, { entry: NewOutboxEntry; payload: string }>();
  let flushing: Promise<number> | undefined;
  const flush = (): Promise<number> => {
    flushing ??= (async () => {
      try {
        for (const [id, { entry, payload }] of buffer) {
          await writeEntry(entry, payload);
          buffer.delete(id);
        }
      } catch {
        // Still unreachable: the next flush tries again.
      }
      return buffer.size;
    })().finally(() => {
      flushing = undefined;
    });
    return flushing;
  };
  const flushTimer = setInterval(() => {
    if (buffer.size > 0) void flush();
  }, options.flushIntervalMs);
  flushTimer.unref?.();

  return {
    async enqueue(entry: NewOutboxEntry) {
      if (buffer.has(entry.id)) return false;
      const payload = JSON.stringify(entry.payload ?? null);
      // Disconnected: no need to wait for ioredis's retries, keep the entry at once.
      if (buffer.size === 0 && (client.status === 'ready' || bufferLimit <= 0)) {
        try {
          return await writeEntry(entry, payload);
        } catch (error) {
          if (bufferLimit <= 0 || !isConnectionError(client, error)) throw error;
        }
      }
      // Redis is unreachable (or entries wait before this one: keep their order).
      if (buffer.size >= bufferLimit) {
        throw new Error(
          `Redis is unreachable and ${buffer.size} outbox entries already wait in memory (bufferLimit): refusing new work until Redis answers again`,
        );
      }
      buffer.set(entry.id, { entry, payload });
      options.onError?.(
        new Error(`Redis unreachable: outbox entry ${entry.id} kept in memory (${buffer.size} waiting)`),
      );
      return true;
    },
    flush,
    size: () => buffer.size,
    stop: () => clearInterval(flushTimer),
  };
}
