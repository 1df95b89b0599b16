import { createMemoryStore, createStoreInbox, type OvhEvent } from '@cti-bridge/core';
import { createScenario, startFakeOvhEventsServer } from '@cti-bridge/core/testing';
import { describe, expect, it, vi } from 'vitest';
import { createLeasedEventStream } from './leased-stream.js';

describe('leased event stream', () => {
  it('polls exactly the tokens added, merges their events, stops a removed token', async () => {
    const ovh = await startFakeOvhEventsServer({ holdMs: 200 });
    const store = createMemoryStore();
    const fences: Record<string, number> = {};
    const stream = createLeasedEventStream({
      stream: { baseUrl: ovh.url, pollTimeoutMs: 5_000 },
      cursors: (token, fence) => {
        fences[token] = fence;
        return store.cursors;
      },
    });
    const seen: OvhEvent[] = [];
    const consumed = (async () => {
      for await (const event of stream) seen.push(event);
    })();
    const call = (token: string, seed: number) =>
      createScenario({ token, seed })
        .inboundAnswered({ from: '0612345678', to: '0972101010', ringSeconds: 1, talkSeconds: 5 })
        .events();
    const waitFor = async (what: string, condition: () => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      stream.add('TOKEN-A', 7);
      stream.add('TOKEN-B', 8);
      stream.add('TOKEN-A', 9); // already polled: left alone
      expect(stream.tokens()).toEqual(['TOKEN-A', 'TOKEN-B']);
      expect(fences).toEqual({ 'TOKEN-A': 7, 'TOKEN-B': 8 });
      ovh.push('TOKEN-A', call('TOKEN-A', 1));
      ovh.push('TOKEN-B', call('TOKEN-B', 2));
      await waitFor('both tokens’ events', () => seen.length === 6);
      expect(new Set(seen.map((e) => e.token))).toEqual(new Set(['TOKEN-A', 'TOKEN-B']));
      expect(Object.keys(stream.stats()).sort()).toEqual(['TOKEN-A', 'TOKEN-B']);

      await stream.remove('TOKEN-A');
      expect(stream.tokens()).toEqual(['TOKEN-B']);
      // The fake has seen the aborted poll go (a poll answered at the instant it is aborted loses
      // its events: OVH v1 has no acknowledgement).
      await waitFor('the aborted poll of A to end', () =>
        ovh.requests().every((r) => r.token !== 'TOKEN-A' || r.outcome !== undefined),
      );
      const pollsOfA = ovh.requests().filter((r) => r.token === 'TOKEN-A').length;
      ovh.push('TOKEN-A', call('TOKEN-A', 3));
      ovh.push('TOKEN-B', call('TOKEN-B', 4));
      await waitFor('B’s second call', () => seen.length === 9);
      expect(ovh.pending('TOKEN-A')).toBe(3);
      expect(ovh.requests().filter((r) => r.token === 'TOKEN-A').length).toBe(pollsOfA);
    } finally {
      await stream.close();
      await consumed;
      await ovh.close();
    }
    expect(stream.closed).toBe(true);
  });
});

describe('leased event stream with an inbox', () => {
  it('an answer counts as taken only once the consumer took all its events (no read-ahead)', async () => {
    const ovh = await startFakeOvhEventsServer({ holdMs: 200 });
    const store = createMemoryStore();
    const inbox = createStoreInbox(store.kv);
    const handedOut: number[] = [];
    const stream = createLeasedEventStream({
      stream: {
        baseUrl: ovh.url,
        pollTimeoutMs: 5_000,
        inbox: {
          keep: (token, events) => inbox.keep(token, events),
          pending: (token) => inbox.pending(token),
          handedOut: (id) => {
            handedOut.push(id);
            inbox.handedOut(id);
          },
        },
      },
      cursors: () => store.cursors,
    });
    const events = stream[Symbol.asyncIterator]();
    try {
      stream.add('TOKEN-A', 1);
      ovh.push(
        'TOKEN-A',
        createScenario({ token: 'TOKEN-A', seed: 1 })
          .inboundAnswered({ from: '0612345678', to: '0972101010', ringSeconds: 1, talkSeconds: 5 })
          .events(),
      );
      expect((await events.next()).value?.name).toBe('start_ringing');
      // the consumer holds the first event; the answer's other two are queued in the token's
      // stream already, so reading ahead would take only a few turns of the event loop
      for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(
        handedOut,
        'the answer was counted as taken while the consumer had taken 1 of its 3 events (a snapshot would drop the others)',
      ).toEqual([]);
      await events.next();
      await events.next();
      // The consumer holds the 3rd (last) event and has not asked for more: it may not have
      // applied it yet, so a snapshot taken now would not hold it: the answer is not taken yet.
      for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(handedOut, 'the answer was counted as taken before the consumer came back for more').toEqual([]);
      const fourth = events.next(); // asking for the 4th: the 3rd was taken
      await vi.waitFor(() => expect(handedOut).toHaveLength(1));
      void fourth;
    } finally {
      await stream.close();
      await ovh.close();
    }
  });
});
