import type { RawOvhEvent } from '../../ovh/types.js';
import { scenarioNumbers } from './numbers.js';
import { newCallId, newUuid, prng } from './random.js';
import { epoch, timeFields } from './time.js';

/**
 * A builder of realistic OVH CTI v1 event sequences, for tests, demos and benchmarks.
 *
 * No public capture of real OVH traffic exists (docs/ovh-stream.md §2): the shapes below follow
 * OVH's guide, OVH's demo and community clients, and the event order follows FreeSWITCH
 * mod_callcenter for queues. Every event is a raw v1 object exactly as the server would send it:
 * `Event`, `Service`, `Ressource`, `Token`, `Timestamp` (nanoseconds, a bigint: serialise with
 * `toOvhJson`), `Date` (`2026-01-05T10:00:00.123456 (CET)`), `Details{Description, Id,
 * IdBillingAccount, SimultaneousLine, Type}` and `Data`. Numbers are written the OVH way (`0033…`),
 * queue caller ids in national notation with the E.164 form in the CID name. `Data.Ts` alternates
 * between a string (`"1767603600.123"`) and a number from one event to the next, as OVH does.
 * Output is deterministic for a given `seed`.
 */

/** Options of {@link createScenario}. */
export interface ScenarioOptions {
  /** Event token written in `Token`. Default `B3C0A1E2-7F4D-4C1B-9A8E-5D6F7A8B9C0D`. */
  readonly token?: string;
  /** Scenario clock start. Default 2026-01-05T09:00:00Z (a Monday, 10:00 in Paris). */
  readonly start?: Date;
  /** `Details.IdBillingAccount`. Default `59415`. */
  readonly billingAccount?: string;
  /** Seed of the pseudo-random parts (call ids, uuids, sub-second times). Default 1. */
  readonly seed?: number;
  /** Country used to read national numbers given to the builder. Default `FR`. */
  readonly defaultCountry?: string;
}

/** Common options of a call: when it starts. */
export interface ScenarioTiming {
  /**
   * Seconds from the scenario start at which the call starts. The call may then overlap others and
   * the clock is not moved. Without it the call starts at the current clock, which then moves to one
   * second past the call's end.
   */
  readonly startAt?: number;
}

/** {@link ScenarioBuilder.inboundAnswered} options. */
export interface InboundAnsweredOptions extends ScenarioTiming {
  /** The caller, any notation. */
  readonly from: string;
  /** Our OVH line, any notation. */
  readonly to: string;
  readonly ringSeconds: number;
  /** Talk time, hold excluded. */
  readonly talkSeconds: number;
  /** Hold time, placed in the middle of the conversation. */
  readonly holdSeconds?: number;
  readonly callId?: string;
}

/** {@link ScenarioBuilder.inboundMissed} options. */
export interface InboundMissedOptions extends ScenarioTiming {
  readonly from: string;
  readonly to: string;
  readonly ringSeconds: number;
  readonly callId?: string;
}

/** {@link ScenarioBuilder.outbound} options. */
export interface OutboundOptions extends ScenarioTiming {
  /** Our OVH line placing the call. */
  readonly from: string;
  /** The number dialled. */
  readonly to: string;
  readonly ringSeconds: number;
  /** 0 = the other side never answered. */
  readonly talkSeconds: number;
  readonly callId?: string;
}

/** {@link ScenarioBuilder.hunting} options. */
export interface HuntingOptions extends ScenarioTiming {
  readonly from: string;
  /** Our lines that ring together. */
  readonly lines: readonly string[];
  /** The line that picks up (one of `lines`); none = nobody answered. */
  readonly answeredBy?: string;
  readonly ringSeconds: number;
  readonly talkSeconds: number;
  /** True: every leg has the same CallId. False: each leg has its own CallId. */
  readonly sharedCallId: boolean;
  /** CallId of the first leg (the shared one when `sharedCallId`). */
  readonly callId?: string;
}

