import { afterEach, describe, expect, it } from 'vitest';
import { memoryAdapter } from '../adapter/memory-adapter.js';
import { CallTracker } from '../calls/call-tracker.js';
import type { Call, QueueSession } from '../calls/types.js';
import { createEventStream, type EventStream } from '../ovh/event-stream.js';
import type { OvhEvent } from '../ovh/types.js';
import { createMemoryStore } from '../store/memory-store.js';
import { type FakeOvhEventsServer, startFakeOvhEventsServer } from '../testing/ovh/index.js';
import { createScenario, type ScenarioBuilder } from '../testing/scenario/index.js';
import { createConnector } from './connector.js';
import type { ScreenPop } from './types.js';

const TOKEN = 'E2E00000-0000-4000-8000-000000000001';
const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const at = (seconds: number) => new Date(START + seconds * 1000);

/** Every sequence the scenario builder makes, one after the other (the clock moves past each). */
function everySequence(): ScenarioBuilder {
  return createScenario({ token: TOKEN, start: new Date(START) })
    .inboundAnswered({
      from: '0611111111',
      to: '0972101010',
      ringSeconds: 6,
      talkSeconds: 80,
      callId: 'in-ans',
    }) // 0..86
    .inboundAnswered({
      from: '0611111112',
      to: '0972101010',
      ringSeconds: 3,
      talkSeconds: 40,
      holdSeconds: 20,
      callId: 'in-hold',
    }) // 87..150
    .inboundMissed({ from: '0611111113', to: '0972101011', ringSeconds: 25, callId: 'in-miss' }) // 151..176
    .outbound({ from: '0972101012', to: '0611111114', ringSeconds: 7, talkSeconds: 93, callId: 'out-ans' }) // 177..277
    .outbound({ from: '0972101012', to: '0611111115', ringSeconds: 18, talkSeconds: 0, callId: 'out-miss' }) // 278..296
    .hunting({
      from: '0611111116',
      lines: ['0972101013', '0972101014', '0972101015'],
      answeredBy: '0972101014',
      ringSeconds: 9,
      talkSeconds: 61,
      sharedCallId: true,
      callId: 'hunt-shared',
    }) // 297..367
    .hunting({
      from: '0611111117',
      lines: ['0972101013', '0972101014'],
      answeredBy: '0972101013',
      ringSeconds: 4,
      talkSeconds: 30,
      sharedCallId: false,
      callId: 'hunt-split',
    }) // 368..402
    .hunting({
      from: '0611111118',
      lines: ['0972101013', '0972101014'],
      ringSeconds: 20,
      talkSeconds: 0,
      sharedCallId: false,
      callId: 'hunt-missed',
    }) // 403..423
    .queueAnswered({
      queue: '0972101020',
      caller: '0611111119',
      callerName: 'Chloé Durand',
      agents: ['0972101016', '0972101017'],
      answeredBy: '0972101017',
      waitSeconds: 35,
      talkSeconds: 120,
      memberUuid: 'q-answered',
      withLineEvents: true,
    }) // 424..579
    .queueAbandoned({
      queue: '0972101020',
      caller: '0611111120',
      agents: ['0972101016'],
      waitSeconds: 48,
      memberUuid: 'q-breakout',
    }) // 580..628
    .queueAbandoned({
      queue: '0972101020',
      caller: '0611111121',
      agents: ['0972101016', '0972101017'],
      waitSeconds: 300,
      reason: 'TIMEOUT',
      memberUuid: 'q-timeout',
    })
    .queueAbandoned({
      queue: '0972101020',
      caller: '0611111122',
      agents: [],
      waitSeconds: 60,
      reason: 'NO_AGENT_TIMEOUT',
      memberUuid: 'q-noagent',
    });
}

/** What the scenario must turn into, call by call, to the second. */
const EXPECTED_CALLS: Array<[string, Partial<Call> & Record<string, unknown>]> = [
  [
    'in-ans',
    {
      direction: 'inbound',
      outcome: 'answered',
      ringSeconds: 6,
      talkSeconds: 80,
      holdSeconds: 0,
      startedAt: at(0),
    },
  ],
  [
    'in-hold',
    {
      direction: 'inbound',
      outcome: 'answered',
      ringSeconds: 3,
      talkSeconds: 60,
      holdSeconds: 20,
      startedAt: at(87),
    },
  ],
  [
    'in-miss',
    { direction: 'inbound', outcome: 'missed', ringSeconds: 25, talkSeconds: 0, startedAt: at(151) },
  ],
  [
    'out-ans',
    { direction: 'outbound', outcome: 'answered', ringSeconds: 0, talkSeconds: 100, startedAt: at(177) },
  ],
  [
    'out-miss',
    { direction: 'outbound', outcome: 'cancelled', ringSeconds: 18, talkSeconds: 0, startedAt: at(278) },
  ],
  [
    'hunt-shared',
    { direction: 'inbound', outcome: 'answered', ringSeconds: 9, talkSeconds: 61, startedAt: at(297) },
  ],
  [
    'hunt-split',
    { direction: 'inbound', outcome: 'answered', ringSeconds: 4, talkSeconds: 30, startedAt: at(368) },
  ],
  [
    'hunt-missed',
    { direction: 'inbound', outcome: 'missed', ringSeconds: 20, talkSeconds: 0, startedAt: at(403) },
  ],
];

