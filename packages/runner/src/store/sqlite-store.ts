import type { Store } from '@cti-bridge/core';
import { createSqliteOutbox } from './sqlite-outbox.js';
import { openMigratedDatabase } from './sqlite-schema.js';
import { createSqliteCursors, createSqliteKv, createSqliteSnapshots } from './sqlite-state.js';

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /** Database file; `:memory:` for a throw-away database. Parent directories are created. */
  readonly path: string;
  /** Clock for `updated_at` bookkeeping and kv expiry (default `Date.now`). */
  readonly clock?: () => number;
}

/** A {@link Store} on SQLite, with access to the database for diagnostics. */
export interface SqliteStore extends Store {
  /** Schema version reached by the migrations (`PRAGMA user_version`). */
  readonly schemaVersion: number;
  /** The database file. */
  readonly path: string;
}

/**
 * Opens (creating and migrating when needed) the runner's SQLite store: outbox and dead letters,
 * tracker snapshots, stream cursors and adapter key-value state, in one file in WAL mode so that a
 * crash loses nothing that was acknowledged. Calls are synchronous underneath (better-sqlite3),
 * exposed through core's async {@link Store} interface.
 */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const clock = options.clock ?? Date.now;
  const db = openMigratedDatabase(options.path, clock);

  let closed = false;
  const guard = (): void => {
    if (closed) throw new Error(`the SQLite store ${options.path} is closed`);
  };

  return {
    outbox: createSqliteOutbox(db, guard),
    snapshots: createSqliteSnapshots(db, guard, clock),
    cursors: createSqliteCursors(db, guard, clock),
    kv: createSqliteKv(db, guard, clock),
    path: options.path,
    schemaVersion: db.pragma('user_version', { simple: true }) as number,
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
