import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type {
  CursorStore,
  KeyValueStore,
  NewOutboxEntry,
  OutboxEntry,
  OutboxFilter,
  OutboxStatus,
  OutboxStore,
  SnapshotStore,
  Store,
} from '@cti-bridge/core';
import { openDatabase } from './database.js';

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

interface OutboxRow {
  id: string;
  adapter: string;
  kind: string;
  payload: string;
  created_at: number;
  status: string;
  attempts: number;
  next_attempt_at: number;
  updated_at: number;
  last_error: string | null;
  result: string | null;
}

function toEntry(row: OutboxRow): OutboxEntry {
  const entry: OutboxEntry = {
    id: row.id,
    adapter: row.adapter,
    kind: row.kind as OutboxEntry['kind'],
    payload: JSON.parse(row.payload) as unknown,
    createdAt: row.created_at,
    status: row.status as OutboxStatus,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    updatedAt: row.updated_at,
    ...(row.last_error === null
      ? {}
      : { lastError: JSON.parse(row.last_error) as NonNullable<OutboxEntry['lastError']> }),
    ...(row.result === null ? {} : { result: JSON.parse(row.result) as unknown }),
  };
  return entry;
}

/** WHERE clause + parameters of an outbox filter. */
/** `FROM outbox WHERE … ORDER BY … LIMIT …` for a filter: oldest first, as every listing is. */
function selection(filter: OutboxFilter, defaultExcludePending = false): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (filter.status !== undefined) {
    clauses.push('status = ?');
    params.push(filter.status);
  } else if (defaultExcludePending) {
    clauses.push("status <> 'pending'");
  }
  if (filter.adapter !== undefined) {
    clauses.push('adapter = ?');
    params.push(filter.adapter);
  }
  if (filter.ids !== undefined) {
    if (filter.ids.length === 0) clauses.push('0');
    else {
      clauses.push(`id IN (${filter.ids.map(() => '?').join(', ')})`);
      params.push(...filter.ids);
    }
  }
  if (filter.updatedBefore !== undefined) {
    clauses.push('updated_at < ?');
    params.push(filter.updatedBefore);
  }
  const where = clauses.length > 0 ? ` WHERE ${clauses.join(' AND ')}` : '';
  const limit = filter.limit === undefined ? '' : ` LIMIT ${Math.max(0, Math.floor(filter.limit))}`;
  return { sql: `FROM outbox${where} ORDER BY created_at, id${limit}`, params };
}

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
 * Opens (creating and migrating when needed) the runner's SQLite store: outbox and dead letters,
 * tracker snapshots, stream cursors and adapter key-value state, in one file in WAL mode so that a
 * crash loses nothing that was acknowledged. Calls are synchronous underneath (better-sqlite3),
 * exposed through core's async {@link Store} interface.
 */
/**
 * Refuses, at start, a state file that cannot do its job: damaged (SQLite's `quick_check`) or not
 * writable (read-only file, directory or disk). Better a clear stop now than calls lost later.
 */
