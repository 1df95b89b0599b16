import { describe, expect, it } from 'vitest';
import { normalizeEvent } from '../ovh/index.js';
import type { OvhEvent, RawOvhEvent } from '../ovh/types.js';
import { createScenario } from '../testing/scenario/index.js';
import { CallTracker, type CallTrackerOptions } from './call-tracker.js';
import type { Call, CallEvent, QueueSession } from './types.js';

const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const at = (seconds: number) => new Date(START + seconds * 1000);

function normalize(raw: readonly RawOvhEvent[]): OvhEvent[] {
  return raw.map((r) => {
    const result = normalizeEvent(r, { token: 'fallback-token' });
    if (!result.ok) throw new Error(result.error);
    return result.event;
  });
}

function feed(tracker: CallTracker, events: readonly OvhEvent[]) {
  const out: CallEvent[] = [];
  for (const event of events) out.push(...tracker.push(event));
  return out;
}

function run(raw: readonly RawOvhEvent[], options: CallTrackerOptions = {}) {
  const tracker = new CallTracker({ clock: () => 0, ...options });
  const out = feed(tracker, normalize(raw));
  return { tracker, out, ...split(out) };
}

function split(out: readonly CallEvent[]) {
  const calls: Call[] = [];
  const sessions: QueueSession[] = [];
  for (const event of out) {
    if (event.type === 'call.ended') calls.push(event.call);
    if (event.type === 'queue.left') sessions.push(event.session);
  }
  return { calls, sessions, types: out.map((e) => e.type) };
}

