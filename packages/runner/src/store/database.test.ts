import { mkdtempSync, rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';

let dir: string;
let saved: string | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cti-db-'));
  saved = process.env.CTI_SQLITE_DRIVER;
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  if (saved === undefined) delete process.env.CTI_SQLITE_DRIVER;
  else process.env.CTI_SQLITE_DRIVER = saved;
});

/** The drivers this Node can run: better-sqlite3 when its binding loads here, node:sqlite from Node 22. */
function drivers(): string[] {
  const list: string[] = [];
  try {
    delete process.env.CTI_SQLITE_DRIVER;
    openDatabase(':memory:').close();
    list.push('better-sqlite3');
  } catch {
    // Binding built for another Node (CI on Node 22/24 without a prebuilt binary).
  }
  if (isBuiltin('node:sqlite')) list.push('node:sqlite');
  return list;
}

describe.each(drivers())('store database driver %s', (driver) => {
  const open = (path: string, options?: { readonly?: boolean; fileMustExist?: boolean }) => {
    if (driver === 'node:sqlite') process.env.CTI_SQLITE_DRIVER = 'node:sqlite';
    else delete process.env.CTI_SQLITE_DRIVER;
    return openDatabase(path, options);
  };

  it('waits 5 s on a locked database, pragmas, named parameters, transactions that roll back', () => {
    const path = join(dir, 'a.db');
    const db = open(path);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    db.pragma('journal_mode = WAL');
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER)');
    const insert = db.prepare('INSERT OR IGNORE INTO t (id, n) VALUES (@id, @n)');
    expect(insert.run({ id: 'a', n: 1 }).changes).toBe(1);
    expect(insert.run({ id: 'a', n: 2 }).changes).toBe(0);
    const fail = db.transaction(() => {
      insert.run({ id: 'b', n: 2 });
      throw new Error('rolled back');
    });
    expect(() => fail()).toThrow('rolled back');
    expect(db.prepare('SELECT id, n FROM t ORDER BY id').all()).toEqual([{ id: 'a', n: 1 }]);
    expect(db.prepare('SELECT n FROM t WHERE id = ?').get('zz')).toBeUndefined();
    db.close();
    const readonly = open(path, { readonly: true, fileMustExist: true });
    expect(() => readonly.exec("INSERT INTO t VALUES ('c', 3)")).toThrow();
    readonly.close();
    expect(() => open(join(dir, 'missing.db'), { fileMustExist: true })).toThrow();
  });
});
