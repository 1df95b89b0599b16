import type { CursorStore, KeyValueStore, SnapshotStore } from '@cti-bridge/core';
import type { Database } from './database.js';

/** The tracker snapshots of the SQLite store; `guard` throws once the store is closed. */
export function createSqliteSnapshots(db: Database, guard: () => void, clock: () => number): SnapshotStore {
  const stmt = {
    snapshotSave: db.prepare(
      `INSERT INTO snapshots (key, value, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    ),
    snapshotLoad: db.prepare('SELECT value FROM snapshots WHERE key = ?'),
  };
  return {
    async save(key, value) {
      guard();
      stmt.snapshotSave.run(key, value, clock());
    },
    async load(key) {
      guard();
      return (stmt.snapshotLoad.get(key) as { value: string } | undefined)?.value;
    },
  };
}

/** The stream cursors of the SQLite store (and their deletion); `guard` throws once the store is closed. */
export function createSqliteCursors(
  db: Database,
  guard: () => void,
  clock: () => number,
): CursorStore & { delete(token: string): Promise<void> } {
  const stmt = {
    cursorSet: db.prepare(
      `INSERT INTO cursors (token, session, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (token) DO UPDATE SET session = excluded.session, updated_at = excluded.updated_at`,
    ),
    cursorGet: db.prepare('SELECT session FROM cursors WHERE token = ?'),
    cursorDelete: db.prepare('DELETE FROM cursors WHERE token = ?'),
  };
  return {
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
}

/** The adapters' key-value state of the SQLite store, with expiry; `guard` throws once the store is closed. */
export function createSqliteKv(db: Database, guard: () => void, clock: () => number): KeyValueStore {
  const stmt = {
    kvGet: db.prepare('SELECT value, expires_at FROM kv WHERE namespace = ? AND key = ?'),
    kvSet: db.prepare(
      `INSERT INTO kv (namespace, key, value, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    ),
    kvDelete: db.prepare('DELETE FROM kv WHERE namespace = ? AND key = ?'),
  };
  return {
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
}