describe('CallTracker — line calls from the scenario builder', () => {
  it('inbound answered: ringing, answered, ended with ring and talk to the second', () => {
    const scenario = createScenario().inboundAnswered({
      from: '06 12 34 56 78',
      to: '09 72 10 10 10',
      ringSeconds: 12,
      talkSeconds: 95,
      callId: 'in-1',
    });
    const { calls, types } = run(scenario.events());
    expect(types).toEqual(['call.ringing', 'call.answered', 'call.ended']);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      id: 'in-1',
      token: scenario.token,
      direction: 'inbound',
      state: 'ended',
      outcome: 'answered',
      line: { e164: '+33972101010', raw: '0033972101010' },
      lineLabel: 'Poste 0972101010',
      remote: { e164: '+33612345678', raw: '0033612345678' },
      linesRung: ['+33972101010'],
      startedAt: at(0),
      answeredAt: at(12),
      endedAt: at(107),
      ringSeconds: 12,
      talkSeconds: 95,
      holdSeconds: 0,
      inferred: false,
    });
    expect(calls[0]?.queue).toBeUndefined();
  });

  it('inbound answered with hold: held and resumed events, hold counted within talk', () => {
    const scenario = createScenario().inboundAnswered({
      from: '+33612345678',
      to: '0972101010',
      ringSeconds: 5,
      talkSeconds: 60,
      holdSeconds: 30,
    });
    const { calls, types } = run(scenario.events());
    expect(types).toEqual(['call.ringing', 'call.answered', 'call.held', 'call.resumed', 'call.ended']);
    expect(calls[0]).toMatchObject({
      outcome: 'answered',
      ringSeconds: 5,
      talkSeconds: 90,
      holdSeconds: 30,
      endedAt: at(95),
    });
  });

  it('inbound missed: start_ringing then end_ringing, no answer', () => {
    const scenario = createScenario().inboundMissed({
      from: '0612345678',
      to: '0972101010',
      ringSeconds: 25,
    });
    const { calls, types } = run(scenario.events());
    expect(types).toEqual(['call.ringing', 'call.ended']);
    expect(calls[0]).toMatchObject({
      direction: 'inbound',
      outcome: 'missed',
      ringSeconds: 25,
      talkSeconds: 0,
      startedAt: at(0),
      endedAt: at(25),
      inferred: false,
    });
    expect(calls[0]?.answeredAt).toBeUndefined();
  });

  it('outbound answered: talk counts from start_calling (no answer signal exists)', () => {
    const scenario = createScenario().outbound({
      from: '0972101010',
      to: '0612345678',
      ringSeconds: 5,
      talkSeconds: 60,
    });
    const { calls, types } = run(scenario.events());
    expect(types).toEqual(['call.ringing', 'call.ended']);
    expect(calls[0]).toMatchObject({
      direction: 'outbound',
      outcome: 'answered',
      line: { e164: '+33972101010' },
      remote: { e164: '+33612345678' },
      linesRung: [],
      startedAt: at(0),
      answeredAt: at(0),
      endedAt: at(65),
      ringSeconds: 0,
      talkSeconds: 65,
    });
  });

  it('outbound not answered: a SIP failure on end_calling makes it cancelled, all ring time', () => {
    const scenario = createScenario().outbound({
      from: '0972101010',
      to: '0612345678',
      ringSeconds: 20,
      talkSeconds: 0,
    });
    const { calls } = run(scenario.events());
    expect(calls[0]).toMatchObject({
      direction: 'outbound',
      outcome: 'cancelled',
      ringSeconds: 20,
      talkSeconds: 0,
    });
    expect(calls[0]?.answeredAt).toBeUndefined();
  });

  for (const sharedCallId of [true, false]) {
    const shape = sharedCallId ? 'one shared CallId' : 'a CallId per leg';
    it(`hunting with ${shape}: one call, answered by the line that picked up`, () => {
      const scenario = createScenario().hunting({
        from: '0612345678',
        lines: ['0972101011', '0972101012', '0972101013'],
        answeredBy: '0972101012',
        ringSeconds: 8,
        talkSeconds: 120,
        sharedCallId,
        callId: 'hunt-1',
      });
      const { calls, types, tracker } = run(scenario.events());
      expect(types).toEqual(['call.ringing', 'call.answered', 'call.ended']);
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({
        id: 'hunt-1',
        direction: 'inbound',
        outcome: 'answered',
        line: { e164: '+33972101012' },
        linesRung: ['+33972101011', '+33972101012', '+33972101013'],
        startedAt: at(0),
        answeredAt: at(8),
        endedAt: at(128),
        ringSeconds: 8,
        talkSeconds: 120,
      });
      expect(tracker.inFlight()).toEqual({ calls: 0, queueSessions: 0 });
    });

    it(`hunting nobody answers, ${shape}: one missed call, not one per line`, () => {
      const scenario = createScenario().hunting({
        from: '0612345678',
        lines: ['0972101011', '0972101012'],
        ringSeconds: 30,
        talkSeconds: 0,
        sharedCallId,
      });
      const { calls, types } = run(scenario.events());
      expect(types).toEqual(['call.ringing', 'call.ended']);
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({
        outcome: 'missed',
        line: { e164: '+33972101011' },
        linesRung: ['+33972101011', '+33972101012'],
        ringSeconds: 30,
        talkSeconds: 0,
      });
    });
  }

  it('two callers ringing the same line at once stay two calls', () => {
    const scenario = createScenario()
      .inboundAnswered({ from: '0612345678', to: '0972101010', ringSeconds: 3, talkSeconds: 10, startAt: 0 })
      .inboundMissed({ from: '0698765432', to: '0972101010', ringSeconds: 6, startAt: 1 });
    const { calls } = run(scenario.events());
    expect(calls.map((c) => [c.remote.e164, c.outcome])).toEqual([
      ['+33698765432', 'missed'],
      ['+33612345678', 'answered'],
    ]);
  });

  it('the same caller on two lines far apart in time is two calls', () => {
    const scenario = createScenario()
      .inboundMissed({ from: '0612345678', to: '0972101011', ringSeconds: 20, startAt: 0 })
      .inboundMissed({ from: '0612345678', to: '0972101012', ringSeconds: 5, startAt: 10 });
    const { calls } = run(scenario.events());
    expect(calls).toHaveLength(2);
  });

  it('a call between two of our lines is internal (lines seen in the stream or configured)', () => {
    const scenario = createScenario()
      .inboundMissed({ from: '0972101099', to: '0972101010', ringSeconds: 2 })
      .inboundAnswered({ from: '0972101010', to: '0972101011', ringSeconds: 2, talkSeconds: 5 });
    const { calls } = run(scenario.events());
    // 0972101099 is never seen as a line: inbound. 0972101010 was seen ringing: internal.
    expect(calls.map((c) => c.direction)).toEqual(['inbound', 'internal']);
    const configured = run(scenario.events(), { ownLines: ['+33 9 72 10 10 99'] });
    expect(configured.calls.map((c) => c.direction)).toEqual(['internal', 'internal']);
  });
});