/** {@link ScenarioBuilder.queueAnswered} options. */
export interface QueueAnsweredOptions extends ScenarioTiming {
  /** The queue's OVH number. */
  readonly queue: string;
  readonly caller: string;
  /** Caller name for `QueueMemberCIDName` (default: the caller's E.164 number, as OVH sends). */
  readonly callerName?: string;
  /** Agents' numbers, offered the call together. */
  readonly agents: readonly string[];
  /** The agent who answers (one of `agents`). */
  readonly answeredBy: string;
  readonly waitSeconds: number;
  readonly talkSeconds: number;
  readonly memberUuid?: string;
  /** `QueueHangupCause` of `bridge-agent-fail` for the agents who lost. Default `LOSE_RACE`. */
  readonly loserCause?: 'LOSE_RACE' | 'NO_ANSWER';
  /** Also emit line events on the answering agent's line (as a billing-account token sees them). */
  readonly withLineEvents?: boolean;
}

/** {@link ScenarioBuilder.queueAbandoned} options. */
export interface QueueAbandonedOptions extends ScenarioTiming {
  readonly queue: string;
  readonly caller: string;
  readonly callerName?: string;
  /** Agents offered the call before the caller left (may be empty). */
  readonly agents: readonly string[];
  readonly waitSeconds: number;
  /** `QueueCancelReason`. Default `BREAK_OUT` (the caller hung up). */
  readonly reason?: 'BREAK_OUT' | 'TIMEOUT' | 'NO_AGENT_TIMEOUT';
  readonly memberUuid?: string;
}

/** What the builder generated for one call, to assert on downstream. */
export interface ScenarioCall {
  readonly kind:
    | 'inbound-answered'
    | 'inbound-missed'
    | 'outbound'
    | 'hunting'
    | 'queue-answered'
    | 'queue-abandoned';
  /** CallIds used (one per leg when legs have their own). Empty for queue-only sequences. */
  readonly callIds: readonly string[];
  /** `QueueMemberUUID` for queue scenarios. */
  readonly memberUuid?: string;
  readonly startedAt: Date;
  readonly endedAt: Date;
  /** How many raw events the call produced. */
  readonly eventCount: number;
}

/** A scenario under construction. Every method but `events()`/`calls()` returns the builder. */
export interface ScenarioBuilder {
  /** The scenario clock now. */
  readonly now: Date;
  /** The token written in events. */
  readonly token: string;
  /** Moves the clock forward. */
  wait(seconds: number): ScenarioBuilder;
  /**
   * An answered inbound call on one line. Emits, on `to`, with one CallId:
   * `start_ringing` (t0) → `start_calling` (t0 + ring) → [`start_hold` (answer + talk/2) →
   * `end_hold` (+ hold)] → `end_calling` (answer + talk + hold).
   */
  inboundAnswered(options: InboundAnsweredOptions): ScenarioBuilder;
  /** A missed inbound call: `start_ringing` (t0) → `end_ringing` (t0 + ring), no `start_calling`. */
  inboundMissed(options: InboundMissedOptions): ScenarioBuilder;
  /**
   * An outbound call from our line `from`: `start_calling` (t0, dialling; no `start_ringing`) →
   * `end_calling` (t0 + ring + talk). No source shows how OVH signals the remote answer, so nothing
   * marks it; an unanswered call's `end_calling` carries `Body: "SIP/2.0 487 Request Terminated"`
   * (`BYE` otherwise).
   */
  outbound(options: OutboundOptions): ScenarioBuilder;
  /**
   * A number ringing several of our lines (hunting / simultaneous ring). Emits `start_ringing` on
   * every line (t0, 40 ms apart); at t0 + ring the answering line gets `start_calling` and every other
   * line `end_ringing`; the answering line gets `end_calling` at answer + talk. Without `answeredBy`
   * every line gets `end_ringing`. Legs share one CallId or each have their own (`sharedCallId`).
   */
  hunting(options: HuntingOptions): ScenarioBuilder;
  /**
   * A queue caller answered by an agent. On the queue (`Service: "queues"`), in order:
   * `member-queue-start` (t0), `members-count` Count "1" (t0), one `agent-offering` per agent
   * (t0 + min(1, wait), all with the same `Timestamp`), `bridge-agent-fail` with `QueueHangupCause`
   * LOSE_RACE (or NO_ANSWER) per losing agent (t0 + wait), `bridge-agent-start` for the winner
   * (t0 + wait), `bridge-agent-end` (+ talk), `member-queue-end` with `QueueCause: "Terminated"`
   * (same time), `members-count` Count "0". With `withLineEvents`, the winner's line also gets
   * `start_ringing` (offering), `start_calling` (answer) and `end_calling` (end) with its own CallId.
   */
  queueAnswered(options: QueueAnsweredOptions): ScenarioBuilder;
  /**
   * A queue caller who left before any agent answered. In order: `member-queue-start` (t0),
   * `members-count` "1" (t0), `agent-offering` per agent (t0 + min(1, wait/2)), at t0 + wait
   * `bridge-agent-fail` per offered agent (`ORIGINATOR_CANCEL` for BREAK_OUT, else `NO_ANSWER`),
   * `member-queue-end` with `QueueCause: "Cancel"` and `QueueCancelReason`, `members-count` "0".
   */
  queueAbandoned(options: QueueAbandonedOptions): ScenarioBuilder;
  /** Every event so far, in delivery order (by event time, then generation order). */
  events(): RawOvhEvent[];
  /** What was generated, call by call. */
  calls(): readonly ScenarioCall[];
}

