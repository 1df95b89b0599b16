import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import BetterSqlite3 from 'better-sqlite3';

/**
 * The SQLite driver of the store: better-sqlite3.
 *
 * For CI only, `CTI_SQLITE_DRIVER=node:sqlite` swaps in Node's built-in `node:sqlite` (Node ≥ 22.13)
 * behind the part of better-sqlite3's API the runner uses. better-sqlite3 is a native addon built
 * per Node ABI; where it cannot be built for a Node (no prebuilt binary and no headers reachable),
 * the test suite still runs on that Node with the same SQL, the same files and the same SQLite
 * semantics. Production always uses better-sqlite3.
 */
export type Database = BetterSqlite3.Database;

/** Options of the subset offered by both drivers. */
export interface DatabaseOptions {
  readonly readonly?: boolean;
  readonly fileMustExist?: boolean;
}

type NodeStatement = {
  run(...params: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
};
type NodeDatabase = {
  exec(sql: string): void;
  prepare(sql: string): NodeStatement;
  close(): void;
};

/** `node:sqlite`, loaded without its "experimental" warning (CI only, see above). */
function nodeSqlite(): { DatabaseSync: new (path: string, options?: object) => NodeDatabase } {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (/SQLite is an experimental feature/.test(text)) return;
    (emit as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return createRequire(import.meta.url)('node:sqlite') as ReturnType<typeof nodeSqlite>;
  } finally {
    process.emitWarning = emit;
  }
}

/** better-sqlite3's API (what the runner and its tests use) over `node:sqlite`. */
class NodeSqliteDatabase {
  readonly #db: NodeDatabase;

  constructor(path: string, options: DatabaseOptions = {}) {
    if (options.fileMustExist === true && path !== ':memory:' && !existsSync(path)) {
      throw new Error(`unable to open database file: ${path}`);
    }
    const { DatabaseSync } = nodeSqlite();
    this.#db = new DatabaseSync(path, { readOnly: options.readonly === true });
    // better-sqlite3 waits up to 5 s on a locked database by default; node:sqlite does not wait.
    this.#db.exec('PRAGMA busy_timeout = 5000');
  }

  exec(sql: string): this {
    this.#db.exec(sql);
    return this;
  }

  prepare(sql: string): NodeStatement {
    return this.#db.prepare(sql);
  }

  pragma(source: string, options: { simple?: boolean } = {}): unknown {
    const rows = this.#db.prepare(`PRAGMA ${source}`).all() as Record<string, unknown>[];
    if (options.simple === true) {
      const first = rows[0];
      return first === undefined ? undefined : Object.values(first)[0];
    }
    return rows;
  }

  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    return (...args: A) => {
      this.#db.exec('BEGIN');
      try {
        const result = fn(...args);
        this.#db.exec('COMMIT');
        return result;
      } catch (error) {
        this.#db.exec('ROLLBACK');
        throw error;
      }
    };
  }

  close(): this {
    this.#db.close();
    return this;
  }
}

/** Opens a database with the store's driver (see {@link Database}). */
export function openDatabase(path: string, options: DatabaseOptions = {}): Database {
  if (process.env.CTI_SQLITE_DRIVER === 'node:sqlite') {
    return new NodeSqliteDatabase(path, options) as unknown as Database;
  }
  return new BetterSqlite3(path, options);
}
