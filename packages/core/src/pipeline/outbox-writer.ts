import type { Logger } from '../logger.js';
import type { NewOutboxEntry, Store } from '../store/types.js';

/** What an {@link OutboxWriter} needs. */
export interface OutboxWriterOptions {
  readonly outbox: Pick<Store['outbox'], 'enqueue'>;
  readonly logger: Logger;
  readonly clock: () => number;
  /** How many refused entries wait in memory before the oldest is given up. */
  readonly maxUnwritten: number;
  /** After an entry is written: its adapter's delivery worker may look at the outbox. */
  readonly onWritten: (entry: NewOutboxEntry) => void;
  /** A refused write, reported at most once a minute. */
  readonly report: (error: unknown, context: string) => void;
}

/**
 * Writes outbox entries to the store before anything is sent (write before send). Entries the
 * store refuses (disk full, read-only file) are kept in memory, in order, and written as soon as it
 * accepts writes again. Bounded: past the bound, the oldest are given up, loudly.
 */
export interface OutboxWriter {
  /** Writes an entry (after those still waiting); never throws: a refused entry waits in memory. */
  enqueue(entry: NewOutboxEntry): Promise<void>;
  /** Writes what the store refused before, oldest first; throws at the first refusal. */
  writeUnwritten(): Promise<boolean>;
  /** The entries waiting in memory, oldest first. */
  unwritten(): readonly NewOutboxEntry[];
  /** How many entries were given up because too many waited in memory. */
  dropped(): number;
}

/** Creates an {@link OutboxWriter}. */
export function createOutboxWriter(options: OutboxWriterOptions): OutboxWriter {
  const { outbox, logger, clock, maxUnwritten, onWritten, report } = options;
  const unwritten: NewOutboxEntry[] = [];
  let dropped = 0;
  let lastStoreReport = Number.NEGATIVE_INFINITY;
  const writeEntry = async (entry: NewOutboxEntry) => {
    await outbox.enqueue(entry);
    logger.debug({ adapter: entry.adapter, id: entry.id }, 'outbox entry written');
    onWritten(entry);
  };
  const writeUnwritten = async (): Promise<boolean> => {
    while (unwritten.length > 0) {
      await writeEntry(unwritten[0] as NewOutboxEntry);
      unwritten.shift();
      if (unwritten.length === 0) {
        logger.info(
          {},
          'the state store accepts writes again: every call kept in memory is now in the outbox',
        );
      }
    }
    return true;
  };
  const keep = (entry: NewOutboxEntry, error: unknown) => {
    unwritten.push(entry);
    if (unwritten.length > maxUnwritten) {
      const lost = unwritten.shift() as NewOutboxEntry;
      dropped++;
      logger.error(
        { id: lost.id, adapter: lost.adapter, kind: lost.kind, dropped },
        `the state store refuses writes and ${maxUnwritten} entries already wait in memory: the oldest is given up`,
      );
    }
    // once a minute at most: the store stays refused for as long as the disk is full
    const now = clock();
    if (now - lastStoreReport >= 60_000) {
      lastStoreReport = now;
      report(
        error,
        `the state store refused a write: kept in memory (${unwritten.length} waiting), written when the store accepts writes again`,
      );
    }
  };
  return {
    async enqueue(entry) {
      try {
        if (unwritten.length === 0 || (await writeUnwritten())) return await writeEntry(entry);
      } catch (error) {
        keep(entry, error);
      }
    },
    writeUnwritten,
    unwritten: () => unwritten,
    dropped: () => dropped,
  };
}