function verifyUsable(db: ReturnType<typeof openDatabase>, clock: () => number): void {
  const check = db.pragma('quick_check(1)', { simple: true });
  if (check !== 'ok') {
    throw Object.assign(new Error(`SQLite quick_check: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
  }
  db.prepare(
    "INSERT OR REPLACE INTO kv (namespace, key, value, expires_at) VALUES ('ops', 'opened', ?, NULL)",
  ).run(String(clock()));
}

export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const clock = options.clock ?? Date.now;
  if (options.path !== ':memory:') {
    mkdirSync(dirname(options.path), { recursive: true });
    restrictToOwner(options.path);
  }
  const db = openDatabase(options.path);
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
      `${options.path} was written by a newer cti-runner (schema ${current}, this one knows ${MIGRATIONS.length}): upgrade cti-runner`,
    );
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }

  if (options.path !== ':memory:') {
    try {
      verifyUsable(db, clock);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  const stmt = {
    insert: db.prepare(
      `INSERT OR IGNORE INTO outbox (id, adapter, kind, payload, created_at, status, attempts, next_attempt_at, updated_at)
       VALUES (@id, @adapter, @kind, @payload, @createdAt, 'pending', 0, @createdAt, @now)`,
    ),
    get: db.prepare('SELECT * FROM outbox WHERE id = ?'),
    // Run on every /metrics scrape and /readyz request, per adapter.
    counts: db.prepare('SELECT status, COUNT(*) AS n FROM outbox GROUP BY status'),
    countsOf: db.prepare('SELECT status, COUNT(*) AS n FROM outbox WHERE adapter = ? GROUP BY status'),
    due: db.prepare(
      `SELECT * FROM outbox WHERE adapter = ? AND status = 'pending' AND next_attempt_at <= ?
       ORDER BY next_attempt_at, created_at, id LIMIT ?`,
    ),
    nextDue: db.prepare(
      "SELECT MIN(next_attempt_at) AS next FROM outbox WHERE adapter = ? AND status = 'pending'",
    ),
    delivered: db.prepare("UPDATE outbox SET status = 'delivered', result = ?, updated_at = ? WHERE id = ?"),
    retry: db.prepare(
      'UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?',
    ),
    dead: db.prepare(
      "UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = ?, updated_at = ? WHERE id = ?",
    ),
    snapshotSave: db.prepare(
      `INSERT INTO snapshots (key, value, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    ),
    snapshotLoad: db.prepare('SELECT value FROM snapshots WHERE key = ?'),
    cursorSet: db.prepare(
      `INSERT INTO cursors (token, session, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (token) DO UPDATE SET session = excluded.session, updated_at = excluded.updated_at`,
    ),
    cursorGet: db.prepare('SELECT session FROM cursors WHERE token = ?'),
    cursorDelete: db.prepare('DELETE FROM cursors WHERE token = ?'),
    kvGet: db.prepare('SELECT value, expires_at FROM kv WHERE namespace = ? AND key = ?'),
    kvSet: db.prepare(
      `INSERT INTO kv (namespace, key, value, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    ),
    kvDelete: db.prepare('DELETE FROM kv WHERE namespace = ? AND key = ?'),
  };

  let closed = false;
  const guard = (): void => {
    if (closed) throw new Error(`the SQLite store ${options.path} is closed`);
  };

  const outbox: OutboxStore = {
    async enqueue(entry: NewOutboxEntry) {
      guard();
      const info = stmt.insert.run({
        id: entry.id,
        adapter: entry.adapter,
        kind: entry.kind,
        payload: JSON.stringify(entry.payload ?? null),
        createdAt: entry.createdAt,
        now: entry.createdAt,
      });
      return info.changes === 1;
    },
    async get(id) {
      guard();
      const row = stmt.get.get(id) as OutboxRow | undefined;
      return row === undefined ? undefined : toEntry(row);
    },
    async due(adapter, now, limit) {
      guard();
      return (stmt.due.all(adapter, now, limit) as OutboxRow[]).map(toEntry);
    },
    async nextDueAt(adapter) {
      guard();
      const row = stmt.nextDue.get(adapter) as { next: number | null } | undefined;
      return row?.next ?? undefined;
    },
    async markDelivered(id, result, now) {
      guard();
      stmt.delivered.run(result === undefined ? null : JSON.stringify(result), now, id);
    },
    async markRetry(id, error, nextAttemptAt, now) {
      guard();
      stmt.retry.run(error === undefined ? null : JSON.stringify(error), nextAttemptAt, now, id);
    },
    async markDead(id, error, now) {
      guard();
      stmt.dead.run(error === undefined ? null : JSON.stringify(error), now, id);
    },
    async list(filter = {}) {
      guard();
      const { sql, params } = selection(filter);
      return (db.prepare(`SELECT * ${sql}`).all(...params) as OutboxRow[]).map(toEntry);
    },
    async requeue(filter, now) {
      guard();
      const { sql, params } = selection({ ...filter, status: 'dead' });
      const info = db
        .prepare(
          `UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ?
           WHERE id IN (SELECT id ${sql})`,
        )
        .run(now, now, ...params);
      return info.changes;
    },
    async purge(filter) {
      guard();
      const { sql, params } = selection(filter, true);
      const info = db.prepare(`DELETE FROM outbox WHERE id IN (SELECT id ${sql})`).run(...params);
      return info.changes;
    },
    async counts(adapter) {
      guard();
      const rows = (adapter === undefined ? stmt.counts.all() : stmt.countsOf.all(adapter)) as Array<{
        status: OutboxStatus;
        n: number;
      }>;
      const counts: Record<OutboxStatus, number> = { pending: 0, delivered: 0, dead: 0 };
      for (const row of rows) counts[row.status] = row.n;
      return counts;
    },
  };

  const snapshots: SnapshotStore = {
    async save(key, value) {
      guard();
      stmt.snapshotSave.run(key, value, clock());
    },
    async load(key) {
      guard();
      return (stmt.snapshotLoad.get(key) as { value: string } | undefined)?.value;
    },
  };

  const cursors: CursorStore & { delete(token: string): Promise<void> } = {
    async get(token) {
      guard();
      return (stmt.cursorGet.get(token) as { session: string } | undefined)?.session;
    },
    async set(token, session) {
      guard();
      stmt.cursorSet.run(token, session, clock());
    },
    /** Drops a cursor row (a cursor moved to its token reference, see token-safe-store.ts). */
    async delete(token) {
      guard();
      stmt.cursorDelete.run(token);
    },
  };

  const kv: KeyValueStore = {
    async get(namespace, key, now) {
      guard();
      const row = stmt.kvGet.get(namespace, key) as { value: string; expires_at: number | null } | undefined;
      if (row === undefined) return undefined;
      if (row.expires_at !== null && row.expires_at <= (now ?? clock())) {
        stmt.kvDelete.run(namespace, key);
        return undefined;
      }
      return row.value;
    },
    async set(namespace, key, value, setOptions) {
      guard();
      const ttl = setOptions?.ttlMs;
      stmt.kvSet.run(namespace, key, value, ttl === undefined ? null : (setOptions?.now ?? clock()) + ttl);
    },
    async delete(namespace, key) {
      guard();
      stmt.kvDelete.run(namespace, key);
    },
  };

  return {
    outbox,
    snapshots,
    cursors,
    kv,
    path: options.path,
    schemaVersion: db.pragma('user_version', { simple: true }) as number,
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
