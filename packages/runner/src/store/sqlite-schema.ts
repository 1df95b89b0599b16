import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Database, openDatabase } from './database.js';

/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many ran. Append only:
 * never edit a migration that shipped.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE outbox (
     id TEXT PRIMARY KEY,
     adapter TEXT NOT NULL,
     kind TEXT NOT NULL,
     payload TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     status TEXT NOT NULL DEFAULT 'pending',
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     last_error TEXT,
     result TEXT
   );
   CREATE INDEX outbox_due ON outbox (adapter, status, next_attempt_at);
   CREATE INDEX outbox_status ON outbox (status, updated_at);
   CREATE TABLE snapshots (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL);
   CREATE TABLE cursors (token TEXT PRIMARY KEY, session TEXT NOT NULL, updated_at INTEGER NOT NULL);
   CREATE TABLE kv (
     namespace TEXT NOT NULL,
     key TEXT NOT NULL,
     value TEXT NOT NULL,
     expires_at INTEGER,
     PRIMARY KEY (namespace, key)
   );`,
];

/**
 * The state file holds CRM state and call data: readable by its owner only (0600). Created so
 * before SQLite opens it (its -wal and -shm files take the same mode), and tightened when an
 * older version left it readable by others.
 */
function restrictToOwner(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/**
 * Refuses, at start, a state file that cannot do its job: damaged (SQLite's `quick_check`) or not
 * writable (read-only file, directory or disk). Better a clear stop now than calls lost later.
 */
function verifyUsable(db: Database, clock: () => number): void {
  const check = db.pragma('quick_check(1)', { simple: true });
  if (check !== 'ok') {
    throw Object.assign(new Error(`SQLite quick_check: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
  }
  db.prepare(
    "INSERT OR REPLACE INTO kv (namespace, key, value, expires_at) VALUES ('ops', 'opened', ?, NULL)",
  ).run(String(clock()));
}

/**
 * Opens the SQLite file (created readable by its owner only), sets its pragmas (WAL), runs the
 * migrations it lacks and, for a file, verifies it is usable.
 */
export function openMigratedDatabase(path: string, clock: () => number): Database {
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true });
    restrictToOwner(path);
  }
  const db = openDatabase(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  // Deleted rows are zeroed, not left in free pages: a row that once held a secret (a cursor keyed
  // by an OVH token before token-safe-store.ts) does not linger in the file.
  db.pragma('secure_delete = ON');

  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    db.close();
    throw new Error(
      `${path} was written by a newer cti-runner (schema ${current}, this one knows ${MIGRATIONS.length}): upgrade cti-runner`,
    );
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }

  if (path !== ':memory:') {
    try {
      verifyUsable(db, clock);
    } catch (error) {
      db.close();
      throw error;
    }
  }
  return db;
}