describe('CallTracker — queue sessions from the scenario builder', () => {
  it('queue answered: joined, offered to every agent, answered by one, wait and talk', () => {
    const scenario = createScenario().queueAnswered({
      queue: '0972101020',
      caller: '0612345678',
      agents: ['0972101011', '0972101012'],
      answeredBy: '0972101012',
      waitSeconds: 40,
      talkSeconds: 140,
      memberUuid: 'member-1',
    });
    const { sessions, types, out } = run(scenario.events());
    expect(types).toEqual(['queue.joined', 'queue.offered', 'queue.offered', 'queue.answered', 'queue.left']);
    expect(
      out.filter((e) => e.type === 'queue.offered').map((e) => e.type === 'queue.offered' && e.agent),
    ).toEqual(['agent_0033972101011_id', 'agent_0033972101012_id']);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toEqual({
      memberUuid: 'member-1',
      token: scenario.token,
      queue: '0033972101020',
      caller: expect.objectContaining({ e164: '+33612345678' }),
      state: 'ended',
      outcome: 'answered',
      joinedAt: at(0),
      answeredAt: at(40),
      leftAt: at(180),
      agentsOffered: ['agent_0033972101011_id', 'agent_0033972101012_id'],
      answeredBy: 'agent_0033972101012_id',
      waitSeconds: 40,
      talkSeconds: 140,
      cause: 'Terminated',
      inferred: false,
    });
  });

  it('queue answered with the agent line events: the call and the session are linked', () => {
    const scenario = createScenario().queueAnswered({
      queue: '0972101020',
      caller: '0612345678',
      callerName: 'Alice Martin',
      agents: ['0972101011', '0972101012'],
      answeredBy: '0972101011',
      waitSeconds: 20,
      talkSeconds: 60,
      memberUuid: 'member-2',
      withLineEvents: true,
    });
    const { sessions, calls } = run(scenario.events());
    expect(calls).toHaveLength(1);
    const call = calls[0] as Call;
    expect(call).toMatchObject({
      direction: 'inbound',
      outcome: 'answered',
      line: { e164: '+33972101011' },
      remote: { e164: '+33612345678' },
      startedAt: at(1),
      answeredAt: at(20),
      ringSeconds: 19,
      talkSeconds: 60,
      queue: {
        queue: '0033972101020',
        memberUuid: 'member-2',
        agent: 'agent_0033972101011_id',
        waitSeconds: 20,
        outcome: 'answered',
      },
    });
    expect(sessions[0]).toMatchObject({ callId: call.id, callerName: 'Alice Martin', outcome: 'answered' });
  });

  for (const [reason, outcome] of [
    ['BREAK_OUT', 'abandoned'],
    ['TIMEOUT', 'timeout'],
    ['NO_AGENT_TIMEOUT', 'no-agent'],
  ] as const) {
    it(`queue abandoned with ${reason}: outcome ${outcome}, wait until leaving`, () => {
      const scenario = createScenario().queueAbandoned({
        queue: '0972101020',
        caller: '0612345678',
        agents: reason === 'NO_AGENT_TIMEOUT' ? [] : ['0972101011'],
        waitSeconds: 75,
        reason,
      });
      const { sessions, types } = run(scenario.events());
      expect(types).toEqual(
        reason === 'NO_AGENT_TIMEOUT'
          ? ['queue.joined', 'queue.left']
          : ['queue.joined', 'queue.offered', 'queue.left'],
      );
      expect(sessions[0]).toMatchObject({
        outcome,
        cause: 'Cancel',
        cancelReason: reason,
        waitSeconds: 75,
        talkSeconds: 0,
        leftAt: at(75),
        agentsOffered: reason === 'NO_AGENT_TIMEOUT' ? [] : ['agent_0033972101011_id'],
      });
      expect(sessions[0]?.answeredBy).toBeUndefined();
    });
  }
});

