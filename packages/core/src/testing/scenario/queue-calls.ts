/** Queue calls in the mod_callcenter order: a caller answered by an agent, a caller who left. */
import { newCallId, newUuid } from './random.js';
import { lineEvent, queueEvent } from './raw-events.js';
import type { QueueAbandonedOptions, QueueAnsweredOptions } from './scenario.js';
import type { ScenarioState } from './state.js';
import { epoch } from './time.js';

/** One queue member (caller) and where they wait: what every event of the call repeats. */
interface QueueVisit {
  readonly state: ScenarioState;
  readonly queue: string;
  /** The caller's `QueueMember*` fields and `Calling`. */
  readonly member: Record<string, string>;
  /** `QueueMemberJoinedTime`. */
  readonly joined: { readonly QueueMemberJoinedTime: string };
}

/** Queue answered: start, offerings, losers failed, bridge start/end, member end; optional line events. */
export function queueAnswered(state: ScenarioState, o: QueueAnsweredOptions): void {
  const before = state.seq;
  const { t0, finish } = state.begin(o);
  const memberUuid = o.memberUuid ?? newUuid(state.random);
  const visit = queueVisit(state, o, memberUuid, t0);
  const offerAt = t0 + Math.min(1, o.waitSeconds) * 1000;
  const answerAt = t0 + o.waitSeconds * 1000;
  const end = answerAt + o.talkSeconds * 1000;
  const agentUuid = newUuid(state.random);
  startQueue(visit, t0);
  offerAgents(visit, o.agents, offerAt, { QueueMemberDNIS: state.numbers.ovh(o.queue) });
  const losers = o.agents.filter((agent) => agent !== o.answeredBy);
  failAgents(visit, losers, offerAt, answerAt, o.loserCause ?? 'LOSE_RACE');
  bridgeAgent(visit, o.answeredBy, agentUuid, { offerAt, answerAt, end });
  endQueue(visit, end);
  const callIds = o.withLineEvents ? [agentLine(state, o, { offerAt, answerAt, end })] : [];
  finish(end);
  state.record(
    { kind: 'queue-answered', callIds, memberUuid, startedAt: new Date(t0), endedAt: new Date(end) },
    before,
  );
}

/** Queue abandoned: start, offerings, offered agents failed, member end with `Cancel` and the reason. */
export function queueAbandoned(state: ScenarioState, o: QueueAbandonedOptions): void {
  const before = state.seq;
  const { t0, finish } = state.begin(o);
  const memberUuid = o.memberUuid ?? newUuid(state.random);
  const reason = o.reason ?? 'BREAK_OUT';
  const visit = queueVisit(state, o, memberUuid, t0);
  const offerAt = t0 + Math.min(1, o.waitSeconds / 2) * 1000;
  const end = t0 + o.waitSeconds * 1000;
  startQueue(visit, t0);
  offerAgents(visit, o.agents, offerAt, {});
  failAgents(visit, o.agents, offerAt, end, reason === 'BREAK_OUT' ? 'ORIGINATOR_CANCEL' : 'NO_ANSWER');
  queueEvent(state, 'member-queue-end', end, o.queue, {
    ...visit.member,
    ...visit.joined,
    QueueCause: 'Cancel',
    QueueCancelReason: reason,
    QueueMemberLeavingTime: epoch(end),
  });
  endQueue(visit, end);
  finish(end);
  state.record(
    { kind: 'queue-abandoned', callIds: [], memberUuid, startedAt: new Date(t0), endedAt: new Date(end) },
    before,
  );
}

/** The caller in the queue: their `QueueMember*` fields (draws the member session uuid) and join time. */
function queueVisit(
  state: ScenarioState,
  o: { readonly queue: string; readonly caller: string; readonly callerName?: string },
  memberUuid: string,
  t0: number,
): QueueVisit {
  const { ovh, e164, national } = state.numbers;
  const member = {
    QueueMemberUUID: memberUuid,
    QueueMemberSessionUUID: newUuid(state.random),
    QueueMemberCIDName: o.callerName ?? e164(o.caller),
    QueueMemberCIDNumber: national(o.caller),
    Calling: ovh(o.caller),
  };
  return { state, queue: o.queue, member, joined: { QueueMemberJoinedTime: epoch(t0) } };
}

