import { describe, expect, it } from 'vitest';
import { memoryAdapter } from '../adapter/memory-adapter.js';
import { createConnector } from '../pipeline/connector.js';
import { createMemoryStore } from '../store/memory-store.js';
import type { KeyValueStore } from '../store/types.js';
import { startFakeOvhEventsServer } from '../testing/ovh/index.js';
import { createScenario } from '../testing/scenario/index.js';
import { waitFor } from '../testing/wait/index.js';
import { createEventStream, type EventInbox, MAX_KEPT_ANSWER_CHARS } from './event-stream.js';
import { createStoreInbox } from './store-inbox.js';

const TOKEN = 'INB00000-0000-4000-8000-000000000001';

describe('createStoreInbox', () => {
  it('keeps answers until a checkpoint taken after they were handed out is released', async () => {
    const store = createMemoryStore();
    const inbox = createStoreInbox(store.kv, { now: () => 1_000 });
    const a = await inbox.keep(TOKEN, [{ Event: 'start_ringing' }]);
    const b = await inbox.keep(TOKEN, [{ Event: 'end_ringing' }]);
    expect(b).toBeGreaterThan(a);
    inbox.handedOut(a);
    const release = inbox.checkpoint();
    inbox.handedOut(b); // after the checkpoint: not in that snapshot
    await release();
    const again = createStoreInbox(store.kv);
    expect(
      (await again.pending(TOKEN)).map((kept) => kept.id),
      'an answer handed out after the snapshot was taken was released with it',
    ).toEqual([b]);
    expect(inbox.size).toBe(1);
  });

  it('forgets an answer it could not write, so that a later write does not keep it forever', async () => {
    const store = createMemoryStore();
    let failing = true;
    const kv: KeyValueStore = {
      get: (namespace, key, now) => store.kv.get(namespace, key, now),
      set: async (namespace, key, value, options) => {
        if (failing) throw new Error('database or disk is full');
        await store.kv.set(namespace, key, value, options);
      },
      delete: (namespace, key) => store.kv.delete(namespace, key),
    };
    const inbox = createStoreInbox(kv);
    await expect(inbox.keep(TOKEN, [{ Event: 'lost' }])).rejects.toThrow(/disk is full/);
    failing = false;
    const kept = await inbox.keep(TOKEN, [{ Event: 'kept' }]);
    expect((await createStoreInbox(store.kv).pending(TOKEN)).map((k) => k.id)).toEqual([kept]);
  });
});

describe('a token moving to another runner (forget)', () => {
  it("leaves the token's kept answers to the next holder, who hands them out again and releases them", async () => {
    const store = createMemoryStore(); // one store shared by two runners
    const first = createStoreInbox(store.kv, { now: () => 1_000 });
    const taken = await first.keep(TOKEN, [{ Event: 'start_ringing' }]);
    const untaken = await first.keep(TOKEN, [{ Event: 'end_calling' }]);
    first.handedOut(taken);
    const release = first.checkpoint(); // its snapshot is being saved...
    first.forget(TOKEN); // ...when its lease on the token goes to the second runner
    await release();
    const second = createStoreInbox(store.kv, { now: () => 2_000 });
    const replayed = await second.pending(TOKEN);
    expect(
      replayed.map((kept) => kept.id),
      'the first runner released or dropped answers of a token it no longer holds',
    ).toEqual([taken, untaken]);
    // the first runner writes nothing more for that token, even when told of later hand-outs
    first.handedOut(untaken);
    await first.checkpoint()();
    expect((await createStoreInbox(store.kv).pending(TOKEN)).map((kept) => kept.id)).toEqual([
      taken,
      untaken,
    ]);
    // the second runner's next answer joins the list, and its snapshot releases what it handed out
    const next = await second.keep(TOKEN, [{ Event: 'start_ringing' }]);
    for (const id of [taken, untaken, next]) second.handedOut(id);
    await second.checkpoint()();
    expect(
      await createStoreInbox(store.kv).pending(TOKEN),
      "the next holder's snapshot did not release the answers it handed out again",
    ).toEqual([]);
    expect(first.size, 'the first runner still counts answers of a token it forgot').toBe(0);
  });
});