describe('CallTracker — robustness', () => {
  const answered = () =>
    normalize(
      createScenario()
        .inboundAnswered({
          from: '0612345678',
          to: '0972101010',
          ringSeconds: 4,
          talkSeconds: 30,
          callId: 'c-1',
        })
        .events(),
    );

  it('every event delivered twice gives the same result as once', () => {
    const once = feed(new CallTracker({ clock: () => 0 }), answered());
    const twice = feed(
      new CallTracker({ clock: () => 0 }),
      answered().flatMap((e) => [e, e]),
    );
    expect(twice).toEqual(once);
  });

  it('answer before ringing (out of order) still times the call from its own events', () => {
    const [ring, answer, end] = answered();
    const { calls } = split(feed(new CallTracker({ clock: () => 0 }), [answer, ring, end] as OvhEvent[]));
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      outcome: 'answered',
      ringSeconds: 4,
      talkSeconds: 30,
      startedAt: at(0),
    });
  });

  it('an end without a start makes one inferred call; later events of that CallId are ignored', () => {
    const [ring, answer, end] = answered();
    const tracker = new CallTracker({ clock: () => 0 });
    const first = split(tracker.push(end as OvhEvent));
    expect(first.calls).toHaveLength(1);
    expect(first.calls[0]).toMatchObject({ id: 'c-1', inferred: true });
    expect(first.calls[0]?.inferredReason).toMatch(/only the end/);
    expect(feed(tracker, [ring, answer, end] as OvhEvent[])).toEqual([]);
  });

  it('closes a ringing orphan as missed and an answered orphan as answered, both inferred', () => {
    let now = 1_000;
    const tracker = new CallTracker({ clock: () => now, ringingTimeoutMs: 60_000, orphanTimeoutMs: 600_000 });
    const events = answered();
    const missed = normalize(
      createScenario({ seed: 7 })
        .inboundMissed({ from: '0698765432', to: '0972101011', ringSeconds: 10, callId: 'c-2' })
        .events(),
    );
    feed(tracker, [events[0], events[1], missed[0]] as OvhEvent[]);
    expect(tracker.inFlight().calls).toBe(2);
    now += 59_999;
    expect(tracker.tick()).toEqual([]);
    now += 1;
    const ringing = split(tracker.tick());
    expect(ringing.calls).toHaveLength(1);
    expect(ringing.calls[0]).toMatchObject({ id: 'c-2', outcome: 'missed', inferred: true });
    expect(ringing.calls[0]?.inferredReason).toMatch(/ringing timeout/);
    now += 600_000;
    const talking = split(tracker.tick());
    expect(talking.calls[0]).toMatchObject({
      id: 'c-1',
      outcome: 'answered',
      inferred: true,
      ringSeconds: 4,
    });
    expect(tracker.inFlight()).toEqual({ calls: 0, queueSessions: 0 });
    // A late end of an orphan closed by timeout does not open a second call.
    expect(tracker.push(events[2] as OvhEvent)).toEqual([]);
  });

  it('closes a queue session orphan as abandoned (or answered when an agent took it), inferred', () => {
    let now = 0;
    const tracker = new CallTracker({ clock: () => now, orphanTimeoutMs: 1_000 });
    const events = normalize(
      createScenario()
        .queueAnswered({
          queue: '0972101020',
          caller: '0612345678',
          agents: ['0972101011'],
          answeredBy: '0972101011',
          waitSeconds: 10,
          talkSeconds: 20,
          memberUuid: 'm-orphan',
        })
        .events(),
    ).filter((e) => e.name !== 'member-queue-end' && e.name !== 'bridge-agent-end');
    feed(tracker, events);
    now = 1_000;
    const { sessions } = split(tracker.tick());
    expect(sessions[0]).toMatchObject({ memberUuid: 'm-orphan', outcome: 'answered', inferred: true });
  });

  it('snapshot/restore mid-call resumes exactly where it stopped', () => {
    const scenario = createScenario()
      .hunting({
        from: '0612345678',
        lines: ['0972101011', '0972101012'],
        answeredBy: '0972101011',
        ringSeconds: 5,
        talkSeconds: 50,
        sharedCallId: false,
      })
      .queueAnswered({
        queue: '0972101020',
        caller: '0698765432',
        agents: ['0972101011'],
        answeredBy: '0972101011',
        waitSeconds: 10,
        talkSeconds: 20,
        withLineEvents: true,
      });
    const events = normalize(scenario.events());
    const straight = feed(new CallTracker({ clock: () => 0 }), events);
    for (const cut of [1, 3, 5, 9, events.length - 2]) {
      const first = new CallTracker({ clock: () => 0 });
      const before = feed(first, events.slice(0, cut));
      const restored = CallTracker.restore(first.snapshot(), { clock: () => 0 });
      expect(restored.inFlight()).toEqual(first.inFlight());
      const after = feed(restored, events.slice(cut));
      expect([...before, ...after], `cut at ${cut}`).toEqual(straight);
    }
  });

  it('restore of garbage gives an empty tracker instead of throwing', () => {
    expect(CallTracker.restore('not json').inFlight()).toEqual({ calls: 0, queueSessions: 0 });
    expect(CallTracker.restore('{"v":1,"calls":[null]}').inFlight()).toEqual({ calls: 0, queueSessions: 0 });
  });
});

