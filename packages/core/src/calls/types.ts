import type { PhoneNumber } from '../phone/index.js';

/** Which way a call went, seen from the company. */
export type CallDirection = 'inbound' | 'outbound' | 'internal';

/** Where a call is in its life. */
export type CallState = 'ringing' | 'answered' | 'held' | 'ended';

/**
 * How a call ended.
 * - `answered`: somebody picked up;
 * - `missed`: an inbound call rang and nobody picked up;
 * - `busy`: the line was busy (rejected while ringing);
 * - `cancelled`: an outbound call the caller hung up before the other side answered.
 */
export type CallOutcome = 'answered' | 'missed' | 'busy' | 'cancelled';

/** How a caller's stay in a queue ended. */
export type QueueOutcome = 'answered' | 'abandoned' | 'timeout' | 'no-agent';

/** One call, built by the CallTracker from line events. Immutable snapshots are emitted. */
export interface Call {
  /** OVH CallId of the call (for a call that rang several lines: the id of the first leg seen). */
  readonly id: string;
  /** Event token the call was seen on. */
  readonly token: string;
  readonly direction: CallDirection;
  readonly state: CallState;
  /** Set once the call has ended. */
  readonly outcome?: CallOutcome;
  /** Our OVH line: the one that answered, else the first that rang (inbound) or placed it (outbound). */
  readonly line: PhoneNumber;
  /** Label of our line (`Details.Description`), when known. */
  readonly lineLabel?: string;
  /** The other party. */
  readonly remote: PhoneNumber;
  /** Every one of our lines this call rang on (hunting groups ring several). */
  readonly linesRung: readonly string[];
  readonly startedAt: Date;
  readonly answeredAt?: Date;
  readonly endedAt?: Date;
  /** Seconds from start to answer (or to end, when never answered). */
  readonly ringSeconds: number;
  /** Seconds from answer to end, hold included. */
  readonly talkSeconds: number;
  /** Seconds on hold. */
  readonly holdSeconds: number;
  /** The queue session this call went through, when the queue's events were seen too. */
  readonly queue?: CallQueueInfo;
  /**
   * True when the tracker had to infer part of this call (an orphan closed by timeout, an end
   * without a start, …). `inferredReason` says what.
   */
  readonly inferred: boolean;
  readonly inferredReason?: string;
}

/** Queue details attached to a call. */
export interface CallQueueInfo {
  readonly queue: string;
  readonly memberUuid: string;
  readonly agent?: string;
  readonly waitSeconds: number;
  readonly outcome?: QueueOutcome;
}

/** One caller's stay in an OVH queue, built from queue events keyed on QueueMemberUUID. */
export interface QueueSession {
  readonly memberUuid: string;
  readonly token: string;
  readonly queue: string;
  readonly caller?: PhoneNumber;
  readonly callerName?: string;
  readonly state: 'waiting' | 'offered' | 'answered' | 'ended';
  readonly outcome?: QueueOutcome;
  readonly joinedAt: Date;
  readonly answeredAt?: Date;
  readonly leftAt?: Date;
  /** Agents the caller was offered to, in order, without repeats. */
  readonly agentsOffered: readonly string[];
  /** The agent who took the call. */
  readonly answeredBy?: string;
  readonly waitSeconds: number;
  readonly talkSeconds: number;
  /** Raw QueueCause / QueueCancelReason the outcome was read from. */
  readonly cause?: string;
  readonly cancelReason?: string;
  /** The call (CallId) with the same caller, when both the line and the queue tokens are followed. */
  readonly callId?: string;
  readonly inferred: boolean;
  readonly inferredReason?: string;
}

/** What the CallTracker emits, in order. */
export type CallEvent =
  | { readonly type: 'call.ringing'; readonly call: Call }
  | { readonly type: 'call.answered'; readonly call: Call }
  | { readonly type: 'call.held'; readonly call: Call }
  | { readonly type: 'call.resumed'; readonly call: Call }
  | { readonly type: 'call.ended'; readonly call: Call }
  | { readonly type: 'queue.joined'; readonly session: QueueSession }
  | { readonly type: 'queue.offered'; readonly session: QueueSession; readonly agent: string }
  | { readonly type: 'queue.answered'; readonly session: QueueSession }
  | { readonly type: 'queue.left'; readonly session: QueueSession };
