import { afterEach, describe, expect, it } from 'vitest';
import { memoryAdapter } from '../adapter/memory-adapter.js';
import { createOvhApiClient } from '../ovh/api-client.js';
import { normalizeEvent } from '../ovh/index.js';
import type { OvhEvent } from '../ovh/types.js';
import { createConnector, tokenTag } from '../pipeline/connector.js';
import { createMemoryStore } from '../store/memory-store.js';
import { type FakeOvhApi, startFakeOvhApi } from '../testing/ovh/index.js';
import { createScenario } from '../testing/scenario/index.js';
import { waitFor } from '../testing/wait/index.js';
import { createHealer } from './healer.js';
import { createSeenCallJournal } from './journal.js';

const TOKEN = 'HEAL0000-0000-4000-8000-000000000001';
const START = new Date('2026-12-05T08:00:00Z');
const LINE = { billingAccount: 'ab12345-ovh-1', serviceName: '0033972101010' };
const at = (seconds: number) => new Date(START.getTime() + seconds * 1000);

function pushStream() {
  const queue: OvhEvent[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  return {
    push(...events: OvhEvent[]) {
      queue.push(...events);
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const next = queue.shift();
        if (next) yield next;
        else if (ended) return;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

let api: FakeOvhApi | undefined;
afterEach(async () => {
  await api?.close();
});

describe('healing from OVH call records', () => {
  it('a 10-minute stream outage: every call logged exactly once, none twice for calls seen on both sides', async () => {
    let now = START.getTime();
    const clock = () => now;
    api = await startFakeOvhApi({ clock, recordDelayMs: 5 * 60_000 });
    const client = createOvhApiClient({
      endpoint: api.url,
      applicationKey: api.applicationKey,
      applicationSecret: api.applicationSecret,
      consumerKey: api.consumerKey,
    });
    const store = createMemoryStore({ clock });
    const crm = memoryAdapter({ name: 'crm' });
    const stream = pushStream();
    const connector = createConnector({
      stream,
      store,
      clock,
      routes: { [TOKEN]: { adapters: [{ name: 'crm', adapter: crm }] } },
      housekeepingIntervalMs: 0,
      outboxPollIntervalMs: 0,
      tracker: { settleMs: 0 },
    });
    await connector.start();

    // The morning: calls before, during and after an outage of the stream from +60 s to +660 s.
    const scenario = createScenario({ token: TOKEN, start: START });
    const calls = [
      { id: 'before', from: '0611000001', startAt: 0, ring: 5, talk: 30, seen: true },
      { id: 'gap-1', from: '0611000002', startAt: 120, ring: 4, talk: 50, seen: false },
      { id: 'gap-2', from: '0611000003', startAt: 300, ring: 20, talk: 0, seen: false },
      { id: 'gap-3', from: '0611000004', startAt: 500, ring: 3, talk: 120, seen: false },
      // on both sides: the stream saw it start 3 s before OVH's record says
      { id: 'edge', from: '0611000005', startAt: 640, ring: 6, talk: 40, seen: true },
      { id: 'after', from: '0611000006', startAt: 900, ring: 5, talk: 20, seen: true },
    ];
    for (const c of calls) {
      if (c.talk > 0) {
        scenario.inboundAnswered({
          from: c.from,
          to: '0972101010',
          ringSeconds: c.ring,
          talkSeconds: c.talk,
          callId: c.id,
          startAt: c.startAt,
        });
      } else {
        scenario.inboundMissed({
          from: c.from,
          to: '0972101010',
          ringSeconds: c.ring,
          callId: c.id,
          startAt: c.startAt,
        });
      }
      // OVH bills every call, seen or not
      api.addCallRecord(LINE, {
        calling: `0033${c.from.slice(1)}`,
        called: '0033972101010',
        startedAt: at(c.startAt + (c.id === 'edge' ? 3 : 0)),
        durationSeconds: c.talk,
        wayType: 'incoming',
        ...(c.talk === 0 ? { hangupNature: 'missed' } : {}),
      });
    }
    const seenIds = new Set(calls.filter((c) => c.seen).map((c) => c.id));
    const events = scenario.events().map((raw) => {
      const result = normalizeEvent(raw, { token: TOKEN });
      if (!result.ok) throw new Error(result.error);
      return result.event;
    });
    stream.push(...events.filter((e) => e.kind === 'line' && seenIds.has(e.callId)));
    now = at(1_000).getTime();
    const healer = createHealer({
      api: client,
      kv: store.kv,
      journal: createSeenCallJournal(store.kv, tokenTag),
      lines: { [TOKEN]: [LINE] },
      ingest: (call) => connector.ingest(call),
      inFlight: () => connector.activeCalls(),
      clock,
      recordDelayMs: 15 * 60_000,
    });
    await waitFor(() => crm.activities.length >= 3, 'the three calls logged');
    expect(crm.activities.map((a) => a.externalId).sort()).toEqual(['after', 'before', 'edge']);

    await healer.noteGap({ from: at(60).getTime(), to: at(660).getTime(), reason: 'stream-outage' });
    // OVH lists a call minutes after it ended: the gap waits for its records
    expect(await healer.runDue()).toEqual([]);
    now = at(660 + 15 * 60).getTime();
    const [report] = await healer.runDue();
    expect(report).toMatchObject({ lines: 1, records: 4, matched: 1, failures: [] });
    expect(report?.healed.map((c) => c.id)).toHaveLength(3);
    expect(await healer.gaps()).toEqual([]);
    await waitFor(() => crm.activities.length >= 6, 'the healed calls logged');

    expect(crm.activities).toHaveLength(6);
    expect(new Set(crm.activities.map((a) => a.idempotencyKey)).size).toBe(6);
    const healed = crm.activities.filter((a) => a.externalId.startsWith('ovh-cdr-'));
    expect(healed).toHaveLength(3);
    expect(healed.map((a) => [a.outcome, a.durationSeconds]).sort()).toEqual([
      ['answered', 120],
      ['answered', 50],
      ['missed', 0],
    ]);

    // the whole morning again, and a dry run: nothing is missing any more, nothing is logged twice
    const again = await healer.heal({ from: START, to: at(1_000) });
    expect(again).toMatchObject({ records: 6, matched: 6, healed: [] });
    expect(crm.activities).toHaveLength(6);
    await connector.stop();
  });
});