describe('CallTracker — settle window (events of one call across polls)', () => {
  const answered = () =>
    normalize(
      createScenario()
        .inboundAnswered({
          from: '0612345678',
          to: '0972101010',
          ringSeconds: 8,
          talkSeconds: 40,
          callId: 'late-1',
        })
        .events(),
    );
  const inPoll = (events: readonly OvhEvent[], poll: number) => events.map((event) => ({ ...event, poll }));

  it('an end that arrives a poll before its answer still gives the right ring and talk times', () => {
    const [ring, answer, end] = answered() as [OvhEvent, OvhEvent, OvhEvent];
    // without a settle window the end finishes the call at once: the late answer is lost
    const hasty = new CallTracker({ clock: () => 0 });
    const hastyCalls = split(feed(hasty, [ring, end, answer])).calls;
    expect(hastyCalls[0]).toMatchObject({ ringSeconds: 48, talkSeconds: 0, inferred: true });

    let now = 0;
    const tracker = new CallTracker({ clock: () => now, settleMs: 3_000 });
    const first = feed(tracker, inPoll([ring, end], 1));
    expect(first.map((e) => e.type)).toEqual(['call.ringing']);
    expect(tracker.settling()).toBe(1);
    feed(tracker, inPoll([answer], 2));
    now = 3_000;
    const { calls } = split(tracker.settle());
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ outcome: 'answered', ringSeconds: 8, talkSeconds: 40, inferred: false });
    expect(tracker.settling()).toBe(0);
  });

  it('is never held past the poll after next, however long the window', () => {
    const [ring, answer, end] = answered() as [OvhEvent, OvhEvent, OvhEvent];
    const tracker = new CallTracker({ clock: () => 0, settleMs: 60_000 });
    feed(tracker, inPoll([ring, answer, end], 1));
    expect(split(feed(tracker, inPoll(answered().slice(0, 0), 2))).calls).toHaveLength(0);
    const other = normalize(
      createScenario().inboundMissed({ from: '0611111111', to: '0972101011', ringSeconds: 3 }).events(),
    );
    // an event of poll 2 folds in; the first event of poll 3 finishes the call first
    expect(split(feed(tracker, inPoll(other.slice(0, 1), 2))).calls).toHaveLength(0);
    const out = feed(tracker, inPoll(other.slice(1), 3));
    expect(out[0]?.type).toBe('call.ended');
    expect(split(out).calls.map((c) => c.id)).toContain('late-1');
  });

  it('a call whose late answer arrives after end_ringing goes on instead of ending missed', () => {
    const events = normalize(
      createScenario()
        .inboundAnswered({
          from: '0612345678',
          to: '0972101010',
          ringSeconds: 5,
          talkSeconds: 30,
          callId: 'r-1',
        })
        .events(),
    );
    const [ring, answer, end] = events as [OvhEvent, OvhEvent, OvhEvent];
    const endRinging = { ...ring, name: 'end_ringing', at: answer.at, poll: 1 } as OvhEvent;
    let now = 0;
    const tracker = new CallTracker({ clock: () => now, settleMs: 2_000 });
    feed(tracker, [{ ...ring, poll: 1 }, endRinging]);
    feed(tracker, [{ ...answer, poll: 2 }]);
    now = 2_000;
    const released = tracker.settle();
    expect(released.map((e) => e.type)).toEqual(['call.answered']);
    expect(tracker.inFlight().calls).toBe(1);
    const { calls } = split(feed(tracker, [{ ...end, poll: 3 }]));
    now = 4_000;
    calls.push(...split(tracker.settle()).calls);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ outcome: 'answered', ringSeconds: 5, talkSeconds: 30 });
  });

  it('a settling call survives a snapshot and restore, with its own times', () => {
    const [ring, end, answer] = answered() as [OvhEvent, OvhEvent, OvhEvent];
    let now = 0;
    const tracker = new CallTracker({ clock: () => now, settleMs: 5_000 });
    feed(tracker, inPoll([ring, answer], 1));
    const restored = CallTracker.restore(tracker.snapshot(), { clock: () => now, settleMs: 5_000 });
    expect(restored.settling()).toBe(1);
    feed(restored, inPoll([end], 2));
    now = 10_000;
    const { calls } = split(restored.settle());
    expect(calls[0]).toMatchObject({ id: 'late-1', ringSeconds: 8, talkSeconds: 40, inferred: false });
  });

  it('restores a version 1 snapshot (one end time per leg, hold counted as it came)', () => {
    const v1 = {
      v: 1,
      calls: [
        {
          id: 'old-1',
          token: 't',
          scope: 't',
          origin: 'inbound',
          remote: { raw: '0612345678', e164: '+33612345678', withheld: false },
          legs: [
            {
              callId: 'old-1',
              line: { raw: '0972101010', e164: '+33972101010', withheld: false },
              firstAt: START,
              ringAt: START,
              callingAt: START + 5_000,
              holdSince: START + 20_000,
              holdMs: 4_000,
            },
          ],
          lastAt: START + 20_000,
          lastSeen: 0,
          ended: false,
          reasons: [],
        },
      ],
      sessions: [],
      lines: ['+33972101010'],
      endedCalls: [],
      endedSessions: [],
    };
    const tracker = CallTracker.restore(JSON.stringify(v1), { clock: () => 0 });
    expect(tracker.activeCalls()[0]).toMatchObject({ id: 'old-1', state: 'held' });
    const [, , end] = answered() as [OvhEvent, OvhEvent, OvhEvent];
    const { calls } = split(
      feed(tracker, [{ ...end, callId: 'old-1', at: new Date(START + 30_000) } as OvhEvent]),
    );
    // 4 s of hold already counted + 10 s of the hold still open at the end
    expect(calls[0]).toMatchObject({ id: 'old-1', ringSeconds: 5, talkSeconds: 25, holdSeconds: 14 });
  });
});
