import { describe, expect, it } from 'vitest';
import { normalizeEvent } from '../ovh/index.js';
import type { OvhEvent, RawOvhEvent } from '../ovh/types.js';
import { createScenario } from '../testing/scenario/index.js';
import { CallTracker } from './call-tracker.js';
import type { CallEvent } from './types.js';

function normalize(raw: readonly RawOvhEvent[]): OvhEvent[] {
  return raw.flatMap((r) => {
    const result = normalizeEvent(r, { token: 'fallback-token' });
    return result.ok ? [result.event] : [];
  });
}

const feed = (tracker: CallTracker, events: readonly OvhEvent[]): CallEvent[] =>
  events.flatMap((event) => tracker.push(event));

/** One answered call per token, cut before its last event. */
function twoTokens() {
  const a = createScenario({ token: 'TOKEN-A', seed: 1 }).inboundAnswered({
    from: '0612345678',
    to: '0972101010',
    ringSeconds: 2,
    talkSeconds: 20,
  });
  const b = createScenario({ token: 'TOKEN-B', seed: 2 }).inboundAnswered({
    from: '0698765432',
    to: '0972101011',
    ringSeconds: 2,
    talkSeconds: 20,
  });
  const [ea, eb] = [normalize(a.events()), normalize(b.events())];
  return { start: [...ea.slice(0, -1), ...eb.slice(0, -1)], endA: ea.slice(-1), endB: eb.slice(-1) };
}

describe('CallTracker hand-over between runners (adopt, forget, snapshot of some tokens)', () => {
  it('a runner taking a token over finishes its calls in flight as whole calls', () => {
    const { start, endA } = twoTokens();
    const first = new CallTracker();
    feed(first, start);
    const handOver = first.snapshot((token) => token === 'TOKEN-A');
    expect(first.forget((token) => token === 'TOKEN-A')).toBe(1);
    expect(first.inFlight().calls).toBe(1);

    const second = new CallTracker();
    expect(second.adopt(handOver, (token) => token === 'TOKEN-A')).toBe(1);
    const ended = feed(second, endA).filter((e) => e.type === 'call.ended');
    expect(ended).toHaveLength(1);
    const call = (ended[0] as Extract<CallEvent, { type: 'call.ended' }>).call;
    expect(call).toMatchObject({ outcome: 'answered', inferred: false });
    // The runner that gave the token away keeps only the other token's call: its orphan timeout
    // can no longer close TOKEN-A's call a second time.
    expect(first.activeCalls().map((c) => c.token)).toEqual(['TOKEN-B']);
  });

  it('adopt takes only the accepted tokens and never replaces a call known here', () => {
    const { start, endB } = twoTokens();
    const dead = new CallTracker();
    feed(dead, start);
    const saved = dead.snapshot();
    const taker = new CallTracker();
    feed(taker, endB);
    expect(taker.adopt(saved, (token) => token === 'TOKEN-A')).toBe(1);
    expect(taker.adopt(saved, (token) => token === 'TOKEN-A')).toBe(0);
    // TOKEN-B's call ended here already: adopting it again brings nothing back.
    expect(taker.adopt(saved, () => true)).toBe(0);
    expect(taker.inFlight().calls).toBe(1);
    expect(taker.adopt('not json', () => true)).toBe(0);
  });
});
