import { DEFAULT_COUNTRY } from '../config/defaults.js';
import type { OvhEvent, OvhLineEvent, OvhQueueEvent } from '../ovh/types.js';
import { digitsOf, type PhoneNumber, parsePhone } from '../phone/index.js';
import type {
  Call,
  CallDirection,
  CallEvent,
  CallOutcome,
  CallQueueInfo,
  CallState,
  QueueOutcome,
  QueueSession,
} from './types.js';

/** Options of {@link CallTracker}. */
export interface CallTrackerOptions {
  /** Wall clock (epoch ms) used only for orphan timeouts. Default `Date.now`. */
  readonly clock?: () => number;
  /**
   * An answered call (or a queue session) with no event for this long is closed by {@link
   * CallTracker.tick} and marked inferred. Default 4 hours.
   */
  readonly orphanTimeoutMs?: number;
  /** A call still ringing with no event for this long is closed as missed, inferred. Default 10 minutes. */
  readonly ringingTimeoutMs?: number;
  /**
   * Legs of a number ringing several of our lines that carry different CallIds are grouped into one
   * call when they come from the same remote number, on the same billing account, and start within
   * this many ms of the call's first leg. Default 5 000.
   */
  readonly huntingWindowMs?: number;
  /**
   * Our own numbers, any notation, in addition to every line the stream reports (`Billing` /
   * `Ressource` of line events). A call whose other party is one of them is `internal`.
   */
  readonly ownLines?: readonly string[];
  /** How long an ended call id is remembered, so late or repeated events do not open a new call. Default 30 minutes. */
  readonly endedRetentionMs?: number;
  /** Country used to read national notations in `ownLines`. Default `FR`. */
  readonly defaultCountry?: string;
  /**
   * Told about an internal error while handling an event (the event is then dropped; the tracker
   * never throws). For logs and tests.
   */
  readonly onError?: (error: unknown, event: OvhEvent) => void;
  /**
   * Settle window (ms, per the injected clock). A call or queue session whose end has been seen is
   * held this long before it is finished, so that its events arriving late (OVH promises no order
   * across polls) are folded in by their own times; never past the poll after next of its token
   * (see {@link OvhEventBase.poll}). Events and screen pops of ringing calls are not delayed.
   * Default 0: finished at once (the connector sets its own default).
   */
  readonly settleMs?: number;
  /**
   * Calls, and queue sessions, in flight at most (default 10 000 each): past it the one opened
   * first is dropped (a broken or hostile stream opening calls that never end must not grow
   * memory and snapshots without bound). Our lines remembered at most: the same.
   */
  readonly maxInFlight?: number;
  /** Told when something is dropped to stay within {@link maxInFlight}. */
  readonly onDropped?: (what: 'call' | 'queue-session' | 'line', id: string) => void;
}

/**
 * One leg: one of our lines involved in a call. Times are epoch ms from the events. Every event
 * is kept by its own time, whatever the order it arrived in: the leg's view (its end, its hold
 * time) is computed from them, so any order of the same events gives the same leg.
 */
interface Leg {
  callId: string;
  line: PhoneNumber;
  lineLabel?: string;
  firstAt: number;
  ringAt?: number;
  callingAt?: number;
  /** `end_ringing`. An answered leg ignores it (it ends with `end_calling`). */
  ringEndAt?: number;
  /** `end_calling`. */
  callEndAt?: number;
  /** SIP status of the `Body` of the end events (`487`), when they carried one. */
  ringEndStatus?: number;
  callEndStatus?: number;
  holdStarts: number[];
  holdEnds: number[];
  /** Hold time already counted by a version 1 snapshot. */
  heldMs?: number;
}

/** The time a leg ended, if it did: an answered leg ends with `end_calling`, others with either end. */
function legEnd(leg: Leg): number | undefined {
  return leg.callingAt !== undefined ? leg.callEndAt : (leg.callEndAt ?? leg.ringEndAt);
}

function legStart(leg: Leg): number {
  return leg.ringAt ?? leg.callingAt ?? leg.firstAt;
}

function compareLines(a: Leg, b: Leg): number {
  const x = a.line.e164 ?? a.line.raw;
  const y = b.line.e164 ?? b.line.raw;
  return x < y ? -1 : x > y ? 1 : 0;
}

function legEndStatus(leg: Leg): number | undefined {
  return leg.callingAt !== undefined || leg.callEndAt !== undefined ? leg.callEndStatus : leg.ringEndStatus;
}

/**
 * Hold time of a leg from its hold starts and ends, in time order (a start while held and an end
 * while not held are ignored), up to `until` (the leg's end) when given. `open`: still on hold.
 */
function holdOf(leg: Leg, until: number | undefined): { ms: number; open: boolean } {
  let ms = leg.heldMs ?? 0;
  if (leg.holdStarts.length === 0) return { ms, open: false };
  const marks: Array<readonly [number, 0 | 1]> = [];
  for (const t of leg.holdStarts) marks.push([t, 0]);
  for (const t of leg.holdEnds) marks.push([t, 1]);
  marks.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let since: number | undefined;
  for (const [t, kind] of marks) {
    if (until !== undefined && t > until) break;
    if (kind === 0) since ??= t;
    else if (since !== undefined) {
      ms += t - since;
      since = undefined;
    }
  }
  if (since !== undefined && until !== undefined) return { ms: ms + Math.max(0, until - since), open: false };
  return { ms, open: since !== undefined };
}

interface CallRecordState {
  id: string;
  token: string;
  /** `IdBillingAccount`, else the token: the scope of hunting groups. */
  scope: string;
  origin: 'inbound' | 'outbound';
  remote: PhoneNumber;
  legs: Leg[];
  lastAt: number;
  lastSeen: number;
  ended: boolean;
  memberUuid?: string;
  reasons: string[];
  /** Set while its end is seen and it settles: when (clock) it is finished at the latest. */
  settleAt?: number;
  /** The poll that brought its end: it is finished before an event of the poll after next. */
  settlePoll?: number;
}