/** `agent_0033972000001_id`: the `QueueAgent` of an agent's number. */
function agentId(state: ScenarioState, agent: string): string {
  return `agent_${state.numbers.ovh(agent)}_id`;
}

/** `member-queue-start` and `members-count` "1" at `t0`. */
function startQueue({ state, queue, member, joined }: QueueVisit, t0: number): void {
  queueEvent(state, 'member-queue-start', t0, queue, { ...member, ...joined });
  queueEvent(state, 'members-count', t0, queue, { Count: '1', QueueSelection: 'Single-Queue' });
}

/** One `agent-offering` per agent at `offerAt`, all with the same `Timestamp`; `extra` ends their data. */
function offerAgents(
  { state, queue, member }: QueueVisit,
  agents: readonly string[],
  offerAt: number,
  extra: Record<string, string>,
): void {
  const offerNs = BigInt(offerAt + 150) * 1_000_000n + BigInt(Math.floor(state.random() * 1_000_000));
  for (const agent of agents) {
    const data = {
      ...member,
      QueueAgent: agentId(state, agent),
      QueueAgentSystem: 'single_box',
      QueueAgentType: 'callback',
      ...extra,
    };
    queueEvent(state, 'agent-offering', offerAt, queue, data, offerNs);
  }
}

/** One `bridge-agent-fail` per agent at `at`, with `cause` as `QueueHangupCause`. */
function failAgents(
  { state, queue, member, joined }: QueueVisit,
  agents: readonly string[],
  offerAt: number,
  at: number,
  cause: string,
): void {
  for (const agent of agents) {
    queueEvent(state, 'bridge-agent-fail', at, queue, {
      ...member,
      ...joined,
      QueueAgent: agentId(state, agent),
      QueueAgentSystem: 'single_box',
      QueueAgentCalledTime: epoch(offerAt),
      QueueAgentAbortedTime: epoch(at),
      QueueHangupCause: cause,
    });
  }
}

/** The times of an answered queue call, epoch ms. */
interface AnsweredTimes {
  readonly offerAt: number;
  readonly answerAt: number;
  readonly end: number;
}

/** `bridge-agent-start` at the answer, then `bridge-agent-end` and `member-queue-end` at the end. */
function bridgeAgent(visit: QueueVisit, agent: string, agentUuid: string, times: AnsweredTimes): void {
  const { state, queue, member, joined } = visit;
  const bridged = {
    ...member,
    ...joined,
    QueueAgent: agentId(state, agent),
    QueueAgentSystem: 'single_box',
    QueueAgentUUID: agentUuid,
    QueueAgentCalledTime: epoch(times.offerAt),
    QueueAgentAnsweredTime: epoch(times.answerAt),
  };
  queueEvent(state, 'bridge-agent-start', times.answerAt, queue, {
    ...bridged,
    QueueMemberDNIS: state.numbers.ovh(queue),
  });
  queueEvent(state, 'bridge-agent-end', times.end, queue, {
    ...bridged,
    QueueHangupCause: 'NORMAL_CLEARING',
    QueueBridgeTerminatedTime: epoch(times.end),
  });
  queueEvent(state, 'member-queue-end', times.end, queue, {
    ...bridged,
    QueueCause: 'Terminated',
    QueueHangupCause: 'NORMAL_CLEARING',
    QueueMemberLeavingTime: epoch(times.end),
  });
}

/** `members-count` "0" at `end`. */
function endQueue({ state, queue }: QueueVisit, end: number): void {
  queueEvent(state, 'members-count', end, queue, { Count: '0', QueueSelection: 'Single-Queue' });
}

/** The answering agent's line: ringing at the offer, calling at the answer, end; returns its CallId. */
function agentLine(state: ScenarioState, o: QueueAnsweredOptions, times: AnsweredTimes): string {
  const callId = newCallId(state.random);
  const base = { line: o.answeredBy, callId, calling: o.caller, called: o.answeredBy };
  lineEvent(state, 'start_ringing', times.offerAt, {
    ...base,
    body: 'SIP/2.0 180 Ringing',
    cseq: '1 INVITE',
  });
  lineEvent(state, 'start_calling', times.answerAt, { ...base, body: 'SIP/2.0 200 OK', cseq: '1 INVITE' });
  lineEvent(state, 'end_calling', times.end, { ...base, body: 'BYE', cseq: '2 BYE' });
  return callId;
}
