import { describe, expect, it } from 'vitest';
import { normalizeEvent } from '../../ovh/normalize.js';
import type { OvhEvent, OvhLineEvent, OvhQueueEvent, RawOvhEvent } from '../../ovh/types.js';
import { parseEnvelope } from '../../ovh/wire.js';
import { toOvhEnvelopeJson } from '../ovh/json.js';
import { createScenario } from './scenario.js';

/** Round-trips events through the wire text and the normaliser, failing on any invalid event. */
function normalise(events: readonly RawOvhEvent[]): OvhEvent[] {
  const parsed = parseEnvelope(toOvhEnvelopeJson('s', events));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.envelope.events.map((raw) => {
    const result = normalizeEvent(raw, { token: 'polled' });
    if (!result.ok) throw new Error(result.error);
    return result.event;
  });
}

const names = (events: readonly OvhEvent[]) => events.map((e) => e.name);
const seconds = (events: readonly OvhEvent[], start: Date) =>
  events.map((e) => (e.at.getTime() - start.getTime()) / 1000);

describe('createScenario', () => {
  it('inbound answered with hold: ringing, answer, hold, resume, hang-up on one CallId', () => {
    const s = createScenario();
    const start = s.now;
    s.inboundAnswered({
      from: '06 12 34 56 78',
      to: '+33972123456',
      ringSeconds: 5,
      talkSeconds: 60,
      holdSeconds: 10,
    });
    const events = normalise(s.events()) as OvhLineEvent[];
    expect(names(events)).toEqual([
      'start_ringing',
      'start_calling',
      'start_hold',
      'end_hold',
      'end_calling',
    ]);
    expect(seconds(events, start)).toEqual([0, 5, 35, 45, 75]);
    expect(new Set(events.map((e) => e.callId)).size).toBe(1);
    expect(events[0]?.callId).toMatch(/_sip4\.ovh\.fr$/);
    expect(events.every((e) => e.calling.e164 === '+33612345678' && e.line.e164 === '+33972123456')).toBe(
      true,
    );
    expect(s.now.getTime() - start.getTime()).toBe(76_000);
  });

  it('writes realistic wire shapes: 0033 numbers, ns Timestamps above 2^53, (CET) dates, Ts string or number', () => {
    const raw = createScenario()
      .inboundAnswered({ from: '0612345678', to: '0972123456', ringSeconds: 2, talkSeconds: 5 })
      .events();
    const first = raw[0] as {
      Timestamp: bigint;
      Date: string;
      Data: Record<string, unknown>;
      Details: object;
    };
    expect(first.Data.Calling).toBe('0033612345678');
    expect(first.Data.Billing).toBe('0033972123456');
    expect(typeof first.Timestamp).toBe('bigint');
    expect(first.Timestamp > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(first.Date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6} \(CET\)$/);
    expect(first.Details).toMatchObject({
      IdBillingAccount: '59415',
      SimultaneousLine: '2',
      Type: 'sipCirpack',
    });
    const tsTypes = new Set(raw.map((e) => typeof (e.Data as { Ts: unknown }).Ts));
    expect(tsTypes).toEqual(new Set(['string', 'number']));
    const summer = createScenario({ start: new Date('2026-07-01T08:00:00Z') })
      .inboundMissed({ from: '0612345678', to: '0972123456', ringSeconds: 2 })
      .events();
    expect((summer[0] as { Date: string }).Date).toMatch(/^2026-07-01T10:00:00\.\d{6} \(CEST\)$/);
  });

  it('inbound missed: start_ringing then end_ringing, no start_calling', () => {
    const events = normalise(
      createScenario().inboundMissed({ from: '0612345678', to: '0972123456', ringSeconds: 20 }).events(),
    );
    expect(names(events)).toEqual(['start_ringing', 'end_ringing']);
  });

  it('outbound: start_calling without start_ringing; an unanswered one ends with a 487', () => {
    const s = createScenario()
      .outbound({ from: '0972123456', to: '0612345678', ringSeconds: 4, talkSeconds: 30, callId: 'out-1' })
      .outbound({ from: '0972123456', to: '0612345678', ringSeconds: 15, talkSeconds: 0, callId: 'out-2' });
    const events = normalise(s.events()) as OvhLineEvent[];
    expect(events.map((e) => `${e.callId}:${e.name}`)).toEqual([
      'out-1:start_calling',
      'out-1:end_calling',
      'out-2:start_calling',
      'out-2:end_calling',
    ]);
    expect(events[0]?.calling.e164).toBe('+33972123456');
    expect(events[0]?.called.e164).toBe('+33612345678');
    expect(events[3]?.raw.Data).toMatchObject({ Body: 'SIP/2.0 487 Request Terminated' });
  });

  it('hunting: every line rings, one answers, the others stop ringing — shared or distinct CallIds', () => {
    const lines = ['0972000001', '0972000002', '0972000003'];
    for (const sharedCallId of [true, false]) {
      const s = createScenario().hunting({
        from: '0612345678',
        lines,
        answeredBy: '0972000002',
        ringSeconds: 6,
        talkSeconds: 40,
        sharedCallId,
      });
      const events = normalise(s.events()) as OvhLineEvent[];
      expect(names(events)).toEqual([
        'start_ringing',
        'start_ringing',
        'start_ringing',
        'start_calling',
        'end_ringing',
        'end_ringing',
        'end_calling',
      ]);
      expect(events.filter((e) => e.name === 'start_ringing').map((e) => e.line.e164)).toEqual([
        '+33972000001',
        '+33972000002',
        '+33972000003',
      ]);
      expect(events.find((e) => e.name === 'start_calling')?.line.e164).toBe('+33972000002');
      expect(new Set(events.map((e) => e.callId)).size).toBe(sharedCallId ? 1 : 3);
      expect(s.calls()[0]?.callIds).toHaveLength(sharedCallId ? 1 : 3);
    }
  });

  it('queue answered: the mod_callcenter order, losers LOSE_RACE, offerings sharing one Timestamp', () => {
    const s = createScenario();
    const start = s.now;
    s.queueAnswered({
      queue: '0972999999',
      caller: '0612345678',
      agents: ['0972000001', '0972000002', '0972000003'],
      answeredBy: '0972000003',
      waitSeconds: 12,
      talkSeconds: 90,
      memberUuid: 'member-1',
      withLineEvents: true,
    });
    const events = normalise(s.events());
    const queue = events.filter((e): e is OvhQueueEvent => e.kind === 'queue');
    expect(names(queue)).toEqual([
      'member-queue-start',
      'members-count',
      'agent-offering',
      'agent-offering',
      'agent-offering',
      'bridge-agent-fail',
      'bridge-agent-fail',
      'bridge-agent-start',
      'bridge-agent-end',
      'member-queue-end',
      'members-count',
    ]);
    const offerings = queue.filter((e) => e.name === 'agent-offering');
    expect(new Set(offerings.map((e) => e.timestampNs)).size).toBe(1);
    expect(offerings.map((e) => e.agentNumber?.e164)).toEqual([
      '+33972000001',
      '+33972000002',
      '+33972000003',
    ]);
    const fails = queue.filter((e) => e.name === 'bridge-agent-fail');
    expect(fails.map((e) => [e.agentNumber?.e164, e.hangupCause])).toEqual([
      ['+33972000001', 'LOSE_RACE'],
      ['+33972000002', 'LOSE_RACE'],
    ]);
    const startBridge = queue.find((e) => e.name === 'bridge-agent-start');
    expect(startBridge?.agentNumber?.e164).toBe('+33972000003');
    expect((startBridge?.agentAnsweredAt?.getTime() ?? 0) - start.getTime()).toBe(12_000);
    const end = queue.find((e) => e.name === 'member-queue-end');
    expect(end).toMatchObject({ cause: 'Terminated', memberUuid: 'member-1' });
    expect(end?.caller?.e164).toBe('+33612345678');
    expect(queue.map((e) => e.count).filter((c) => c !== undefined)).toEqual([1, 0]);
    const line = events.filter((e): e is OvhLineEvent => e.kind === 'line');
    expect(names(line)).toEqual(['start_ringing', 'start_calling', 'end_calling']);
    expect(line.every((e) => e.line.e164 === '+33972000003' && e.calling.e164 === '+33612345678')).toBe(true);
  });

  it('queue abandoned: member-queue-end Cancel with the reason, offered agents failed', () => {
    for (const [reason, hangup] of [
      ['BREAK_OUT', 'ORIGINATOR_CANCEL'],
      ['TIMEOUT', 'NO_ANSWER'],
    ] as const) {
      const events = normalise(
        createScenario()
          .queueAbandoned({
            queue: '0972999999',
            caller: '0612345678',
            agents: ['0972000001'],
            waitSeconds: 30,
            reason,
          })
          .events(),
      ) as OvhQueueEvent[];
      expect(names(events)).toEqual([
        'member-queue-start',
        'members-count',
        'agent-offering',
        'bridge-agent-fail',
        'member-queue-end',
        'members-count',
      ]);
      expect(events[3]?.hangupCause).toBe(hangup);
      expect(events[4]).toMatchObject({ cause: 'Cancel', cancelReason: reason });
    }
    const noAgent = createScenario()
      .queueAbandoned({
        queue: '0972999999',
        caller: '0612345678',
        agents: [],
        waitSeconds: 60,
        reason: 'NO_AGENT_TIMEOUT',
      })
      .events();
    expect(normalise(noAgent).map((e) => e.name)).toEqual([
      'member-queue-start',
      'members-count',
      'member-queue-end',
      'members-count',
    ]);
  });

  it('startAt overlaps calls without moving the clock; events come out in time order', () => {
    const s = createScenario();
    const start = s.now;
    s.inboundAnswered({ from: '0611111111', to: '0972000001', ringSeconds: 5, talkSeconds: 60, callId: 'a' });
    s.inboundMissed({ from: '0622222222', to: '0972000002', ringSeconds: 10, startAt: 20, callId: 'b' });
    expect(s.now.getTime() - start.getTime()).toBe(66_000);
    const events = normalise(s.events()) as OvhLineEvent[];
    expect(events.map((e) => `${e.callId}:${e.name}`)).toEqual([
      'a:start_ringing',
      'a:start_calling',
      'b:start_ringing',
      'b:end_ringing',
      'a:end_calling',
    ]);
    s.wait(100);
    expect(s.now.getTime() - start.getTime()).toBe(166_000);
  });

  it('is deterministic for a seed, and different across seeds', () => {
    const build = (seed: number) =>
      toOvhEnvelopeJson(
        's',
        createScenario({ seed })
          .inboundMissed({ from: '0612345678', to: '0972123456', ringSeconds: 3 })
          .events(),
      );
    expect(build(7)).toBe(build(7));
    expect(build(7)).not.toBe(build(8));
  });
});