interface SessionState {
  memberUuid: string;
  token: string;
  queue: string;
  caller?: PhoneNumber;
  callerName?: string;
  joinedAt: number;
  offeredAt?: number;
  answeredAt?: number;
  leftAt?: number;
  bridgeEndAt?: number;
  agents: string[];
  answeredBy?: string;
  cause?: string;
  cancelReason?: string;
  lastSeen: number;
  ended: boolean;
  callId?: string;
  reasons: string[];
  /** When each agent was offered the call (agents are listed in that order). */
  offers?: Record<string, number>;
  /** `member-queue-start`/`-resume` seen (false: the session was joined before we saw it). */
  joinSeen?: boolean;
  /** The earliest event seen, by its own time. */
  firstEvent?: { name: string; at: number };
  bridgeStartSeen?: boolean;
  bridgeEndSeen?: boolean;
  settleAt?: number;
  settlePoll?: number;
}

interface SnapshotV2 {
  readonly v: 2;
  readonly calls: CallRecordState[];
  readonly sessions: SessionState[];
  readonly lines: string[];
  readonly endedCalls: [string, number][];
  readonly endedSessions: [string, { at: number; session: SessionState }][];
}

/** A leg as version 1 snapshots kept it (one end time, hold counted as it came). */
interface LegV1 {
  callId: string;
  line: PhoneNumber;
  lineLabel?: string;
  firstAt: number;
  ringAt?: number;
  callingAt?: number;
  endAt?: number;
  endStatus?: number;
  holdSince?: number;
  holdMs?: number;
}

function legFromV1(old: LegV1): Leg {
  const { endAt, endStatus, holdSince, holdMs, ...rest } = old;
  const leg: Leg = { ...rest, holdStarts: holdSince === undefined ? [] : [holdSince], holdEnds: [] };
  if (holdMs) leg.heldMs = holdMs;
  if (endAt !== undefined) {
    if (old.callingAt !== undefined) leg.callEndAt = endAt;
    else leg.ringEndAt = endAt;
    if (endStatus !== undefined)
      leg[old.callingAt !== undefined ? 'callEndStatus' : 'ringEndStatus'] = endStatus;
  }
  return leg;
}

/** The reason of a call of which only the end was seen (a stray end event). */
export const STRAY_END_REASON = 'no start event: only the end of the call was seen';

const SIP_STATUS = /^SIP\/2\.0\s+(\d{3})/;

/** Identity of a number for comparisons: E.164 when known, else its digits. */
function numberKey(phone: PhoneNumber | undefined): string {
  if (!phone || phone.withheld) return '';
  return phone.e164 ?? digitsOf(phone.raw);
}

function secondsBetween(from: number | undefined, to: number | undefined): number {
  if (from === undefined || to === undefined || to <= from) return 0;
  return Math.round((to - from) / 1000);
}

function sipStatusOf(event: OvhLineEvent): number | undefined {
  const data = (event.raw as { Data?: unknown }).Data;
  if (typeof data !== 'object' || data === null) return undefined;
  const body = (data as { Body?: unknown }).Body;
  if (typeof body !== 'string') return undefined;
  const match = SIP_STATUS.exec(body);
  return match ? Number(match[1]) : undefined;
}

const BUSY_STATUSES = new Set([486, 600]);

/**
 * Ended ids remembered at most (besides the time-based retention applied by `tick()`), so a
 * tracker used without `tick()` stays bounded.
 */
const MAX_ENDED = 50_000;

/** Drops the oldest entries (Maps keep insertion order) beyond `max`. */
function capMap(map: Map<string, unknown>, max: number): void {
  if (map.size <= max) return;
  for (const key of map.keys()) {
    map.delete(key);
    if (map.size <= max) return;
  }
}

/**
 * Turns normalised OVH events into {@link Call}s and {@link QueueSession}s.
 *
 * Deterministic: the same events in the same order give the same objects; every time comes from the
 * events (`at`, and the queue's own `Queue…Time` fields), except the orphan timeouts of {@link tick},
 * which read the injected clock. It never throws on odd input: duplicated events are ignored,
 * out-of-order ones are placed by their own time, missing ones are inferred and flagged.
 *
 * Line calls:
 * - inbound answered: `start_ringing` → `start_calling` → `end_calling`; missed: `start_ringing` →
 *   `end_ringing` with no `start_calling` (a SIP 486/600 in the end event's `Body` makes it `busy`);
 *   hold via `start_hold`/`end_hold` (`talkSeconds` includes hold, `holdSeconds` counts it);
 * - direction: read from the numbers (`Called` is the line: inbound; `Calling` is the line:
 *   outbound), else from the first event (`start_ringing`: inbound, `start_calling`: outbound);
 *   `internal` when the other party is one of our lines;
 * - outbound: OVH sends no answer signal (docs/ovh-stream.md §2). The call's time counts from
 *   `start_calling` (dialling) to `end_calling`: when the end event carries a SIP failure status
 *   (4xx–6xx, e.g. `487 Request Terminated`) the call was not answered (`cancelled`, or `busy` for
 *   486/600/603) and all of it is ring time; otherwise it is `answered`, `answeredAt = startedAt` and
 *   all of it is talk time (ring time before the answer cannot be told apart — a known limitation);
 * - hunting: a number ringing several lines is one call answered by the line that picked up. Legs
 *   sharing a CallId are one call; legs with their own CallIds are grouped by remote number + billing
 *   account + start within `huntingWindowMs` (withheld numbers are never grouped). The call id is the
 *   first leg's CallId; every leg's CallId resolves to it, so one CallId never makes two calls.
 *
 * Queue sessions are keyed on `QueueMemberUUID`; outcome from `QueueCause` (`Terminated`: answered)
 * and `QueueCancelReason` (`TIMEOUT`: timeout, `NO_AGENT_TIMEOUT`: no-agent, else abandoned). A
 * session and an inbound call with the same caller, both in flight, are linked (`Call.queue`,
 * `QueueSession.callId`).
 */
