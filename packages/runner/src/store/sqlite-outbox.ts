import type { NewOutboxEntry, OutboxEntry, OutboxFilter, OutboxStatus, OutboxStore } from '@cti-bridge/core';
import type { Database } from './database.js';

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

/** Prepares the outbox statements run often (the others depend on the filter). */
function outboxStatements(db: Database) {
  return {
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
  };
}

/** The outbox and dead letters of the SQLite store; `guard` throws once the store is closed. */
export function createSqliteOutbox(db: Database, guard: () => void): OutboxStore {
  const stmt = outboxStatements(db);
  return {
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
}
