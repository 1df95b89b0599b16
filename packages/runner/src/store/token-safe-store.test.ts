import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStoreConformance } from '@cti-bridge/core/testing/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from './sqlite-store.js';
import { isTokenReference, tokenReference, tokenSafeStore } from './token-safe-store.js';

const TOKEN = 'A1B2C3D4-7E57-4000-8000-00000000CAFE';
const OTHER = 'F0F0F0F0-7E57-4000-8000-0000000000AB';

const dir = mkdtempSync(join(tmpdir(), 'cti-token-safe-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fileText = (path: string) =>
  ['', '-wal']
    .map((suffix) => {
      try {
        return readFileSync(path + suffix).toString('latin1');
      } catch {
        return '';
      }
    })
    .join('');

// The wrapper is a faithful Store: core's whole store suite through it.
describeStoreConformance({
  name: 'sqlite behind tokenSafeStore',
  create: async () =>
    tokenSafeStore(createSqliteStore({ path: join(dir, `conf-${n++}.db`) }), [TOKEN, OTHER]),
});

describe('tokenSafeStore', () => {
  it('keeps no configured OVH token in the file, and gives back exactly what was written', async () => {
    const path = join(dir, `clear-${n++}.db`);
    const store = tokenSafeStore(createSqliteStore({ path }), [TOKEN, OTHER]);
    const snapshot = JSON.stringify({
      calls: [
        { callId: 'c1', token: TOKEN },
        { callId: 'c2', token: OTHER },
      ],
    });
    const payload = { call: { callId: 'c1', token: TOKEN, remote: '+33612345678' } };
    await store.cursors.set(TOKEN, 'session-1');
    await store.snapshots.save('tracker', snapshot);
    await store.outbox.enqueue({
      id: 'hubspot:tag:c1:log-call',
      adapter: 'hubspot',
      kind: 'log-call',
      payload,
      createdAt: 1,
    });
    await store.kv.set(`journal:${TOKEN}`, 'seen', `["c1 ${TOKEN}"]`);

    expect(await store.cursors.get(TOKEN)).toBe('session-1');
    expect(await store.snapshots.load('tracker')).toBe(snapshot);
    expect((await store.outbox.get('hubspot:tag:c1:log-call'))?.payload).toEqual(payload);
    expect((await store.outbox.due('hubspot', 10, 10))[0]?.payload).toEqual(payload);
    expect((await store.outbox.list())[0]?.payload).toEqual(payload);
    expect(await store.kv.get(`journal:${TOKEN}`, 'seen')).toBe(`["c1 ${TOKEN}"]`);
    await store.close();

    const text = fileText(path);
    expect(text, 'a configured OVH token was written to the state file in clear').not.toContain(TOKEN);
    expect(text).not.toContain(OTHER);
    expect(text).toContain(tokenReference(TOKEN));
  });

  it('reads a state file written before (tokens in clear) and moves its cursor to the reference', async () => {
    const path = join(dir, `old-${n++}.db`);
    const old = createSqliteStore({ path });
    await old.cursors.set(TOKEN, 'old-session');
    const oldSnapshot = JSON.stringify({ calls: [{ callId: 'c1', token: TOKEN }] });
    await old.snapshots.save('tracker', oldSnapshot);
    await old.close();

    const inner = createSqliteStore({ path });
    const store = tokenSafeStore(inner, [TOKEN]);
    expect(await store.cursors.get(TOKEN), 'the cursor of an older file must not be lost').toBe(
      'old-session',
    );
    expect(await store.snapshots.load('tracker')).toBe(oldSnapshot);
    await store.cursors.set(TOKEN, 'new-session');
    await store.snapshots.save('tracker', oldSnapshot);
    expect(await inner.cursors.get(TOKEN), 'the clear-text cursor row stays after the move').toBeUndefined();
    expect(await store.cursors.get(TOKEN)).toBe('new-session');
    await store.close();
    // rows deleted or rewritten are zeroed (secure_delete), not left in free pages
    const text = fileText(path);
    expect(text).not.toContain(TOKEN);
  });

  it('leaves unknown tokens and the references of tokens no longer configured as they are', async () => {
    const path = join(dir, `other-${n++}.db`);
    const first = tokenSafeStore(createSqliteStore({ path }), [TOKEN, OTHER]);
    await first.snapshots.save('tracker', `["${TOKEN}","${OTHER}","not-a-configured-token"]`);
    await first.close();
    const second = tokenSafeStore(createSqliteStore({ path }), [TOKEN]);
    expect(await second.snapshots.load('tracker')).toBe(
      `["${TOKEN}","${tokenReference(OTHER)}","not-a-configured-token"]`,
    );
    await second.close();
    expect(isTokenReference(tokenReference(OTHER))).toBe(true);
    expect(isTokenReference(OTHER)).toBe(false);
  });

  it('is the store itself when no token is configured, and keeps the store’s other members', async () => {
    const inner = createSqliteStore({ path: ':memory:' });
    expect(tokenSafeStore(inner, [])).toBe(inner);
    const wrapped = tokenSafeStore(inner, [TOKEN]);
    expect(wrapped.schemaVersion).toBe(inner.schemaVersion);
    expect(wrapped.path).toBe(inner.path);
    await wrapped.close();
  });
});