function checkCalls(calls: readonly Call[]) {
  const named = calls.filter((c) => !c.queue);
  expect(named.map((c) => c.id)).toEqual(EXPECTED_CALLS.map(([id]) => id));
  for (const [id, expected] of EXPECTED_CALLS) {
    expect(
      calls.find((c) => c.id === id),
      id,
    ).toMatchObject({ ...expected, inferred: false });
  }
  expect(calls.find((c) => c.id === 'hunt-shared')?.line.e164).toBe('+33972101014');
  expect(calls.find((c) => c.id === 'hunt-shared')?.linesRung).toHaveLength(3);
  expect(calls.find((c) => c.id === 'hunt-split')?.line.e164).toBe('+33972101013');
  expect(calls.find((c) => c.id === 'in-hold')?.endedAt).toEqual(at(150));
  const queued = calls.filter((c) => c.queue);
  expect(queued).toHaveLength(1);
  expect(queued[0]).toMatchObject({
    direction: 'inbound',
    outcome: 'answered',
    line: { e164: '+33972101017' },
    remote: { e164: '+33611111119' },
    startedAt: at(425),
    ringSeconds: 34,
    talkSeconds: 120,
    queue: {
      memberUuid: 'q-answered',
      agent: 'agent_0033972101017_id',
      waitSeconds: 35,
      outcome: 'answered',
    },
  });
}

function checkSessions(sessions: readonly QueueSession[], linkedCallId: string | undefined) {
  expect(
    sessions.map((s) => [s.memberUuid, s.outcome, s.waitSeconds, s.talkSeconds, s.answeredBy ?? null]),
  ).toEqual([
    ['q-answered', 'answered', 35, 120, 'agent_0033972101017_id'],
    ['q-breakout', 'abandoned', 48, 0, null],
    ['q-timeout', 'timeout', 300, 0, null],
    ['q-noagent', 'no-agent', 60, 0, null],
  ]);
  expect(sessions[0]).toMatchObject({
    callerName: 'Chloé Durand',
    agentsOffered: ['agent_0033972101016_id', 'agent_0033972101017_id'],
    callId: linkedCallId,
    joinedAt: at(424),
  });
  expect(sessions[2]?.agentsOffered).toEqual(['agent_0033972101016_id', 'agent_0033972101017_id']);
}

let server: FakeOvhEventsServer | undefined;
let stream: EventStream | undefined;
afterEach(async () => {
  await stream?.close();
  await server?.close();
  stream = undefined;
  server = undefined;
});

async function serve(scenario: ScenarioBuilder) {
  server = await startFakeOvhEventsServer({ holdMs: 200 });
  const raw = scenario.events();
  server.push(TOKEN, raw);
  stream = createEventStream({ tokens: [TOKEN], baseUrl: server.url, pollTimeoutMs: 5_000, watchdogMs: 0 });
  return { stream, count: raw.length };
}

describe('end to end through the fake OVH server', () => {
  it('every scenario builder sequence → the exact Calls and QueueSessions', async () => {
    const { stream: events, count } = await serve(everySequence());
    const tracker = new CallTracker({ clock: () => 0 });
    const calls: Call[] = [];
    const sessions: QueueSession[] = [];
    let seen = 0;
    for await (const event of events as AsyncIterable<OvhEvent>) {
      for (const out of tracker.push(event)) {
        if (out.type === 'call.ended') calls.push(out.call);
        if (out.type === 'queue.left') sessions.push(out.session);
      }
      if (++seen === count) break;
    }
    expect(tracker.inFlight()).toEqual({ calls: 0, queueSessions: 0 });
    checkCalls(calls);
    checkSessions(sessions, calls.find((c) => c.queue)?.id);
  });

  it('the connector pops every ringing call and logs every call and queue session once', async () => {
    const { stream: events } = await serve(everySequence());
    const adapter = memoryAdapter({
      contacts: [
        { id: 'c1', name: 'First Caller', phone: '06 11 11 11 11' },
        { id: 'c9', name: 'Chloé Durand', phone: '+33611111119' },
      ],
    });
    const connector = createConnector({
      stream: events,
      store: createMemoryStore(),
      routes: { [TOKEN]: { adapters: [{ name: 'memory', adapter }] } },
      housekeepingIntervalMs: 0,
      delivery: { baseDelayMs: 1 },
    });
    const pops: ScreenPop[] = [];
    const calls: Call[] = [];
    const sessions: QueueSession[] = [];
    let done: () => void = () => {};
    const allSeen = new Promise<void>((resolve) => {
      done = resolve;
    });
    connector.on('screen-pop', (pop) => pops.push(pop));
    connector.on('call', (call) => {
      calls.push(call);
      if (calls.length === 9 && sessions.length === 4) done();
    });
    connector.on('queue-session', (session) => {
      sessions.push(session);
      if (calls.length === 9 && sessions.length === 4) done();
    });
    await connector.start();
    await allSeen;
    await events.close();
    await connector.drain();
    checkCalls(calls);
    checkSessions(sessions, calls.find((c) => c.queue)?.id);
    expect(pops).toHaveLength(9);
    expect(pops.find((p) => p.call.id === 'in-ans')).toMatchObject({
      adapter: 'memory',
      url: expect.stringContaining('/contacts/c1'),
    });
    const callActivities = adapter.activities.filter((a) => a.type === 'call');
    expect(callActivities).toHaveLength(9);
    expect(new Set(callActivities.map((a) => a.externalId)).size).toBe(9);
    expect(adapter.activities.filter((a) => a.type === 'queue-session')).toHaveLength(4);
    const queued = callActivities.find((a) => a.contactId === 'c9');
    expect(queued?.body).toContain('queue 0033972101020, waited 35 s');
    await connector.stop();
  });
});