export class CallTracker {
  readonly #clock: () => number;
  readonly #orphanMs: number;
  readonly #ringingMs: number;
  readonly #huntingMs: number;
  readonly #retentionMs: number;
  readonly #settleMs: number;
  readonly #maxInFlight: number;
  readonly #onDropped: ((what: 'call' | 'queue-session' | 'line', id: string) => void) | undefined;
  /** Calls and sessions whose end was seen, settling. */
  readonly #settlingCalls = new Set<CallRecordState>();
  readonly #settlingSessions = new Set<SessionState>();
  readonly #onError: ((error: unknown, event: OvhEvent) => void) | undefined;
  /** Active calls by every CallId of their legs. */
  readonly #calls = new Map<string, CallRecordState>();
  /** Active calls, once each. */
  readonly #active = new Set<CallRecordState>();
  /** Active inbound calls by remote number: hunting legs and queue sessions are matched here. */
  readonly #byRemote = new Map<string, Set<CallRecordState>>();
  /** Active queue sessions by member uuid. */
  readonly #sessions = new Map<string, SessionState>();
  /** Our numbers (E.164 or digits). */
  readonly #lines = new Set<string>();
  /** Ended call ids (every leg's) and when (clock) they ended. */
  readonly #endedCalls = new Map<string, number>();
  /** Ended sessions (kept so a call ending after its session still carries the queue) and when (clock). */
  readonly #endedSessions = new Map<string, { at: number; session: SessionState }>();

