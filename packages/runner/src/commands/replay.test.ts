import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScenario, toOvhJson } from '@cti-bridge/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../store/sqlite-store.js';
import { runReplay } from './replay.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cti-replay-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const TOKEN = 'REPLAY00-0000-4000-8000-000000000001';

/** A recording: one raw event per line (here with every Timestamp digit, as a hand-made file may have). */
function record(events: readonly unknown[]): string {
  const file = join(dir, 'day.jsonl');
  writeFileSync(file, `# recorded by a test\n${events.map((e) => toOvhJson(e)).join('\n')}\n`);
  return file;
}

async function replayJson(file: string): Promise<Array<Record<string, unknown>>> {
  const lines: string[] = [];
  const code = await runReplay(
    { file, dryRun: true, format: 'json', token: 'unused', defaultCountry: 'FR' },
    (line) => lines.push(line),
  );
  expect(code).toBe(0);
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('replay --dry-run --format json', () => {
  it('prints the expected Calls and QueueSessions of a recorded day', async () => {
    const s = createScenario({ token: TOKEN, start: new Date('2026-03-02T08:00:00Z') });
    s.inboundAnswered({
      from: '+33 6 12 34 56 78',
      to: '0033972101010',
      ringSeconds: 8,
      talkSeconds: 185,
      holdSeconds: 20,
      callId: 'c-in',
    });
    s.wait(60);
    s.inboundMissed({ from: '06 23 45 67 89', to: '0033972101011', ringSeconds: 25, callId: 'c-missed' });
    s.wait(60);
    s.outbound({
      from: '0033972101011',
      to: '0623456789',
      ringSeconds: 6,
      talkSeconds: 240,
      callId: 'c-out',
    });
    s.wait(60);
    s.hunting({
      from: '+33145678900',
      lines: ['0033972101010', '0033972101011', '0033972101012'],
      answeredBy: '0033972101012',
      ringSeconds: 12,
      talkSeconds: 95,
      sharedCallId: true,
      callId: 'c-hunt',
    });
    s.wait(60);
    s.queueAbandoned({
      queue: '0033972101020',
      caller: '+33788990011',
      agents: ['0033972101011'],
      waitSeconds: 50,
      reason: 'BREAK_OUT',
      memberUuid: 'q-abandoned',
    });
    const out = await replayJson(record(s.events()));

    const calls = out.filter((o) => o.type === 'call');
    const sessions = out.filter((o) => o.type === 'queue-session');
    expect(calls.map((c) => c.id)).toEqual(['c-in', 'c-missed', 'c-out', 'c-hunt']);
    expect(calls[0]).toMatchObject({
      direction: 'inbound',
      outcome: 'answered',
      // an event token is a credential: masked in the output, as in logs
      token: `${TOKEN.slice(0, 8)}…`,
      remote: { number: '+33612345678', withheld: false },
      line: { number: '+33972101010' },
      startedAt: '2026-03-02T08:00:00.000Z',
      ringSeconds: 8,
      holdSeconds: 20,
      inferred: false,
    });
    expect(calls[0]?.talkSeconds).toBe(205);
    expect(calls[1]).toMatchObject({
      direction: 'inbound',
      outcome: 'missed',
      ringSeconds: 25,
      talkSeconds: 0,
      answeredAt: null,
    });
    expect(calls[2]).toMatchObject({
      direction: 'outbound',
      outcome: 'answered',
      remote: { number: '+33623456789' },
    });
    // Hunting: one call over three lines, answered by the line that picked up — not three missed calls.
    expect(calls[3]).toMatchObject({
      outcome: 'answered',
      line: { number: '+33972101012' },
      talkSeconds: 95,
    });
    expect(calls[3]?.linesRung).toHaveLength(3);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({
      memberUuid: 'q-abandoned',
      queue: '0033972101020',
      outcome: 'abandoned',
      waitSeconds: 50,
      caller: { number: '+33788990011' },
      answeredBy: null,
    });
  });

  it('links a queue-answered call to its session and skips bad lines without stopping', async () => {
    const s = createScenario({ token: TOKEN, start: new Date('2026-03-02T10:00:00Z') });
    s.queueAnswered({
      queue: '0033972101020',
      caller: '0645678901',
      callerName: 'Claire Petit',
      agents: ['0033972101011', '0033972101012'],
      answeredBy: '0033972101012',
      waitSeconds: 35,
      talkSeconds: 300,
      withLineEvents: true,
      memberUuid: 'q-answered',
    });
    const file = join(dir, 'queue.jsonl');
    writeFileSync(file, ['not json', ...s.events().map((e) => toOvhJson(e)), '[1,2]'].join('\n'));
    const out = await replayJson(file);
    const session = out.find((o) => o.type === 'queue-session');
    expect(session).toMatchObject({
      memberUuid: 'q-answered',
      outcome: 'answered',
      waitSeconds: 35,
      talkSeconds: 300,
      callerName: 'Claire Petit',
    });
    expect(String(session?.answeredBy)).toContain('0033972101012');
    const call = out.find((o) => o.type === 'call');
    expect(call).toMatchObject({ direction: 'inbound', outcome: 'answered' });
  });
});

describe('replay through the pipeline (no --dry-run)', () => {
  it('delivers the recorded calls to the config adapters, on the config store', async () => {
    const s = createScenario({ token: TOKEN, start: new Date('2026-03-02T08:00:00Z') });
    s.inboundAnswered({
      from: '0612345678',
      to: '0033972101010',
      ringSeconds: 3,
      talkSeconds: 42,
      callId: 'p-1',
    });
    s.inboundMissed({ from: '0623456789', to: '0033972101010', ringSeconds: 9, callId: 'p-2' });
    const file = record(s.events());
    writeFileSync(
      join(dir, 'cti.config.ts'),
      `import { memoryAdapter } from '@cti-bridge/core';
       import { defineConfig } from 'cti-runner';
       export default defineConfig({
         store: { kind: 'sqlite', path: './replay.db' },
         adapters: { crm: memoryAdapter({ name: 'crm' }) },
         tokens: { '${TOKEN}': { adapters: ['crm'] } },
         http: false,
       });`,
    );
    const lines: string[] = [];
    const code = await runReplay(
      {
        file,
        config: join(dir, 'cti.config.ts'),
        dryRun: false,
        format: 'json',
        token: 'x',
        defaultCountry: 'FR',
      },
      (line) => lines.push(line),
    );
    expect(code).toBe(0);
    expect(lines.map((l) => JSON.parse(l).id)).toEqual(['p-1', 'p-2']);
    const store = createSqliteStore({ path: join(dir, 'replay.db') });
    const entries = await store.outbox.list({ adapter: 'crm' });
    expect(entries.map((e) => [e.kind, e.status])).toEqual([
      ['log-call', 'delivered'],
      ['log-call', 'delivered'],
    ]);
    await store.close();
  }, 30_000);

  it('refuses to deliver without a config', async () => {
    await expect(
      runReplay(
        { file: record([]), dryRun: false, format: 'text', token: 'x', defaultCountry: 'FR' },
        () => {},
      ),
    ).rejects.toMatchObject({ code: 2 });
  });
});
