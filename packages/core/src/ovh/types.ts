import type { PhoneNumber } from '../phone/index.js';

/**
 * Normalised OVH CTI events: the typed, validated form of what `events.voip.ovh.net` sends.
 *
 * Every event keeps `raw`, the object exactly as received (unknown keys included), so nothing the
 * server sends is lost even when this library does not understand it yet.
 */

/** Line (SIP/MGCP) event names. */
export type LineEventName =
  | 'start_ringing'
  | 'start_calling'
  | 'end_ringing'
  | 'end_calling'
  | 'start_hold'
  | 'end_hold'
  | 'registered';

/**
 * Queue (mod_callcenter) event names, normalised: `member-count` becomes `members-count`,
 * `bridge-agent-failed` becomes `bridge-agent-fail`.
 */
export type QueueEventName =
  | 'member-queue-start'
  | 'member-queue-resume'
  | 'member-queue-end'
  | 'agent-offering'
  | 'bridge-agent-start'
  | 'bridge-agent-end'
  | 'bridge-agent-fail'
  | 'members-count';

/** An OVH event object as received, before validation. */
export type RawOvhEvent = Readonly<Record<string, unknown>>;

/** `Details` of an event: the OVH line the event is about. */
export interface OvhLineDetails {
  /** Label of the OVH number (`Details.Description`). */
  readonly description?: string;
  /** OVH line id (`Details.Id`). */
  readonly id?: string;
  /** Billing account id (`Details.IdBillingAccount`). */
  readonly billingAccountId?: string;
  /** Simultaneous lines (`Details.SimultaneousLine`). */
  readonly simultaneousLines?: number;
  /** Line type: `sipCirpack`, `easyHunting`, `cloudHunting`, `mgcpCirpack`, … */
  readonly type?: string;
}

/**
 * Fields every normalised event has. The normaliser writes every key of an event's kind, absent
 * values as `undefined` (one object shape per kind): optional fields may be present and undefined.
 */
export interface OvhEventBase {
  /** The event token this event was received on (the `Token` field, else the polled token). */
  readonly token: string;
  /** Event name as normalised (see {@link LineEventName}, {@link QueueEventName}). */
  readonly name: string;
  /** `Service`: `sip`, `queues`, `mgcp`, … */
  readonly service: string;
  /** `Ressource` (sic): the OVH number or queue the event belongs to, raw. */
  readonly resource: string;
  /**
   * Server time of the event in nanoseconds (`Timestamp`). Absent when not sent. Read from the live
   * stream as a JS number, so exact to within 256 ns (digit strings, as in recordings, are exact).
   * This is the de-duplication key's time component and orders a poll's events.
   */
  readonly timestampNs?: bigint | undefined;
  /** Event time: from `Data.Ts` (epoch seconds), else `Timestamp`, else `Date`. */
  readonly at: Date;
  /** Line details (`Details`). */
  readonly details: OvhLineDetails;
  /** The event exactly as received. */
  readonly raw: RawOvhEvent;
  /**
   * Sequence number, per token, of the poll that brought the event (1, 2, …), when it came from
   * the event stream. The call tracker's settle window ends no later than the poll after next.
   */
  readonly poll?: number | undefined;
}

/** A line event: something happened on one OVH line for one call. */
export interface OvhLineEvent extends OvhEventBase {
  readonly kind: 'line';
  readonly name: LineEventName;
  /** `Data.CallId`: OVH's call identifier (may be shared by the legs of a call, or not). */
  readonly callId: string;
  /** `Data.Calling`: the calling party. */
  readonly calling: PhoneNumber;
  /** `Data.Called`: the called party. */
  readonly called: PhoneNumber;
  /** `Data.Dialed`: what was dialled, when sent. */
  readonly dialed?: PhoneNumber | undefined;
  /** `Data.Billing` (else `Ressource`): the OVH number this event is about. */
  readonly line: PhoneNumber;
  /** `Data.Protocol`: `sip` or `mgcp`. */
  readonly protocol?: string | undefined;
}

/** A queue (call centre) event for one caller waiting in an OVH queue. */
export interface OvhQueueEvent extends OvhEventBase {
  readonly kind: 'queue';
  readonly name: QueueEventName;
  /** `Data.Queue`: the queue (usually an OVH number). */
  readonly queue: string;
  /** `Data.QueueMemberUUID`: one caller's stay in the queue. Absent on `members-count`. */
  readonly memberUuid?: string | undefined;
  /** `Data.QueueMemberSessionUUID`. */
  readonly memberSessionUuid?: string | undefined;
  /** The caller: `QueueMemberCIDNumber`, else `QueueMemberCIDName` when it is a number, else `Calling`. */
  readonly caller?: PhoneNumber | undefined;
  /** `QueueMemberCIDName` when it is a name rather than a number. */
  readonly callerName?: string | undefined;
  /** `QueueAgent` (else `Agent`): `agent_0033…_id` style agent id. */
  readonly agent?: string | undefined;
  /** The agent's number when the agent id embeds one. */
  readonly agentNumber?: PhoneNumber | undefined;
  /** `QueueCause`: `Terminated` or `Cancel` on `member-queue-end`. */
  readonly cause?: string | undefined;
  /** `QueueCancelReason`: `NONE`, `TIMEOUT`, `NO_AGENT_TIMEOUT`, `BREAK_OUT`, `EXIT_WITH_KEY`. */
  readonly cancelReason?: string | undefined;
  /** `QueueHangupCause`: `SUCCESS`, `LOSE_RACE`, `NO_ANSWER`, `ORIGINATOR_CANCEL`, … */
  readonly hangupCause?: string | undefined;
  /** `QueueMemberJoinedTime`. */
  readonly joinedAt?: Date | undefined;
  /** `QueueMemberLeavingTime`. */
  readonly leftAt?: Date | undefined;
  /** `QueueAgentCalledTime`. */
  readonly agentCalledAt?: Date | undefined;
  /** `QueueAgentAnsweredTime`. */
  readonly agentAnsweredAt?: Date | undefined;
  /** `QueueBridgeTerminatedTime`. */
  readonly bridgeTerminatedAt?: Date | undefined;
  /** `Count` on `members-count`. */
  readonly count?: number | undefined;
}

/** An event this library does not model (yet): passed through untouched. */
export interface OvhUnknownEvent extends OvhEventBase {
  readonly kind: 'unknown';
}

/** Any normalised OVH event. Switch on `kind`, then on `name`. */
export type OvhEvent = OvhLineEvent | OvhQueueEvent | OvhUnknownEvent;
