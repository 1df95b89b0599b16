import type { RawOvhEvent } from '../../ovh/types.js';
import { hunting } from './hunting.js';
import { inboundAnswered, inboundMissed, outbound } from './line-calls.js';
import { queueAbandoned, queueAnswered } from './queue-calls.js';
import { ScenarioState } from './state.js';

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

/**
 * Creates a {@link ScenarioBuilder}. Example:
 * `createScenario().inboundAnswered({ from: '0612345678', to: '0972123456', ringSeconds: 5, talkSeconds: 60 }).events()`.
 */
export function createScenario(options: ScenarioOptions = {}): ScenarioBuilder {
  const state = new ScenarioState(options);
  /** A builder method running one family's call on the state, then returning the builder. */
  const chain =
    <O>(call: (state: ScenarioState, options: O) => void) =>
    (o: O): ScenarioBuilder => {
      call(state, o);
      return builder;
    };
  const builder: ScenarioBuilder = {
    get now() {
      return new Date(state.clock);
    },
    token: state.token,
    wait(seconds) {
      state.clock += seconds * 1000;
      return builder;
    },
    inboundAnswered: chain(inboundAnswered),
    inboundMissed: chain(inboundMissed),
    outbound: chain(outbound),
    hunting: chain(hunting),
    queueAnswered: chain(queueAnswered),
    queueAbandoned: chain(queueAbandoned),
    events: () => state.events(),
    calls: () => state.calls(),
  };
  return builder;
}

/** Paris wall time of an instant (the fake OVH API writes its times with it). */
export { parisWall } from './time.js';