const DEFAULT_TOKEN = 'B3C0A1E2-7F4D-4C1B-9A8E-5D6F7A8B9C0D';
const DEFAULT_START = Date.UTC(2026, 0, 5, 9, 0, 0);

interface Entry {
  readonly at: number;
  readonly seq: number;
  readonly event: RawOvhEvent;
}

/**
 * Creates a {@link ScenarioBuilder}. Example:
 * `createScenario().inboundAnswered({ from: '0612345678', to: '0972123456', ringSeconds: 5, talkSeconds: 60 }).events()`.
 */
export function createScenario(options: ScenarioOptions = {}): ScenarioBuilder {
  const token = options.token ?? DEFAULT_TOKEN;
  const startMs = options.start?.getTime() ?? DEFAULT_START;
  const billingAccount = options.billingAccount ?? '59415';
  const random = prng(options.seed ?? 1);
  const { ovh, e164, national, lineId } = scenarioNumbers(options.defaultCountry ?? 'FR');
  const entries: Entry[] = [];
  const generated: ScenarioCall[] = [];
  let clock = startMs;
  let seq = 0;

  const push = (at: number, event: RawOvhEvent) => {
    entries.push({ at, seq: seq++, event });
  };

  interface LineEventInput {
    readonly line: string;
    readonly callId: string;
    readonly calling: string;
    readonly called: string;
    readonly body: string;
    readonly cseq: string;
  }

  const lineEvent = (name: string, at: number, input: LineEventInput) => {
    const t = timeFields(random, seq, at);
    const line = ovh(input.line);
    push(at, {
      Data: {
        Billing: line,
        Body: input.body,
        CallId: input.callId,
        Called: ovh(input.called),
        Calling: ovh(input.calling),
        Cseq: input.cseq,
        Datetime: t.Datetime,
        Dialed: ovh(input.called),
        Event: name,
        Protocol: 'sip',
        RelevantInfo: '',
        Ts: t.Ts,
        TsGet: t.TsGet,
      },
      Date: t.Date,
      Details: {
        Description: `Poste ${national(input.line)}`,
        Id: lineId(input.line),
        IdBillingAccount: billingAccount,
        SimultaneousLine: '2',
        Type: 'sipCirpack',
      },
      Event: name,
      Ressource: line,
      Service: 'sip',
      Timestamp: t.Timestamp,
      Token: token,
    });
  };

  const queueEvent = (
    name: string,
    at: number,
    queue: string,
    data: Record<string, unknown>,
    timestampNs?: bigint,
  ) => {
    const t = timeFields(random, seq, at, timestampNs);
    push(at, {
      Data: {
        Action: name,
        Protocol: 'sip',
        Queue: ovh(queue),
        Ts: t.Ts,
        TsGet: t.TsGet,
        ...data,
      },
      Date: t.Date,
      Details: {
        Description: `File ${national(queue)}`,
        Id: lineId(queue),
        IdBillingAccount: billingAccount,
        SimultaneousLine: '0',
        Type: 'easyHunting',
      },
      Event: name,
      Ressource: ovh(queue),
      Service: 'queues',
      Timestamp: t.Timestamp,
      Token: token,
    });
  };

  /** Resolves the call start and, when it follows the clock, returns a function moving the clock. */
  const begin = (timing: ScenarioTiming): { t0: number; finish: (endMs: number) => void } => {
    if (timing.startAt !== undefined) return { t0: startMs + timing.startAt * 1000, finish: () => {} };
    const t0 = clock;
    return {
      t0,
      finish: (endMs) => {
        clock = Math.max(clock, endMs + 1000);
      },
    };
  };

  const record = (call: Omit<ScenarioCall, 'eventCount'>, before: number) => {
    generated.push({ ...call, eventCount: seq - before });
  };

  const builder: ScenarioBuilder = {
    get now() {
      return new Date(clock);
    },
    token,
    wait(seconds) {
      clock += seconds * 1000;
      return builder;
    },
    inboundAnswered(o) {
      const before = seq;
      const { t0, finish } = begin(o);
      const callId = o.callId ?? newCallId(random);
      const base = { line: o.to, callId, calling: o.from, called: o.to };
      const answer = t0 + o.ringSeconds * 1000;
      const hold = (o.holdSeconds ?? 0) * 1000;
      const end = answer + o.talkSeconds * 1000 + hold;
      lineEvent('start_ringing', t0, { ...base, body: 'SIP/2.0 180 Ringing', cseq: '1 INVITE' });
      lineEvent('start_calling', answer, { ...base, body: 'SIP/2.0 200 OK', cseq: '1 INVITE' });
      if (hold > 0) {
        const holdAt = answer + Math.floor((o.talkSeconds * 1000) / 2);
        lineEvent('start_hold', holdAt, { ...base, body: 'INVITE', cseq: '2 INVITE' });
        lineEvent('end_hold', holdAt + hold, { ...base, body: 'INVITE', cseq: '3 INVITE' });
      }
      lineEvent('end_calling', end, { ...base, body: 'BYE', cseq: '4 BYE' });
      finish(end);
      record(
        { kind: 'inbound-answered', callIds: [callId], startedAt: new Date(t0), endedAt: new Date(end) },
        before,
      );
      return builder;
    },
    inboundMissed(o) {
      const before = seq;
      const { t0, finish } = begin(o);
      const callId = o.callId ?? newCallId(random);
      const base = { line: o.to, callId, calling: o.from, called: o.to };
      const end = t0 + o.ringSeconds * 1000;
      lineEvent('start_ringing', t0, { ...base, body: 'SIP/2.0 180 Ringing', cseq: '1 INVITE' });
      lineEvent('end_ringing', end, { ...base, body: 'SIP/2.0 487 Request Terminated', cseq: '1 CANCEL' });
      finish(end);
      record(
        { kind: 'inbound-missed', callIds: [callId], startedAt: new Date(t0), endedAt: new Date(end) },
        before,
      );
      return builder;
    },
    outbound(o) {
      const before = seq;
      const { t0, finish } = begin(o);
      const callId = o.callId ?? newCallId(random);
      const base = { line: o.from, callId, calling: o.from, called: o.to };
      const end = t0 + (o.ringSeconds + o.talkSeconds) * 1000;
      lineEvent('start_calling', t0, { ...base, body: 'INVITE', cseq: '1 INVITE' });
      if (o.talkSeconds > 0) lineEvent('end_calling', end, { ...base, body: 'BYE', cseq: '2 BYE' });
      else
        lineEvent('end_calling', end, {
          ...base,
          body: 'SIP/2.0 487 Request Terminated',
          cseq: '1 CANCEL',
        });
      finish(end);
      record(
        { kind: 'outbound', callIds: [callId], startedAt: new Date(t0), endedAt: new Date(end) },
        before,
      );
      return builder;
    },
    hunting(o) {
      const before = seq;
      const { t0, finish } = begin(o);
      const first = o.callId ?? newCallId(random);
      const callIds = o.lines.map((_, i) => (o.sharedCallId || i === 0 ? first : newCallId(random)));
      const answerAt = t0 + o.ringSeconds * 1000;
      const winner = o.answeredBy === undefined ? -1 : o.lines.indexOf(o.answeredBy);
      let end = answerAt;
      o.lines.forEach((line, i) => {
        const base = { line, callId: callIds[i] ?? first, calling: o.from, called: line };
        lineEvent('start_ringing', t0 + i * 40, { ...base, body: 'SIP/2.0 180 Ringing', cseq: '1 INVITE' });
      });
      o.lines.forEach((line, i) => {
        const base = { line, callId: callIds[i] ?? first, calling: o.from, called: line };
        if (i === winner) {
          lineEvent('start_calling', answerAt, { ...base, body: 'SIP/2.0 200 OK', cseq: '1 INVITE' });
          end = answerAt + o.talkSeconds * 1000;
          lineEvent('end_calling', end, { ...base, body: 'BYE', cseq: '2 BYE' });
        } else {
          lineEvent('end_ringing', answerAt + 20 * (i + 1), {
            ...base,
            body: winner >= 0 ? 'SIP/2.0 487 Request Terminated' : 'SIP/2.0 408 Request Timeout',
            cseq: '1 CANCEL',
          });
        }
      });
      finish(end);
      record(
        {
          kind: 'hunting',
          callIds: [...new Set(callIds)],
          startedAt: new Date(t0),
          endedAt: new Date(Math.max(end, answerAt + 20 * o.lines.length)),
        },
        before,
      );
      return builder;
    },
    queueAnswered(o) {
      const before = seq;
      const { t0, finish } = begin(o);
      const memberUuid = o.memberUuid ?? newUuid(random);
      const member = {
        QueueMemberUUID: memberUuid,
        QueueMemberSessionUUID: newUuid(random),
        QueueMemberCIDName: o.callerName ?? e164(o.caller),
        QueueMemberCIDNumber: national(o.caller),
        Calling: ovh(o.caller),
      };
      const offerAt = t0 + Math.min(1, o.waitSeconds) * 1000;
      const answerAt = t0 + o.waitSeconds * 1000;
      const end = answerAt + o.talkSeconds * 1000;
      const joined = { QueueMemberJoinedTime: epoch(t0) };
      const agentId = (n: string) => `agent_${ovh(n)}_id`;
      const agentUuid = newUuid(random);
      queueEvent('member-queue-start', t0, o.queue, { ...member, ...joined });
      queueEvent('members-count', t0, o.queue, { Count: '1', QueueSelection: 'Single-Queue' });
      const offerNs = BigInt(offerAt + 150) * 1_000_000n + BigInt(Math.floor(random() * 1_000_000));
      for (const agent of o.agents) {
        queueEvent(
          'agent-offering',
          offerAt,
          o.queue,
          {
            ...member,
            QueueAgent: agentId(agent),
            QueueAgentSystem: 'single_box',
            QueueAgentType: 'callback',
            QueueMemberDNIS: ovh(o.queue),
          },
          offerNs,
        );
      }
      for (const agent of o.agents) {
        if (agent === o.answeredBy) continue;
        queueEvent('bridge-agent-fail', answerAt, o.queue, {
          ...member,
          ...joined,
          QueueAgent: agentId(agent),
          QueueAgentSystem: 'single_box',
          QueueAgentCalledTime: epoch(offerAt),
          QueueAgentAbortedTime: epoch(answerAt),
          QueueHangupCause: o.loserCause ?? 'LOSE_RACE',
        });
      }
      const bridged = {
        ...member,
        ...joined,
        QueueAgent: agentId(o.answeredBy),
        QueueAgentSystem: 'single_box',
        QueueAgentUUID: agentUuid,
        QueueAgentCalledTime: epoch(offerAt),
        QueueAgentAnsweredTime: epoch(answerAt),
      };
      queueEvent('bridge-agent-start', answerAt, o.queue, { ...bridged, QueueMemberDNIS: ovh(o.queue) });
      queueEvent('bridge-agent-end', end, o.queue, {
        ...bridged,
        QueueHangupCause: 'NORMAL_CLEARING',
        QueueBridgeTerminatedTime: epoch(end),
      });
      queueEvent('member-queue-end', end, o.queue, {
        ...bridged,
        QueueCause: 'Terminated',
        QueueHangupCause: 'NORMAL_CLEARING',
        QueueMemberLeavingTime: epoch(end),
      });
      queueEvent('members-count', end, o.queue, { Count: '0', QueueSelection: 'Single-Queue' });
      const callIds: string[] = [];
      if (o.withLineEvents) {
        const callId = newCallId(random);
        callIds.push(callId);
        const base = { line: o.answeredBy, callId, calling: o.caller, called: o.answeredBy };
        lineEvent('start_ringing', offerAt, { ...base, body: 'SIP/2.0 180 Ringing', cseq: '1 INVITE' });
        lineEvent('start_calling', answerAt, { ...base, body: 'SIP/2.0 200 OK', cseq: '1 INVITE' });
        lineEvent('end_calling', end, { ...base, body: 'BYE', cseq: '2 BYE' });
      }
      finish(end);
      record(
        { kind: 'queue-answered', callIds, memberUuid, startedAt: new Date(t0), endedAt: new Date(end) },
        before,
      );
      return builder;
    },
    queueAbandoned(o) {
      const before = seq;
      const { t0, finish } = begin(o);
      const memberUuid = o.memberUuid ?? newUuid(random);
      const reason = o.reason ?? 'BREAK_OUT';
      const member = {
        QueueMemberUUID: memberUuid,
        QueueMemberSessionUUID: newUuid(random),
        QueueMemberCIDName: o.callerName ?? e164(o.caller),
        QueueMemberCIDNumber: national(o.caller),
        Calling: ovh(o.caller),
      };
      const joined = { QueueMemberJoinedTime: epoch(t0) };
      const offerAt = t0 + Math.min(1, o.waitSeconds / 2) * 1000;
      const end = t0 + o.waitSeconds * 1000;
      const agentId = (n: string) => `agent_${ovh(n)}_id`;
      queueEvent('member-queue-start', t0, o.queue, { ...member, ...joined });
      queueEvent('members-count', t0, o.queue, { Count: '1', QueueSelection: 'Single-Queue' });
      const offerNs = BigInt(offerAt + 150) * 1_000_000n + BigInt(Math.floor(random() * 1_000_000));
      for (const agent of o.agents) {
        queueEvent(
          'agent-offering',
          offerAt,
          o.queue,
          {
            ...member,
            QueueAgent: agentId(agent),
            QueueAgentSystem: 'single_box',
            QueueAgentType: 'callback',
          },
          offerNs,
        );
      }
      for (const agent of o.agents) {
        queueEvent('bridge-agent-fail', end, o.queue, {
          ...member,
          ...joined,
          QueueAgent: agentId(agent),
          QueueAgentSystem: 'single_box',
          QueueAgentCalledTime: epoch(offerAt),
          QueueAgentAbortedTime: epoch(end),
          QueueHangupCause: reason === 'BREAK_OUT' ? 'ORIGINATOR_CANCEL' : 'NO_ANSWER',
        });
      }
      queueEvent('member-queue-end', end, o.queue, {
        ...member,
        ...joined,
        QueueCause: 'Cancel',
        QueueCancelReason: reason,
        QueueMemberLeavingTime: epoch(end),
      });
      queueEvent('members-count', end, o.queue, { Count: '0', QueueSelection: 'Single-Queue' });
      finish(end);
      record(
        { kind: 'queue-abandoned', callIds: [], memberUuid, startedAt: new Date(t0), endedAt: new Date(end) },
        before,
      );
      return builder;
    },
    events() {
      return [...entries].sort((a, b) => a.at - b.at || a.seq - b.seq).map((entry) => entry.event);
    },
    calls() {
      return [...generated];
    },
  };
  return builder;
}

/** Paris wall time of an instant (the fake OVH API writes its times with it). */
export { parisWall } from './time.js';
