import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FakeOvhApi, startFakeOvhApi } from '@cti-bridge/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../store/database.js';
import { parseWhen, runHeal } from './heal.js';

const TOKEN = 'HEALCLI0-0000-4000-8000-000000000001';
const LINE = { billingAccount: 'ab12345-ovh-1', serviceName: '0033972101010' };
let dir: string;
let api: FakeOvhApi;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cti-heal-'));
  api = await startFakeOvhApi({ recordDelayMs: 0 });
});
afterEach(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(): string {
  const path = join(dir, 'cti.config.mts');
  writeFileSync(
    path,
    `import { memoryAdapter } from '@cti-bridge/core';
     import { defineConfig } from 'cti-runner';
     export default defineConfig({
       store: { kind: 'sqlite', path: './state.db' },
       adapters: { crm: memoryAdapter({ name: 'crm' }) },
       tokens: { ${JSON.stringify(TOKEN)}: { adapters: ['crm'], healing: ${JSON.stringify({
         billingAccount: LINE.billingAccount,
         lines: [LINE.serviceName],
       })} } },
       http: false,
       logging: { level: 'silent' },
       ovh: { api: ${JSON.stringify({
         endpoint: api.url,
         applicationKey: api.applicationKey,
         applicationSecret: api.applicationSecret,
         consumerKey: api.consumerKey,
       })} },
     });`,
  );
  return path;
}

function logged(): Array<{ id: string; status: string }> {
  const db = openDatabase(join(dir, 'state.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT id, status FROM outbox WHERE kind = 'log-call' ORDER BY id").all() as Array<{
      id: string;
      status: string;
    }>;
  } finally {
    db.close();
  }
}

describe('cti-runner heal', () => {
  it('lists the missing calls in a dry run, logs them once, and finds nothing missing the next time', async () => {
    const t0 = Date.now() - 3_600_000;
    api.addCallRecord(LINE, {
      calling: '0033611223344',
      called: LINE.serviceName,
      startedAt: new Date(t0),
      durationSeconds: 95,
      wayType: 'incoming',
    });
    api.addCallRecord(LINE, {
      calling: LINE.serviceName,
      called: '0033155667788',
      startedAt: new Date(t0 + 600_000),
      durationSeconds: 0,
      wayType: 'outgoing',
    });
    const config = writeConfig();
    const run = async (dryRun: boolean) => {
      const lines: string[] = [];
      const code = await runHeal({ config, since: '2h', dryRun, format: 'json' }, (line) => lines.push(line));
      expect(code).toBe(0);
      return JSON.parse(lines[0] ?? '{}') as {
        records: number;
        matched: number;
        healed: Array<Record<string, unknown>>;
      };
    };

    const dry = await run(true);
    expect(dry).toMatchObject({ records: 2, matched: 0 });
    expect(dry.healed.map((c) => [c.direction, c.outcome, c.remote, c.talkSeconds])).toEqual([
      ['inbound', 'answered', '+33611223344', 95],
      ['outbound', 'cancelled', '+33155667788', 0],
    ]);
    expect(JSON.stringify(dry)).not.toContain(TOKEN);
    expect(logged()).toEqual([]);

    const real = await run(false);
    expect(real.healed).toHaveLength(2);
    expect(logged().map((e) => e.status)).toEqual(['delivered', 'delivered']);

    const again = await run(false);
    expect(again).toMatchObject({ records: 2, matched: 2, healed: [] });
    expect(logged()).toHaveLength(2);
  }, 60_000);

  it('reads ISO times and durations back from now, and says how when it cannot', () => {
    const now = Date.parse('2026-12-05T10:00:00Z');
    expect(parseWhen('90m', now).toISOString()).toBe('2026-12-05T08:30:00.000Z');
    expect(parseWhen('2d', now).toISOString()).toBe('2026-12-03T10:00:00.000Z');
    expect(parseWhen('2026-12-05T08:00:00Z', now).toISOString()).toBe('2026-12-05T08:00:00.000Z');
    expect(() => parseWhen('yesterday-ish', now)).toThrow(/use an ISO time .* or a duration back from now/);
  });
});