describe('a crash between an answer and the next snapshot', () => {
  it('loses no call: the answer is kept, handed out again on start, and the call is logged once with its times', async () => {
    const server = await startFakeOvhEventsServer({ holdMs: 50 });
    const store = createMemoryStore();
    const adapter = memoryAdapter();
    const events = createScenario({ token: TOKEN })
      .inboundAnswered({
        from: '0612345678',
        to: '0972101010',
        ringSeconds: 4,
        talkSeconds: 42,
        callId: 'kept-1',
      })
      .events();
    const ringAndAnswer = events.slice(0, -1);
    const end = events.slice(-1);
    /** A runner on the shared store: a stream and a connector sharing one inbox, no snapshot timer. */
    const startRunner = async () => {
      const inbox = createStoreInbox(store.kv);
      const stream = createEventStream({ tokens: [TOKEN], baseUrl: server.url, watchdogMs: 0, inbox });
      const connector = createConnector({
        stream,
        store,
        routes: { [TOKEN]: { adapters: [{ name: 'crm', adapter }] } },
        housekeepingIntervalMs: 0,
        snapshotDelayMs: 0,
        tracker: { settleMs: 0 },
        inbox,
      });
      await connector.start();
      return { inbox, stream, connector };
    };
    // The first runner: receives ring + answer, tracks the call, and dies before any snapshot.
    const { stream: stream1, connector: first } = await startRunner();
    server.push(TOKEN, ringAndAnswer);
    await waitFor(
      () => first.activeCalls().some((call) => call.id === 'kept-1' && call.answeredAt !== undefined),
      `the first runner tracks the answered call (active: ${JSON.stringify(first.activeCalls().map((c) => c.id))})`,
    );
    expect(
      await store.snapshots.load('tracker'),
      'this test needs no snapshot before the crash',
    ).toBeUndefined();
    await stream1.close(); // the crash: no stop(), so no snapshot

    // The next runner on the same store: the kept answer comes back before any poll.
    const { inbox: inbox2, stream: stream2, connector: second } = await startRunner();
    // (the fake answers a held poll of the dead stream too: push once the new one polls)
    await waitFor(() => (stream2.stats()[TOKEN]?.polls ?? 0) >= 2, 'the second stream polls');
    expect(
      second.activeCalls().map((call) => call.id),
      'the kept ring and answer came back',
    ).toEqual(['kept-1']);
    server.push(TOKEN, end);
    await waitFor(() => adapter.activitiesFor('kept-1').length === 1, 'the second runner logs the call');
    await second.stop();
    await stream2.close();
    await server.close();
    const logged = adapter.activitiesFor('kept-1');
    expect(logged, 'the call whose ring and answer arrived before the crash was not logged').toHaveLength(1);
    expect(logged[0]).toMatchObject({ outcome: 'answered', durationSeconds: 42 });
    // the final snapshot on stop released what it holds
    expect(inbox2.size).toBe(0);
  });
});

describe('the stream and its inbox', () => {
  it('keeps each answer before handing it out, but not an answer far larger than OVH sends', async () => {
    const server = await startFakeOvhEventsServer({ holdMs: 50 });
    const kept: number[] = [];
    const inbox: EventInbox = {
      keep: async (_token, events) => {
        kept.push(events.length);
        return kept.length;
      },
      pending: async () => [],
      handedOut: () => {},
    };
    const stream = createEventStream({ tokens: [TOKEN], baseUrl: server.url, watchdogMs: 0, inbox });
    const received: string[] = [];
    stream.on('event', (event) => received.push(event.name));
    const [ring, end] = createScenario({ token: TOKEN })
      .inboundMissed({ from: '0612345678', to: '0972101010', ringSeconds: 5, callId: 'big-1' })
      .events() as [Record<string, unknown>, Record<string, unknown>];
    server.push(TOKEN, [ring]);
    await waitFor(() => received.length === 1, 'the normal answer is handed out');
    // the same kind of event with a field far longer than any OVH answer
    server.push(TOKEN, [{ ...end, Padding: 'x'.repeat(MAX_KEPT_ANSWER_CHARS + 1) }]);
    await waitFor(() => received.length === 2, 'the oversized answer is handed out too');
    await stream.close();
    await server.close();
    expect(kept, 'the oversized answer was kept (it would cost the store more than it is worth)').toEqual([
      1,
    ]);
  });
});

describe('the stream and an inbox shared by several runners', () => {
  it('does not hand out an answer kept for another runner, and hands out before its next poll what another kept for it', async () => {
    const server = await startFakeOvhEventsServer({ holdMs: 50 });
    const [ring, end] = createScenario({ token: TOKEN })
      .inboundMissed({ from: '0612345678', to: '0972101010', ringSeconds: 5, callId: 'late-1' })
      .events() as [Record<string, unknown>, Record<string, unknown>];
    let lostLease = false;
    const lateAnswers: Array<{ id: number; events: unknown[] }> = [];
    const handed: number[] = [];
    const inbox: EventInbox = {
      // the lease goes to another runner while the first answer's poll runs
      keep: async () => (lostLease ? null : 1),
      pending: async () => [],
      late: async () => lateAnswers.splice(0),
      handedOut: (id) => handed.push(id),
    };
    const stream = createEventStream({ tokens: [TOKEN], baseUrl: server.url, watchdogMs: 0, inbox });
    const received: string[] = [];
    stream.on('event', (event) =>
      received.push(`${event.name}:${event.kind === 'line' ? event.callId : ''}`),
    );
    lostLease = true;
    server.push(TOKEN, [ring]);
    await waitFor(() => server.requests().length >= 3, 'the stream polled past the answer');
    expect(received, 'an answer kept for the new holder was applied here').toEqual([]);
    // another runner kept an answer for this one (it lost the token while its poll ran)
    lateAnswers.push({ id: 7, events: [end] });
    await waitFor(() => received.length === 1, 'the late answer is handed out');
    await stream.close();
    await server.close();
    expect(received[0]).toMatch(/late-1$/);
  });
});
