import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../store/sqlite-store.js';
import { outboxList, outboxPurge, outboxRetry, parseDuration } from './outbox.js';

let dir: string;
let db: string;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cti-outbox-'));
  db = join(dir, 'state.db');
  const store = createSqliteStore({ path: db });
  const now = Date.now();
  for (const [id, adapter] of [
    ['a', 'hubspot'],
    ['b', 'hubspot'],
    ['c', 'odoo'],
    ['d', 'odoo'],
  ] as const) {
    await store.outbox.enqueue({
      id,
      adapter,
      kind: 'log-call',
      payload: { call: { callId: `call-${id}` } },
      createdAt: now,
    });
  }
  await store.outbox.markDead('a', { kind: 'auth', message: 'HubSpot rejected the token' }, now);
  await store.outbox.markDead('c', { kind: 'invalid', message: 'bad field' }, now);
  await store.outbox.markDelivered('d', { id: 'x', created: true }, now);
  await store.close();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('outbox commands', () => {
  it('list shows dead letters with their error; json prints one entry per line', async () => {
    const lines: string[] = [];
    expect(await outboxList({ db }, (l) => lines.push(l))).toBe(0);
    const text = lines.join('\n');
    expect(text).toMatch(/a\s+hubspot\s+log-call\s+dead\s+1\s+call-a\s+auth: HubSpot rejected the token/);
    expect(text).toContain('2 shown — pending 1, delivered 1, dead 2');
    const json: string[] = [];
    await outboxList({ db, adapter: 'odoo', format: 'json' }, (l) => json.push(l));
    expect(json.map((l) => JSON.parse(l).id)).toEqual(['c']);
  });

  it('retry requeues dead letters (of one adapter); purge spares pending entries', async () => {
    const out: string[] = [];
    await outboxRetry({ db, adapter: 'hubspot' }, (l) => out.push(l));
    expect(out[0]).toMatch(/^1 dead letter\(s\) queued/);
    await outboxPurge({ db }, (l) => out.push(l));
    expect(out[1]).toBe('2 outbox entries deleted.');
    const store = createSqliteStore({ path: db });
    expect((await store.outbox.list()).map((e) => [e.id, e.status])).toEqual([
      ['a', 'pending'],
      ['b', 'pending'],
    ]);
    await store.close();
  });

  it('rejects a bad status or duration with a usage error', async () => {
    await expect(outboxList({ db, status: 'gone' }, () => {})).rejects.toMatchObject({ code: 2 });
    expect(() => parseDuration('7 days')).toThrow(/--older-than: expected a duration/);
    expect(parseDuration('12h')).toBe(43_200_000);
  });
});