  constructor(options: CallTrackerOptions = {}) {
    this.#clock = options.clock ?? Date.now;
    this.#orphanMs = options.orphanTimeoutMs ?? 4 * 3_600_000;
    this.#ringingMs = options.ringingTimeoutMs ?? 10 * 60_000;
    this.#huntingMs = options.huntingWindowMs ?? 5_000;
    this.#retentionMs = options.endedRetentionMs ?? 30 * 60_000;
    this.#settleMs = Math.max(0, options.settleMs ?? 0);
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? 10_000);
    this.#onDropped = options.onDropped;
    this.#onError = options.onError;
    for (const line of options.ownLines ?? []) {
      const key = numberKey(parsePhone(line, { defaultCountry: options.defaultCountry ?? DEFAULT_COUNTRY }));
      if (key) this.#lines.add(key);
    }
  }

  /** Restores a tracker from {@link snapshot}. An unreadable snapshot gives an empty tracker. */
  static restore(snapshot: string, options: CallTrackerOptions = {}): CallTracker {
    const tracker = new CallTracker(options);
    tracker.#load(snapshot);
    return tracker;
  }

  /**
   * Feeds one event; returns what it caused, in order (often nothing): first the calls and sessions
   * whose settle window ended (by the clock, or because this event is from the poll after next of
   * their token), then what the event itself caused. Never throws.
   */
  push(event: OvhEvent): CallEvent[] {
    const released = this.#settlingCalls.size + this.#settlingSessions.size > 0 ? this.#release(event) : [];
    try {
      const out =
        event.kind === 'line' ? this.#line(event) : event.kind === 'queue' ? this.#queue(event) : [];
      return released.length === 0 ? out : [...released, ...out];
    } catch (error) {
      // A bug here must not stop the stream: the event is dropped, and reported.
      this.#onError?.(error, event);
    }
    return released;
  }

  /** Finishes the calls and sessions whose settle window has ended (per the clock). */
  settle(): CallEvent[] {
    return this.#settlingCalls.size + this.#settlingSessions.size > 0 ? this.#release() : [];
  }

  /** Finishes every settling call and session now (the stream ended: nothing more will come). */
  flush(): CallEvent[] {
    return this.#release(undefined, true);
  }

  /** How many calls and sessions are settling (their end seen, their late events awaited). */
  settling(): number {
    return this.#settlingCalls.size + this.#settlingSessions.size;
  }

  #release(event?: OvhEvent, all = false): CallEvent[] {
    const now = this.#clock();
    const due = (item: { token: string; settleAt?: number; settlePoll?: number }) =>
      all ||
      now >= (item.settleAt ?? 0) ||
      (event?.poll !== undefined &&
        item.settlePoll !== undefined &&
        item.token === event.token &&
        event.poll >= item.settlePoll + 2);
    const out: CallEvent[] = [];
    for (const call of [...this.#settlingCalls]) if (due(call)) this.#settled(call, out);
    for (const session of [...this.#settlingSessions]) if (due(session)) this.#finishSession(session, out);
    return out;
  }

  /**
   * Closes calls and queue sessions that have seen no event for too long (per the injected clock),
   * marking them inferred, and forgets old ended ids. Call it periodically.
   */
  tick(): CallEvent[] {
    const now = this.#clock();
    const out: CallEvent[] = [];
    out.push(...this.settle());
    for (const call of [...this.#active]) {
      if (call.ended || call.settleAt !== undefined) continue;
      const answered = this.#isAnswered(call);
      const limit = answered ? this.#orphanMs : this.#ringingMs;
      if (now - call.lastSeen < limit) continue;
      call.reasons.push(
        answered ? 'no end event before the orphan timeout' : 'no end event before the ringing timeout',
      );
      this.#endCall(call, out);
    }
    for (const session of [...this.#sessions.values()]) {
      if (session.settleAt !== undefined || now - session.lastSeen < this.#orphanMs) continue;
      session.reasons.push('no member-queue-end before the orphan timeout');
      this.#endSession(session, out);
    }
    for (const [id, at] of this.#endedCalls) if (now - at > this.#retentionMs) this.#endedCalls.delete(id);
    for (const [id, ended] of this.#endedSessions) {
      if (now - ended.at > this.#retentionMs) this.#endedSessions.delete(id);
    }
    return out;
  }

  /**
   * In-flight state as a string, to save and later {@link restore}. With `accept`, only the calls
   * and queue sessions of the tokens it accepts (a hand-over to another runner, see {@link adopt}).
   */
  snapshot(accept?: (token: string) => boolean): string {
    const calls = accept === undefined ? [...this.#active] : [...this.#active].filter((c) => accept(c.token));
    const sessions = [...this.#sessions.values()];
    const data: SnapshotV2 = {
      v: 2,
      calls,
      sessions: accept === undefined ? sessions : sessions.filter((session) => accept(session.token)),
      lines: [...this.#lines],
      endedCalls: [...this.#endedCalls],
      endedSessions: [...this.#endedSessions],
    };
    return JSON.stringify(data);
  }

  /**
   * Takes over the in-flight calls and queue sessions of some tokens from another tracker's
   * {@link snapshot} (a runner taking a token over from one that died or gave it back), so that
   * their later events finish them instead of starting partial calls. Calls and sessions already
   * known here are left as they are; ended call ids are merged (late events of calls ended there
   * stay ignored). Returns how many calls and sessions were adopted. An unreadable snapshot adopts
   * nothing.
   */
  adopt(snapshot: string, accept: (token: string) => boolean): number {
    return this.#load(snapshot, accept);
  }

  /**
   * Drops the in-flight calls and queue sessions of some tokens without ending them (another
   * runner follows those tokens now and adopted them). Returns how many were dropped.
   */
  forget(accept: (token: string) => boolean): number {
    let count = 0;
    for (const call of [...this.#active]) {
      if (!accept(call.token)) continue;
      this.#deactivate(call);
      this.#settlingCalls.delete(call);
      for (const leg of call.legs) this.#calls.delete(leg.callId);
      this.#calls.delete(call.id);
      count += 1;
    }
    for (const [uuid, session] of [...this.#sessions]) {
      if (!accept(session.token)) continue;
      this.#sessions.delete(uuid);
      this.#settlingSessions.delete(session);
      count += 1;
    }
    return count;
  }

  /** How much is in flight. */
  inFlight(): { calls: number; queueSessions: number } {
    return { calls: this.#active.size, queueSessions: this.#sessions.size };
  }

  /** The calls in flight, as they stand. */
  activeCalls(): Call[] {
    return [...this.#active].map((call) => this.#view(call));
  }

  /** The queue sessions in flight, as they stand. */
  activeQueueSessions(): QueueSession[] {
    return [...this.#sessions.values()].map((session) => this.#sessionView(session));
  }

  // -------------------------------------------------------------------------------------------
  // Line events

  #isOurs(phone: PhoneNumber): boolean {
    const key = numberKey(phone);
    return key !== '' && this.#lines.has(key);
  }

  #line(event: OvhLineEvent): CallEvent[] {
    if (event.name === 'registered' || event.callId === '') return [];
    const at = event.at.getTime();
    if (Number.isNaN(at)) return [];
    const lineKey = numberKey(event.line);
    if (lineKey && !this.#lines.has(lineKey)) {
      if (this.#lines.size >= this.#maxInFlight) {
        const oldest = this.#lines.values().next().value as string;
        this.#lines.delete(oldest);
        this.#onDropped?.('line', oldest);
      }
      this.#lines.add(lineKey);
    }
    if (this.#endedCalls.has(event.callId)) return [];
    const out: CallEvent[] = [];
    let call = this.#calls.get(event.callId);
    if (!call) {
      call = this.#group(event, at) ?? this.#open(event, at);
      this.#calls.set(event.callId, call);
    }
    let leg = call.legs.find((l) => numberKey(l.line) === lineKey && l.callId === event.callId);
    if (!leg) leg = call.legs.find((l) => numberKey(l.line) === lineKey);
    const isNewCall = call.legs.length === 0;
    if (!leg) {
      leg = { callId: event.callId, line: event.line, firstAt: at, holdStarts: [], holdEnds: [] };
      if (event.details.description !== undefined) leg.lineLabel = event.details.description;
      call.legs.push(leg);
    }
    leg.firstAt = Math.min(leg.firstAt, at);
    call.lastAt = Math.max(call.lastAt, at);
    call.lastSeen = this.#clock();
    // A settling call takes its late events in silence: its end was already seen.
    const live = call.settleAt === undefined;
    const wasAnswered = this.#isAnswered(call);
    const wasHeld = live && this.#isHeld(call);

    switch (event.name) {
      case 'start_ringing':
        if (leg.ringAt !== undefined && leg.ringAt <= at) return out;
        leg.ringAt = at;
        if (isNewCall) this.#announce(call, out);
        return out;
      case 'start_calling':
        if (leg.callingAt !== undefined && leg.callingAt <= at) return out;
        leg.callingAt = at;
        if (isNewCall) this.#announce(call, out);
        else if (live && !wasAnswered && call.origin === 'inbound') {
          out.push({ type: 'call.answered', call: this.#view(call) });
        }
        break;
      case 'start_hold':
      case 'end_hold': {
        const marks = event.name === 'start_hold' ? leg.holdStarts : leg.holdEnds;
        if (!marks.includes(at)) marks.push(at);
        if (isNewCall) this.#announce(call, out);
        const held = live && this.#isHeld(call);
        if (held && !wasHeld) out.push({ type: 'call.held', call: this.#view(call) });
        if (!held && wasHeld) out.push({ type: 'call.resumed', call: this.#view(call) });
        return out;
      }
      case 'end_ringing':
        if (leg.ringEndAt !== undefined && leg.ringEndAt <= at) return out;
        leg.ringEndAt = at;
        this.#setEndStatus(leg, 'ringEndStatus', event);
        break;
      case 'end_calling':
        if (leg.callEndAt !== undefined && leg.callEndAt <= at) return out;
        leg.callEndAt = at;
        this.#setEndStatus(leg, 'callEndStatus', event);
        break;
      default:
        return out;
    }
    if (live && this.#isOver(call)) this.#over(call, event, out);
    return out;
  }

  #setEndStatus(leg: Leg, field: 'ringEndStatus' | 'callEndStatus', event: OvhLineEvent): void {
    const status = sipStatusOf(event);
    if (status !== undefined) leg[field] = status;
    else delete leg[field];
  }

  /** The end of the call was seen: it settles (when a settle window is set) or is finished now. */
  #over(call: CallRecordState, event: OvhLineEvent, out: CallEvent[]): void {
    if (this.#settleMs === 0) {
      this.#finish(call, out);
      return;
    }
    call.settleAt = this.#clock() + this.#settleMs;
    if (event.poll !== undefined) call.settlePoll = event.poll;
    this.#settlingCalls.add(call);
  }

  /** Its settle window ended: finished when still over (a late answer can make it go on). */
  #settled(call: CallRecordState, out: CallEvent[]): void {
    this.#settlingCalls.delete(call);
    delete call.settleAt;
    delete call.settlePoll;
    if (this.#isOver(call)) this.#finish(call, out);
    else if (this.#isAnswered(call)) out.push({ type: 'call.answered', call: this.#view(call) });
  }

  /** Infers what the events left unknown, then ends the call. */
  #finish(call: CallRecordState, out: CallEvent[]): void {
    this.#settlingCalls.delete(call);
    delete call.settleAt;
    delete call.settlePoll;
    const addReason = (reason: string) => {
      if (!call.reasons.includes(reason)) call.reasons.push(reason);
    };
    if (call.legs.every((leg) => leg.ringAt === undefined && leg.callingAt === undefined)) {
      addReason(STRAY_END_REASON);
    } else if (call.origin === 'inbound') {
      for (const leg of call.legs) {
        if (this.#hungUpUnanswered(leg)) {
          leg.callingAt = leg.callEndAt;
          addReason('hang-up without an answer event: answer time unknown');
        }
      }
    }
    this.#endCall(call, out);
  }

  /**
   * An inbound leg that rang and ended with `end_calling` (no SIP failure) but has no answer
   * event: it was answered, at a time we do not know.
   */
  #hungUpUnanswered(leg: Leg): leg is Leg & { callEndAt: number } {
    if (leg.callingAt !== undefined || leg.ringAt === undefined || leg.callEndAt === undefined) return false;
    return leg.callEndStatus === undefined || leg.callEndStatus < 400;
  }

  /** Finds the in-flight call this new CallId is another leg of (hunting with separate CallIds). */
  #group(event: OvhLineEvent, at: number): CallRecordState | undefined {
    const remote = event.calling;
    const remoteKey = numberKey(remote);
    if (!remoteKey || !this.#isInbound(event)) return undefined;
    const scope = event.details.billingAccountId ?? event.token;
    const lineKey = numberKey(event.line);
    for (const call of this.#byRemote.get(remoteKey) ?? []) {
      if (call.ended || call.origin !== 'inbound' || call.scope !== scope) continue;
      if (Math.abs(at - this.#startOf(call)) > this.#huntingMs) continue;
      if (call.legs.some((leg) => numberKey(leg.line) === lineKey)) continue;
      return call;
    }
    return undefined;
  }

  #isInbound(event: OvhLineEvent): boolean {
    const line = numberKey(event.line);
    const called = numberKey(event.called);
    const calling = numberKey(event.calling);
    if (line && called === line && calling !== line) return true;
    if (line && calling === line && called !== line) return false;
    return event.name !== 'start_calling';
  }

  #open(event: OvhLineEvent, at: number): CallRecordState {
    const inbound = this.#isInbound(event);
    const remote = inbound
      ? event.calling
      : event.called.withheld && event.dialed
        ? event.dialed
        : event.called;
    const call: CallRecordState = {
      id: event.callId,
      token: event.token,
      scope: event.details.billingAccountId ?? event.token,
      origin: inbound ? 'inbound' : 'outbound',
      remote,
      legs: [],
      lastAt: at,
      lastSeen: this.#clock(),
      ended: false,
      reasons: [],
    };
    this.#activate(call);
    if (inbound) this.#linkCallToSession(call, at);
    return call;
  }

  #activate(call: CallRecordState): void {
    if (this.#active.size >= this.#maxInFlight) this.#dropOldestCall();
    this.#active.add(call);
    const key = call.origin === 'inbound' ? numberKey(call.remote) : '';
    if (!key) return;
    let set = this.#byRemote.get(key);
    if (!set) {
      set = new Set();
      this.#byRemote.set(key, set);
    }
    set.add(call);
  }

  /** Forgets the call in flight opened first (not one settling): bounded memory first. */
  #dropOldestCall(): void {
    let oldest: CallRecordState | undefined;
    for (const call of this.#active) {
      if (call.settleAt !== undefined) continue;
      oldest = call;
      break;
    }
    if (!oldest) return;
    this.#deactivate(oldest);
    for (const leg of oldest.legs) this.#calls.delete(leg.callId);
    this.#calls.delete(oldest.id);
    this.#onDropped?.('call', oldest.id);
  }

  #deactivate(call: CallRecordState): void {
    this.#active.delete(call);
    const key = numberKey(call.remote);
    const set = this.#byRemote.get(key);
    if (!set) return;
    set.delete(call);
    if (set.size === 0) this.#byRemote.delete(key);
  }

  #announce(call: CallRecordState, out: CallEvent[]): void {
    const view = this.#view(call);
    out.push({ type: view.state === 'answered' ? 'call.answered' : 'call.ringing', call: view });
  }

  #isAnswered(call: CallRecordState): boolean {
    return call.origin === 'inbound' && call.legs.some((leg) => leg.callingAt !== undefined);
  }

  /** On hold now: the answering leg (else any leg) holds and has not ended. */
  #isHeld(call: CallRecordState): boolean {
    const answerLeg = call.origin === 'inbound' ? this.#answerLeg(call) : undefined;
    for (const leg of answerLeg ? [answerLeg] : call.legs) {
      if (legEnd(leg) === undefined && holdOf(leg, undefined).open) return true;
    }
    return false;
  }

  /** Over when every leg ended, or when the leg that answered ended. */
  #isOver(call: CallRecordState): boolean {
    if (call.legs.every((leg) => legEnd(leg) !== undefined)) return true;
    return call.legs.some(
      (leg) =>
        leg.callEndAt !== undefined &&
        (leg.callingAt !== undefined || (call.origin === 'inbound' && this.#hungUpUnanswered(leg))),
    );
  }

  #startOf(call: CallRecordState): number {
    let start = Number.POSITIVE_INFINITY;
    for (const leg of call.legs) start = Math.min(start, leg.ringAt ?? leg.callingAt ?? leg.firstAt);
    return Number.isFinite(start) ? start : call.lastAt;
  }

  #endCall(call: CallRecordState, out: CallEvent[]): void {
    call.ended = true;
    const now = this.#clock();
    for (const leg of call.legs) {
      this.#calls.delete(leg.callId);
      this.#endedCalls.set(leg.callId, now);
    }
    this.#calls.delete(call.id);
    this.#endedCalls.set(call.id, now);
    capMap(this.#endedCalls, MAX_ENDED);
    this.#deactivate(call);
    if (call.memberUuid === undefined && call.origin === 'inbound')
      this.#linkCallToSession(call, call.lastAt);
    out.push({ type: 'call.ended', call: this.#view(call) });
  }

  /** The immutable view of a call. */
  #view(call: CallRecordState): Call {
    // legs by their own start (then line), not by the order their events arrived in
    const legs = [...call.legs].sort((a, b) => legStart(a) - legStart(b) || compareLines(a, b));
    const startedAt = this.#startOf(call);
    const answerLeg = call.origin === 'inbound' ? this.#answerLeg(call) : undefined;
    const mainLeg = answerLeg ?? legs[0];
    const endedAt = call.ended ? endOfCall(call, legs, answerLeg) : undefined;
    const { holdMs, held } = holdTotal(answerLeg ? [answerLeg] : legs, endedAt);
    const direction: CallDirection = this.#isOurs(call.remote) ? 'internal' : call.origin;
    const { state, outcome, answeredAt, ringSeconds, talkSeconds } =
      call.origin === 'inbound'
        ? inboundPhase(call.ended, held, legs, answerLeg, startedAt, endedAt)
        : outboundPhase(call.ended, held, legs, startedAt, endedAt);
    const line = mainLeg?.line ?? { raw: '', withheld: true };
    const reasons = call.reasons;
    const queue = this.#queueInfo(call);
    return {
      id: call.id,
      token: call.token,
      direction,
      state,
      ...(outcome ? { outcome } : {}),
      line,
      ...(mainLeg?.lineLabel !== undefined ? { lineLabel: mainLeg.lineLabel } : {}),
      remote: call.remote,
      linesRung: linesRungOf(call, legs),
      startedAt: new Date(startedAt),
      ...(answeredAt !== undefined ? { answeredAt: new Date(answeredAt) } : {}),
      ...(endedAt !== undefined ? { endedAt: new Date(endedAt) } : {}),
      ringSeconds,
      talkSeconds,
      // Hold happens within the conversation: never more than the talk time (lost events aside).
      holdSeconds: Math.min(Math.round(holdMs / 1000), talkSeconds),
      ...(queue ? { queue } : {}),
      inferred: reasons.length > 0,
      ...(reasons.length > 0 ? { inferredReason: reasons.join('; ') } : {}),
    };
  }

  #answerLeg(call: CallRecordState): Leg | undefined {
    let best: Leg | undefined;
    for (const leg of call.legs) {
      if (leg.callingAt === undefined) continue;
      if (!best || leg.callingAt < (best.callingAt ?? 0)) best = leg;
    }
    return best;
  }

  // -------------------------------------------------------------------------------------------
  // Queue events

  #queue(event: OvhQueueEvent): CallEvent[] {
    const uuid = event.memberUuid;
    if (event.name === 'members-count' || uuid === undefined || uuid === '') return [];
    if (this.#endedSessions.has(uuid)) return [];
    const at = event.at.getTime();
    if (Number.isNaN(at)) return [];
    const out: CallEvent[] = [];
    const existing = this.#sessions.get(uuid);
    const session = existing ?? this.#openSession(event, uuid, at);
    const live = session.settleAt === undefined;
    session.lastSeen = this.#clock();
    noteSessionEvent(session, event, at);
    if (!existing) {
      this.#linkSessionToCall(session);
      out.push({ type: 'queue.joined', session: this.#sessionView(session) });
    }
    this.#applyQueueEvent(session, event, at, live, out);
    return out;
  }

  /** A new queue session, first seen with `event`; the oldest session is dropped when at the limit. */
  #openSession(event: OvhQueueEvent, uuid: string, at: number): SessionState {
    const session: SessionState = {
      memberUuid: uuid,
      token: event.token,
      queue: event.queue,
      joinedAt: event.joinedAt?.getTime() ?? at,
      agents: [],
      lastSeen: this.#clock(),
      ended: false,
      reasons: [],
      joinSeen: false,
      firstEvent: { name: event.name, at },
    };
    if (this.#sessions.size >= this.#maxInFlight) {
      const [oldestUuid] = this.#sessions.keys();
      if (oldestUuid !== undefined) {
        const dropped = this.#sessions.get(oldestUuid);
        if (dropped) this.#settlingSessions.delete(dropped);
        this.#sessions.delete(oldestUuid);
        this.#onDropped?.('queue-session', oldestUuid);
      }
    }
    this.#sessions.set(uuid, session);
    return session;
  }

  /** What a queue event changes in its session, by event name; what it means goes to `out`. */
  #applyQueueEvent(
    session: SessionState,
    event: OvhQueueEvent,
    at: number,
    live: boolean,
    out: CallEvent[],
  ): void {
    switch (event.name) {
      case 'agent-offering': {
        session.offeredAt = Math.min(session.offeredAt ?? at, at);
        const agent = event.agent;
        if (agent && this.#offer(session, agent, at) && live) {
          out.push({ type: 'queue.offered', session: this.#sessionView(session), agent });
        }
        break;
      }
      case 'bridge-agent-start': {
        const answeredAt = event.agentAnsweredAt?.getTime() ?? at;
        // the earliest pick-up wins, whatever order the events came in
        if (session.bridgeStartSeen && session.answeredAt !== undefined && session.answeredAt <= answeredAt)
          break;
        const first = !session.bridgeStartSeen;
        session.bridgeStartSeen = true;
        if (event.agent) {
          this.#offer(session, event.agent, at);
          session.answeredBy = event.agent;
        }
        session.answeredAt = answeredAt;
        if (first && live) out.push({ type: 'queue.answered', session: this.#sessionView(session) });
        break;
      }
      case 'bridge-agent-end':
        session.bridgeEndSeen = true;
        session.bridgeEndAt = event.bridgeTerminatedAt?.getTime() ?? at;
        if (!session.bridgeStartSeen && event.agent) {
          session.answeredBy = event.agent;
          session.answeredAt = event.agentAnsweredAt?.getTime() ?? at;
        }
        break;
      case 'member-queue-end':
        session.leftAt = event.leftAt?.getTime() ?? at;
        if (event.cause !== undefined) session.cause = event.cause;
        if (event.cancelReason !== undefined) session.cancelReason = event.cancelReason;
        if (session.answeredBy === undefined && event.cause === 'Terminated' && event.agent) {
          session.answeredBy = event.agent;
          session.answeredAt = event.agentAnsweredAt?.getTime() ?? session.leftAt;
        }
        if (!live) break;
        if (this.#settleMs === 0) this.#finishSession(session, out);
        else {
          session.settleAt = this.#clock() + this.#settleMs;
          if (event.poll !== undefined) session.settlePoll = event.poll;
          this.#settlingSessions.add(session);
        }
        break;
      default:
        break;
    }
  }

  /** Records an offer to an agent (agents listed by offer time, then name). Returns whether it is new. */
  #offer(session: SessionState, agent: string, at: number): boolean {
    session.offers ??= {};
    const known = session.offers[agent];
    if (known !== undefined && known <= at) return false;
    session.offers[agent] = at;
    if (known === undefined) session.agents.push(agent);
    const offers = session.offers;
    session.agents.sort((a, b) => (offers[a] ?? 0) - (offers[b] ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
    return known === undefined;
  }

  #finishSession(session: SessionState, out: CallEvent[]): void {
    this.#settlingSessions.delete(session);
    delete session.settleAt;
    delete session.settlePoll;
    this.#endSession(session, out);
  }

  #endSession(session: SessionState, out: CallEvent[]): void {
    session.ended = true;
    this.#sessions.delete(session.memberUuid);
    this.#endedSessions.set(session.memberUuid, { at: this.#clock(), session });
    capMap(this.#endedSessions, MAX_ENDED);
    if (session.callId === undefined) this.#linkSessionToCall(session);
    out.push({ type: 'queue.left', session: this.#sessionView(session) });
  }

  /** Why a session is inferred: what its events left out, then what timeouts decided. */
  #sessionReasons(session: SessionState): string[] {
    const reasons: string[] = [];
    if (session.joinSeen === false) {
      reasons.push(`joined event missing (first seen: ${session.firstEvent?.name ?? 'unknown'})`);
    }
    if (session.bridgeEndSeen && !session.bridgeStartSeen && session.answeredBy !== undefined) {
      reasons.push('bridge-agent-start missing');
    }
    return [...reasons, ...session.reasons];
  }

  #outcomeOf(session: SessionState): QueueOutcome {
    if (session.cause === 'Terminated') return 'answered';
    if (session.cause === 'Cancel') {
      if (session.cancelReason === 'TIMEOUT') return 'timeout';
      if (session.cancelReason === 'NO_AGENT_TIMEOUT') return 'no-agent';
      return 'abandoned';
    }
    return session.answeredBy !== undefined ? 'answered' : 'abandoned';
  }

  #sessionView(session: SessionState): QueueSession {
    const ended = session.ended;
    const leftAt = ended
      ? (session.leftAt ?? session.bridgeEndAt ?? session.answeredAt ?? session.joinedAt)
      : undefined;
    const outcome = ended ? this.#outcomeOf(session) : undefined;
    const answeredAt = outcome === 'answered' || !ended ? session.answeredAt : undefined;
    const state: QueueSession['state'] = ended
      ? 'ended'
      : session.answeredAt !== undefined
        ? 'answered'
        : session.agents.length > 0
          ? 'offered'
          : 'waiting';
    const waitEnd = session.answeredAt ?? leftAt;
    const reasons = this.#sessionReasons(session);
    const talkEnd = session.bridgeEndAt ?? leftAt;
    return {
      memberUuid: session.memberUuid,
      token: session.token,
      queue: session.queue,
      ...(session.caller ? { caller: session.caller } : {}),
      ...(session.callerName !== undefined ? { callerName: session.callerName } : {}),
      state,
      ...(outcome ? { outcome } : {}),
      joinedAt: new Date(session.joinedAt),
      ...(answeredAt !== undefined ? { answeredAt: new Date(answeredAt) } : {}),
      ...(leftAt !== undefined ? { leftAt: new Date(leftAt) } : {}),
      agentsOffered: [...session.agents],
      ...(session.answeredBy !== undefined ? { answeredBy: session.answeredBy } : {}),
      waitSeconds: secondsBetween(session.joinedAt, waitEnd),
      talkSeconds: session.answeredAt !== undefined ? secondsBetween(session.answeredAt, talkEnd) : 0,
      ...(session.cause !== undefined ? { cause: session.cause } : {}),
      ...(session.cancelReason !== undefined ? { cancelReason: session.cancelReason } : {}),
      ...(session.callId !== undefined ? { callId: session.callId } : {}),
      inferred: reasons.length > 0,
      ...(reasons.length > 0 ? { inferredReason: reasons.join('; ') } : {}),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Linking calls and queue sessions

  /** Links a new inbound call to an in-flight queue session of the same caller. */
  #linkCallToSession(call: CallRecordState, at: number): void {
    const key = numberKey(call.remote);
    if (!key) return;
    let best: SessionState | undefined;
    for (const session of this.#sessions.values()) {
      if (session.callId !== undefined || numberKey(session.caller) !== key) continue;
      if (at < session.joinedAt - this.#huntingMs) continue;
      if (!best || session.joinedAt > best.joinedAt) best = session;
    }
    if (best) {
      best.callId = call.id;
      call.memberUuid = best.memberUuid;
    }
  }

  /** Links a queue session to an in-flight inbound call of the same caller. */
  #linkSessionToCall(session: SessionState): void {
    const key = numberKey(session.caller);
    if (!key) return;
    for (const call of this.#byRemote.get(key) ?? []) {
      if (call.ended || call.origin !== 'inbound' || call.memberUuid !== undefined) continue;
      call.memberUuid = session.memberUuid;
      session.callId = call.id;
      return;
    }
  }

  #queueInfo(call: CallRecordState): CallQueueInfo | undefined {
    const uuid = call.memberUuid;
    if (uuid === undefined) return undefined;
    const session = this.#sessions.get(uuid) ?? this.#endedSessions.get(uuid)?.session;
    if (!session) return undefined;
    const view = this.#sessionView(session);
    // The call may end before its queue session does (events applied by their own times): an
    // agent picked up, so for the call the queue outcome is already known.
    const outcome = view.outcome ?? (view.answeredBy !== undefined ? 'answered' : undefined);
    return {
      queue: view.queue,
      memberUuid: uuid,
      ...(view.answeredBy !== undefined ? { agent: view.answeredBy } : {}),
      waitSeconds: view.waitSeconds,
      ...(outcome ? { outcome } : {}),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Snapshot

  /** Loads a snapshot; with `accept`, only the calls and sessions of the tokens it accepts and not known here. */
  #load(snapshot: string, accept?: (token: string) => boolean): number {
    let data: unknown;
    try {
      data = JSON.parse(snapshot);
    } catch {
      return 0;
    }
    const version = (data as { v?: unknown } | null)?.v;
    if (typeof data !== 'object' || data === null || (version !== 1 && version !== 2)) return 0;
    const s = data as SnapshotV2;
    let count = 0;
    for (const line of Array.isArray(s.lines) ? s.lines : [])
      if (typeof line === 'string') this.#lines.add(line);
    for (const call of Array.isArray(s.calls) ? s.calls : []) {
      if (!call || typeof call.id !== 'string' || !Array.isArray(call.legs)) continue;
      if (accept !== undefined) {
        const known = [call.id, ...call.legs.map((leg) => leg.callId)].some(
          (id) => this.#calls.has(id) || this.#endedCalls.has(id),
        );
        if (!accept(call.token) || known) continue;
      }
      if (version === 1) call.legs = call.legs.map((leg) => legFromV1(leg as unknown as LegV1));
      this.#calls.set(call.id, call);
      for (const leg of call.legs) this.#calls.set(leg.callId, call);
      this.#activate(call);
      if (call.settleAt !== undefined) this.#settlingCalls.add(call);
      count += 1;
    }
    for (const session of Array.isArray(s.sessions) ? s.sessions : []) {
      if (!session || typeof session.memberUuid !== 'string') continue;
      if (accept !== undefined) {
        if (!accept(session.token) || this.#sessions.has(session.memberUuid)) continue;
        if (this.#endedSessions.has(session.memberUuid)) continue;
      }
      this.#sessions.set(session.memberUuid, session);
      if (session.settleAt !== undefined) this.#settlingSessions.add(session);
      count += 1;
    }
    for (const [id, at] of Array.isArray(s.endedCalls) ? s.endedCalls : []) this.#endedCalls.set(id, at);
    for (const [id, ended] of Array.isArray(s.endedSessions) ? s.endedSessions : []) {
      if (ended && typeof ended.at === 'number') this.#endedSessions.set(id, ended);
    }
    return count;
  }
}

/** What a queue event tells of its session whatever its name: join, first event, caller. */
function noteSessionEvent(session: SessionState, event: OvhQueueEvent, at: number): void {
  if (event.name === 'member-queue-start' || event.name === 'member-queue-resume') session.joinSeen = true;
  if (session.firstEvent !== undefined && at < session.firstEvent.at)
    session.firstEvent = { name: event.name, at };
  if (event.caller && !event.caller.withheld && !session.caller) session.caller = event.caller;
  if (event.callerName && !session.callerName) session.callerName = event.callerName;
  if (event.joinedAt) session.joinedAt = Math.min(session.joinedAt, event.joinedAt.getTime());
}

/** When an ended call ended: its answered leg's end, else the latest leg end, else its last event. */
function endOfCall(call: CallRecordState, legs: readonly Leg[], answerLeg: Leg | undefined): number {
  let endedAt = answerLeg === undefined ? undefined : legEnd(answerLeg);
  if (endedAt === undefined) {
    for (const leg of legs) {
      const end = legEnd(leg);
      if (end !== undefined) endedAt = Math.max(endedAt ?? 0, end);
    }
  }
  return endedAt ?? call.lastAt;
}

/** The hold time of the legs (a hold still open counts until the leg's or the call's end). */
function holdTotal(legs: readonly Leg[], endedAt: number | undefined): { holdMs: number; held: boolean } {
  let holdMs = 0;
  let held = false;
  for (const leg of legs) {
    const hold = holdOf(leg, legEnd(leg) ?? endedAt);
    holdMs += hold.ms;
    if (hold.open) held = true;
  }
  return { holdMs, held };
}

/** Where a call stands and how long it rang and talked. */
interface CallPhase {
  readonly state: CallState;
  readonly outcome: CallOutcome | undefined;
  readonly answeredAt: number | undefined;
  readonly ringSeconds: number;
  readonly talkSeconds: number;
}

/** The phase of an inbound call: answered when a leg was picked up, busy or missed otherwise. */
function inboundPhase(
  ended: boolean,
  held: boolean,
  legs: readonly Leg[],
  answerLeg: Leg | undefined,
  startedAt: number,
  endedAt: number | undefined,
): CallPhase {
  const answeredAt = answerLeg?.callingAt;
  const state: CallState = ended
    ? 'ended'
    : held
      ? 'held'
      : answeredAt !== undefined
        ? 'answered'
        : 'ringing';
  let outcome: CallOutcome | undefined;
  if (ended) {
    if (answeredAt !== undefined) outcome = 'answered';
    else if (
      legs.some((leg) => {
        const status = legEndStatus(leg);
        return status !== undefined && BUSY_STATUSES.has(status);
      })
    )
      outcome = 'busy';
    else outcome = 'missed';
  }
  const ringSeconds = secondsBetween(startedAt, answeredAt ?? endedAt);
  const talkSeconds = answeredAt !== undefined ? secondsBetween(answeredAt, endedAt) : 0;
  return { state, outcome, answeredAt, ringSeconds, talkSeconds };
}

/** The phase of an outbound call: from the SIP status of its first leg and how long it lasted. */
function outboundPhase(
  ended: boolean,
  held: boolean,
  legs: readonly Leg[],
  startedAt: number,
  endedAt: number | undefined,
): CallPhase {
  const leg = legs[0];
  const status = leg === undefined ? undefined : legEndStatus(leg);
  const failed = status !== undefined && status >= 400;
  const state: CallState = ended ? 'ended' : held ? 'held' : 'ringing';
  let outcome: CallOutcome | undefined;
  let answeredAt: number | undefined;
  if (ended) {
    if (failed) outcome = BUSY_STATUSES.has(status) || status === 603 ? 'busy' : 'cancelled';
    else if (endedAt !== undefined && endedAt > startedAt) outcome = 'answered';
    else outcome = 'cancelled';
    if (outcome === 'answered') answeredAt = startedAt;
  }
  const ringSeconds = answeredAt === undefined ? secondsBetween(startedAt, endedAt) : 0;
  const talkSeconds = answeredAt !== undefined ? secondsBetween(answeredAt, endedAt) : 0;
  return { state, outcome, answeredAt, ringSeconds, talkSeconds };
}

/** The lines a call rang, once each, in leg order (an outbound call's legs that never rang left out). */
function linesRungOf(call: CallRecordState, legs: readonly Leg[]): string[] {
  const linesRung: string[] = [];
  for (const leg of legs) {
    if (leg.ringAt === undefined && call.origin === 'outbound') continue;
    const key = leg.line.e164 ?? leg.line.raw;
    if (!linesRung.includes(key)) linesRung.push(key);
  }
  return linesRung;
}
