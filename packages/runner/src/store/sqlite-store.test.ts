import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitError } from '../exit-codes.js';
import { openDatabase } from './database.js';
import { openSqliteStore } from './open.js';
import { createSqliteStore } from './sqlite-store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cti-sqlite-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const entry = (id: string, createdAt = 1000, adapter = 'crm') => ({
  id,
  adapter,
  kind: 'log-call' as const,
  payload: { callId: id, n: 1 },
  createdAt,
});

describe('SQLite store', () => {
  it('migrates a new file to the latest schema, in WAL mode', async () => {
    const path = join(dir, 'nested', 'state.db');
    const store = createSqliteStore({ path });
    expect(store.schemaVersion).toBe(1);
    await store.close();
    const db = openDatabase(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    db.close();
  });

  it('creates the state file and its WAL readable by its owner only (0600), and tightens an old one', async () => {
    const path = join(dir, 'state.db');
    const store = createSqliteStore({ path });
    await store.outbox.enqueue(entry('m-1'));
    for (const file of [path, `${path}-wal`]) expect(statSync(file).mode & 0o777).toBe(0o600);
    await store.close();
    const old = join(dir, 'old.db');
    writeFileSync(old, '');
    chmodSync(old, 0o644);
    const reopened = createSqliteStore({ path: old });
    expect(statSync(old).mode & 0o777).toBe(0o600);
    await reopened.close();
  });

  it('keeps the outbox, cursors, snapshots and kv across a reopen', async () => {
    const path = join(dir, 'state.db');
    const first = createSqliteStore({ path });
    expect(await first.outbox.enqueue(entry('a'))).toBe(true);
    expect(await first.outbox.enqueue(entry('a'))).toBe(false);
    await first.cursors.set('TOKEN', 'session-1');
    await first.snapshots.save('tracker:TOKEN', '{"calls":[]}');
    await first.kv.set('crm', 'k', 'v');
    await first.close();

    const second = createSqliteStore({ path });
    expect(await second.outbox.get('a')).toMatchObject({
      status: 'pending',
      attempts: 0,
      payload: { callId: 'a' },
    });
    expect(await second.cursors.get('TOKEN')).toBe('session-1');
    expect(await second.snapshots.load('tracker:TOKEN')).toBe('{"calls":[]}');
    expect(await second.kv.get('crm', 'k')).toBe('v');
    await second.close();
  });

  it('schedules, retries, dead-letters, requeues and purges', async () => {
    const store = createSqliteStore({ path: join(dir, 's.db') });
    await store.outbox.enqueue(entry('b', 2000));
    await store.outbox.enqueue(entry('a', 1000));
    await store.outbox.enqueue(entry('other', 1000, 'crm2'));
    expect((await store.outbox.due('crm', 5000, 10)).map((e) => e.id)).toEqual(['a', 'b']);
    expect(await store.outbox.due('crm', 1500, 10)).toHaveLength(1);

    await store.outbox.markRetry('a', { kind: 'rate-limit', message: 'slow down' }, 9000, 5000);
    expect(await store.outbox.nextDueAt('crm')).toBe(2000);
    expect((await store.outbox.due('crm', 5000, 10)).map((e) => e.id)).toEqual(['b']);
    await store.outbox.markDelivered('b', { id: 'act-1', created: true }, 5001);
    await store.outbox.markDead('a', { kind: 'transient', message: '503' }, 9001);
    expect(await store.outbox.get('a')).toMatchObject({
      status: 'dead',
      attempts: 2,
      lastError: { kind: 'transient', message: '503' },
    });
    expect(await store.outbox.get('b')).toMatchObject({ status: 'delivered', result: { id: 'act-1' } });
    expect(await store.outbox.counts('crm')).toEqual({ pending: 0, delivered: 1, dead: 1 });

    expect(await store.outbox.requeue({ adapter: 'crm' }, 10_000)).toBe(1);
    expect(await store.outbox.get('a')).toMatchObject({
      status: 'pending',
      attempts: 0,
      nextAttemptAt: 10_000,
    });
    // purge leaves pending entries alone unless asked by status
    expect(await store.outbox.purge({})).toBe(1);
    expect(await store.outbox.counts()).toEqual({ pending: 2, delivered: 0, dead: 0 });
    expect(await store.outbox.purge({ status: 'pending', adapter: 'crm2' })).toBe(1);
    expect((await store.outbox.list()).map((e) => e.id)).toEqual(['a']);
    await store.close();
  });

  it('expires kv entries after their ttl', async () => {
    const store = createSqliteStore({ path: ':memory:', clock: () => 100 });
    await store.kv.set('ns', 'k', 'v', { ttlMs: 50, now: 100 });
    expect(await store.kv.get('ns', 'k', 149)).toBe('v');
    expect(await store.kv.get('ns', 'k', 150)).toBeUndefined();
    await store.kv.set('ns', 'k2', 'v2');
    await store.kv.delete('ns', 'k2');
    expect(await store.kv.get('ns', 'k2')).toBeUndefined();
    await store.close();
  });

  it('refuses a database written by a newer schema', async () => {
    const path = join(dir, 'future.db');
    const db = openDatabase(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => createSqliteStore({ path })).toThrow(/newer cti-runner/);
  });
});

describe('SQLite store: a state file that cannot do its job is refused at start', () => {
  const filled = async (path: string) => {
    const store = createSqliteStore({ path });
    for (let i = 0; i < 200; i++)
      await store.outbox.enqueue({ ...entry(`e-${i}`), payload: { pad: 'x'.repeat(500) } });
    await store.close();
  };

  it('a damaged file: one line that says what to do', async () => {
    const path = join(dir, 'state.db');
    await filled(path);
    const bytes = readFileSync(path);
    // scribble over pages 2 to 20 (the outbox's b-tree), as a failing disk would
    bytes.fill(0xa5, 4096, 4096 * 20);
    writeFileSync(path, bytes);
    expect(() => openSqliteStore({ path })).toThrow(ExitError);
    expect(() => openSqliteStore({ path })).toThrow(
      /the state file .*state\.db is damaged .*mv .*state\.db\.damaged/,
    );
  });

  it('a file that is not a database at all', () => {
    const path = join(dir, 'state.db');
    writeFileSync(path, 'this is not an SQLite file, but it is long enough to have a header '.repeat(20));
    expect(() => openSqliteStore({ path })).toThrow(/is damaged/);
  });

  it('a read-only file', async (ctx) => {
    const path = join(dir, 'ro', 'state.db');
    mkdirSync(join(dir, 'ro'));
    let unmount = () => {};
    if (process.getuid?.() === 0) {
      // root writes through file modes: a read-only mount is what refuses it
      const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', join(dir, 'ro')]);
      if (mounted.status !== 0) {
        console.warn(
          `SKIPPED read-only state file test: running as root and cannot mount a tmpfs (${mounted.stderr})`,
        );
        ctx.skip();
      }
      unmount = () => spawnSync('umount', [join(dir, 'ro')]);
      await filled(path);
      spawnSync('mount', ['-o', 'remount,ro', join(dir, 'ro')]);
    } else {
      await filled(path);
      chmodSync(path, 0o444);
      chmodSync(join(dir, 'ro'), 0o555);
    }
    try {
      expect(() => openSqliteStore({ path })).toThrow(
        /cannot write the state file .*state\.db: it is read-only/,
      );
    } finally {
      unmount();
      chmodSync(join(dir, 'ro'), 0o755);
    }
  });
});
