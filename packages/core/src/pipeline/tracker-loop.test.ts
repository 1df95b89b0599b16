import { describe, expect, it } from 'vitest';
import type { CallTrackerOptions } from '../calls/call-tracker.js';
import type { CallEvent } from '../calls/types.js';
import { normalizeEvent } from '../ovh/normalize.js';
import type { OvhEvent } from '../ovh/types.js';
import { createMemoryStore } from '../store/memory-store.js';
import { createScenario } from '../testing/scenario/index.js';
import { TrackerLoop } from './tracker-loop.js';

/** A loop on a memory store with no stream, whose call events go to `handle`. */
function loopWith(
  trackerOptions: CallTrackerOptions,
  handle: (events: readonly CallEvent[]) => Promise<void>,
) {
  const store = createMemoryStore();
  const loop = new TrackerLoop({
    stream: (async function* () {})(),
    snapshots: store.snapshots,
    snapshotKey: 'tracker',
    snapshotDelayMs: 0,
    trackerOptions,
    handle,
    onEvent: () => {},
    report: (error) => {
      throw error;
    },
  });
  return { loop, store };
}

/** A promise the test settles with `open()`: holds a handler at a chosen point. */
function gate(): { held: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { held, open };
}

describe('TrackerLoop.handle', () => {
  it('handles one batch after another: a snapshot waits for every batch in flight, not the last only', async () => {
    const log: string[] = [];
    const first = gate();
    const { loop } = loopWith({}, async (events) => {
      const name = (events[0] as unknown as { name: string }).name;
      log.push(`${name} start`);
      if (name === 'settled call') await first.held; // its outbox write is slow
      log.push(`${name} end`);
    });
    const batch = (name: string) => [{ name } as unknown as CallEvent];
    const settledBatch = loop.handle(batch('settled call'), 0); // from the settle timer
    const streamBatch = loop.handle(batch('next event'), 0); // from the stream, meanwhile
    const snapshot = loop.saveSnapshot().then(() => log.push('snapshot saved'));
    await Promise.resolve();
    first.open();
    await Promise.all([settledBatch, streamBatch, snapshot]);
    expect(log).toEqual([
      'settled call start',
      'settled call end',
      'next event start',
      'next event end',
      'snapshot saved',
    ]);
  });
});

describe('TrackerLoop.handOver', () => {
  it('waits for a settle batch started meanwhile: a call it finished is in the hand-over or in the outbox, never in neither', async () => {
    const log: string[] = [];
    const outbox = gate();
    let now = 0;
    const { loop, store } = loopWith({ clock: () => now, settleMs: 500 }, async (events) => {
      for (const event of events) {
        if (event.type !== 'call.ended') continue;
        await outbox.held; // its outbox write is slow (a starved runner)
        log.push(`outbox entry of ${event.call.id}`);
      }
    });
    const token = 'HANDOVER-0000-4000-8000-000000000001';
    const events = createScenario({ token, seed: 1 })
      .inboundAnswered({
        from: '0612345678',
        to: '0972101010',
        ringSeconds: 2,
        talkSeconds: 20,
        callId: 'c-1',
      })
      .events()
      .flatMap((raw) => {
        const result = normalizeEvent(raw, { token });
        return result.ok ? [result.event as OvhEvent] : [];
      });
    for (const event of events) loop.tracker.push(event); // the whole call: ended, settling
    expect(loop.tracker.settling()).toBe(1);
    now = 500;
    // the settle timer and a rebalance's hand-over of the token, in the same moment
    const settled = loop.settle();
    const handedOver = loop
      .handOver([token], (t) => `handover:${t}`, true)
      .then(() => log.push('hand-over saved'));
    await new Promise((resolve) => setImmediate(resolve));
    outbox.open();
    await Promise.all([settled, handedOver]);
    const saved = JSON.parse((await store.snapshots.load(`handover:${token}`)) ?? '{}') as {
      calls: Array<{ id: string }>;
    };
    const inHandOver = saved.calls.some((call) => call.id === 'c-1');
    // a crash right after the hand-over was saved must leave the call somewhere
    const outboxFirst = log.indexOf('outbox entry of c-1') < log.indexOf('hand-over saved');
    expect(inHandOver || outboxFirst, `c-1 in the hand-over: ${inHandOver}; order: ${log.join(' → ')}`).toBe(
      true,
    );
  });
});
