import {
  type Call,
  type CallEvent,
  type ContactMatch,
  idempotencyKey,
  type PhoneNumber,
  type QueueSession,
  tokenTag,
} from '@cti-bridge/core';
import type { Labeller } from './labels.js';

/** A CRM record found for a caller, as the board shows it. Untrusted text: the page escapes it. */
export interface BoardMatch {
  /** Adapter (CRM) name from the config. */
  readonly crm: string;
  readonly name: string;
  readonly company?: string;
  readonly recordType: string;
  readonly url: string;
  /** Ranks equal to the best match: a person should pick. */
  readonly ambiguous: boolean;
}

/** Where the logging of an ended call stands in one CRM. */
export type LoggingStatus = 'pending' | 'logged' | 'skipped' | 'retrying' | 'dead';

/** One call on the board. No token, no CRM credential: only a short tag of the event token. */
export interface BoardCall {
  readonly id: string;
  /** 12 hex digits of the event token's SHA-256 (never the token). */
  readonly tokenTag: string;
  readonly direction: Call['direction'];
  readonly state: Call['state'];
  readonly outcome?: Call['outcome'];
  /** Our line (E.164 when known): the one that answered, else the first that rang. */
  readonly line: string;
  readonly lineLabel?: string;
  /** Every line it rang on (hunting shows as one call). */
  readonly linesRung: readonly string[];
  /** The other party (E.164 when known), or `withheld`. */
  readonly caller: string;
  /** The caller's name as the queue announced it, when any. */
  readonly callerName?: string;
  /** CRM records found for the caller, best first (empty: unknown caller or not looked up yet). */
  readonly matches: readonly BoardMatch[];
  /** True once the caller lookup has finished. */
  readonly lookedUp: boolean;
  readonly queue?: string;
  readonly queueLabel?: string;
  /** The queue agent who answered, when the call went through a queue. */
  readonly agent?: string;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly answeredAt?: number;
  readonly endedAt?: number;
  /** Logging status per CRM, once the call has ended. */
  readonly logging: Readonly<Record<string, LoggingStatus>>;
}

/** A caller in (or just out of) a queue. */
export interface BoardSession {
  readonly memberUuid: string;
  readonly tokenTag: string;
  readonly queue: string;
  readonly queueLabel?: string;
  readonly caller: string;
  readonly callerName?: string;
  readonly state: QueueSession['state'];
  readonly outcome?: QueueSession['outcome'];
  readonly joinedAt: number;
  readonly answeredAt?: number;
  readonly leftAt?: number;
  readonly answeredBy?: string;
  readonly agentsOffered: readonly string[];
  readonly callId?: string;
}

/** Today's counts of one queue. */
export interface BoardQueueCounts {
  readonly queue: string;
  readonly queueLabel?: string;
  /** Local day (`YYYY-MM-DD`) the counts are for. */
  readonly day: string;
  readonly answered: number;
  readonly abandoned: number;
}

/** Everything the board shows: what a new page gets first. */
export interface BoardSnapshot {
  readonly calls: readonly BoardCall[];
  readonly sessions: readonly BoardSession[];
  readonly queues: readonly BoardQueueCounts[];
  /** Epoch ms of the server's clock, for timers. */
  readonly now: number;
}

/** A change of the board: each carries the whole updated item (applying one twice is harmless). */
export type BoardChange =
  | { readonly type: 'call'; readonly call: BoardCall }
  | { readonly type: 'session'; readonly session: BoardSession }
  | { readonly type: 'queue'; readonly counts: BoardQueueCounts };

/** Options of {@link BoardModel}. */
export interface BoardModelOptions {
  /** Adapter names of each token's route, in lookup order (`*` for tokens not listed). */
  readonly routes: Readonly<Record<string, readonly string[]>>;
  /** Ended calls kept for "recent calls" (default 50). */
  readonly recentCalls?: number;
  /** Ended queue sessions kept (default 50). */
  readonly recentSessions?: number;
  /** Epoch ms (default `Date.now`). */
  readonly clock?: () => number;
  /** Local day of an epoch ms, for the daily counts (default: the process's local date). */
  readonly dayOf?: (epochMs: number) => string;
  /** Configured labels of our lines and queues (`tokens.<t>.lineLabels`); they win over OVH's. */
  readonly labels?: Labeller | undefined;
}

const numberOf = (phone: PhoneNumber): string => (phone.withheld ? 'withheld' : (phone.e164 ?? phone.raw));

function localDay(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function toMatch(crm: string, match: ContactMatch): BoardMatch {
  return {
    crm,
    name: match.displayName,
    ...(match.companyName !== undefined ? { company: match.companyName } : {}),
    recordType: match.recordType,
    url: match.url,
    ambiguous: match.ambiguous,
  };
}

/**
 * The board's state, kept from the connector's events: calls in flight and recent ones (with the
 * screen pop's matches and the logging status per CRM), queue callers and today's queue counts.
 * Every change is reported to `onChange` as the whole updated item. It holds no secret: tokens
 * appear only as {@link tokenTag}s.
 */
export class BoardModel {
  readonly #routes: Readonly<Record<string, readonly string[]>>;
  readonly #recentCalls: number;
  readonly #recentSessions: number;
  readonly #clock: () => number;
  readonly #dayOf: (epochMs: number) => string;
  readonly #labels: Labeller;
  readonly #calls = new Map<string, BoardCall>();
  readonly #sessions = new Map<string, BoardSession>();
  readonly #counts = new Map<string, BoardQueueCounts>();
  /** Outbox entry id → call id, for the logging status. */
  readonly #entries = new Map<string, { callId: string; crm: string }>();
  readonly #listeners = new Set<(change: BoardChange) => void>();

  constructor(options: BoardModelOptions) {
    this.#routes = options.routes;
    this.#recentCalls = options.recentCalls ?? 50;
    this.#recentSessions = options.recentSessions ?? 50;
    this.#clock = options.clock ?? Date.now;
    this.#dayOf = options.dayOf ?? localDay;
    this.#labels = options.labels ?? (() => undefined);
  }

  /** Calls `listener` with every change; returns the unsubscribe function. */
  onChange(listener: (change: BoardChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The whole board now. */
  snapshot(): BoardSnapshot {
    const today = this.#dayOf(this.#clock());
    return {
      calls: [...this.#calls.values()],
      sessions: [...this.#sessions.values()],
      queues: [...this.#counts.values()].filter((c) => c.day === today),
      now: this.#clock(),
    };
  }

  /** A call's current view, if the board has it. */
  call(id: string): BoardCall | undefined {
    return this.#calls.get(id);
  }

  /** A tracker change (connector `call-event`). */
  applyCallEvent(event: CallEvent): void {
    if ('call' in event) {
      this.#upsertCall(event.call);
      if (event.type === 'call.ended') this.#callEnded(event.call);
      return;
    }
    this.#upsertSession(event.session);
    if (event.type === 'queue.left') this.#sessionLeft(event.session);
  }

  /** A screen pop: the caller's matches (connector `screen-pop`). */
  applyScreenPop(pop: { call: Call; matches: readonly ContactMatch[]; adapter?: string }): void {
    const known = this.#calls.get(pop.call.id);
    const base = known ?? this.#viewOf(pop.call, undefined);
    const crm = pop.adapter ?? '';
    this.#putCall({ ...base, matches: pop.matches.map((m) => toMatch(crm, m)), lookedUp: true });
  }

  /** An outbox entry delivered (connector `delivered`). */
  applyDelivered(entryId: string, result: unknown): void {
    const skipped = typeof result === 'object' && result !== null && 'skipped' in result;
    this.#setLogging(entryId, skipped ? 'skipped' : 'logged');
  }

  /** A failed delivery attempt that will be retried. */
  applyRetry(entryId: string): void {
    this.#setLogging(entryId, 'retrying');
  }

  /** A dead letter. */
  applyDead(entryId: string): void {
    this.#setLogging(entryId, 'dead');
  }

  /** The board as JSON, to keep across restarts (see {@link BoardModel.restore}). */
  serialize(): string {
    return JSON.stringify({
      v: 1,
      calls: [...this.#calls.values()],
      sessions: [...this.#sessions.values()],
      counts: [...this.#counts.values()],
    });
  }

  /**
   * Restores a {@link BoardModel.serialize}d board. Calls and queue callers still in flight older
   * than `maxInFlightAgeMs` (default 12 h) are dropped: their end was never seen.
   */
  restore(json: string, maxInFlightAgeMs = 12 * 3_600_000): void {
    let parsed: { v?: number; calls?: BoardCall[]; sessions?: BoardSession[]; counts?: BoardQueueCounts[] };
    try {
      parsed = JSON.parse(json) as typeof parsed;
    } catch {
      return;
    }
    if (parsed.v !== 1) return;
    const oldest = this.#clock() - maxInFlightAgeMs;
    for (const call of parsed.calls ?? []) {
      if (call.state !== 'ended' && call.startedAt < oldest) continue;
      this.#calls.set(call.id, call);
      for (const crm of Object.keys(call.logging)) {
        this.#entries.set(this.#entryId(crm, call), { callId: call.id, crm });
      }
    }
    for (const session of parsed.sessions ?? []) {
      if (session.state !== 'ended' && session.joinedAt < oldest) continue;
      this.#sessions.set(session.memberUuid, session);
    }
    for (const counts of parsed.counts ?? []) this.#counts.set(counts.queue, counts);
  }

  #emit(change: BoardChange): void {
    for (const listener of this.#listeners) listener(change);
  }

  #entryId(crm: string, call: BoardCall): string {
    return `${crm}:${call.tokenTag}:${call.id}:log-call`;
  }

  #viewOf(call: Call, known: BoardCall | undefined): BoardCall {
    const callerName = known?.callerName;
    const lineLabel = this.#labels(call.token, call.line.e164 ?? call.line.raw) ?? call.lineLabel;
    const queueLabel = call.queue ? this.#labels(call.token, call.queue.queue) : undefined;
    return {
      id: call.id,
      tokenTag: tokenTag(call.token),
      direction: call.direction,
      state: call.state,
      ...(call.outcome !== undefined ? { outcome: call.outcome } : {}),
      line: numberOf(call.line),
      ...(lineLabel !== undefined ? { lineLabel } : {}),
      linesRung: [...call.linesRung],
      caller: numberOf(call.remote),
      ...(callerName !== undefined ? { callerName } : {}),
      matches: known?.matches ?? [],
      lookedUp: known?.lookedUp ?? false,
      ...(call.queue !== undefined ? { queue: call.queue.queue } : {}),
      ...(queueLabel !== undefined ? { queueLabel } : {}),
      ...(call.queue?.agent !== undefined ? { agent: call.queue.agent } : {}),
      startedAt: call.startedAt.getTime(),
      ...(call.answeredAt !== undefined ? { answeredAt: call.answeredAt.getTime() } : {}),
      ...(call.endedAt !== undefined ? { endedAt: call.endedAt.getTime() } : {}),
      logging: known?.logging ?? {},
    };
  }

  #upsertCall(call: Call): void {
    this.#putCall(this.#viewOf(call, this.#calls.get(call.id)));
  }

  #putCall(view: BoardCall): void {
    this.#calls.set(view.id, view);
    this.#emit({ type: 'call', call: view });
  }

  #callEnded(call: Call): void {
    const view = this.#calls.get(call.id);
    if (!view) return;
    // One outbox entry per adapter of the route. Internal calls are not followed here: by default
    // the connector does not log them (policy internalCalls: skip).
    const crms = this.#routes[call.token] ?? this.#routes['*'] ?? [];
    if (call.direction !== 'internal' && crms.length > 0) {
      const logging: Record<string, LoggingStatus> = { ...view.logging };
      for (const crm of crms) {
        logging[crm] ??= 'pending';
        this.#entries.set(idempotencyKey(crm, call.token, call.id, 'log-call'), { callId: call.id, crm });
      }
      this.#putCall({ ...view, logging });
    }
    this.#trimCalls();
  }

  #setLogging(entryId: string, status: LoggingStatus): void {
    const ref = this.#entries.get(entryId);
    if (!ref) return;
    const view = this.#calls.get(ref.callId);
    if (!view) {
      this.#entries.delete(entryId);
      return;
    }
    if (status !== 'retrying') this.#entries.delete(entryId);
    if (view.logging[ref.crm] === status) return;
    this.#putCall({ ...view, logging: { ...view.logging, [ref.crm]: status } });
  }

  #trimCalls(): void {
    const ended = [...this.#calls.values()].filter((c) => c.state === 'ended');
    if (ended.length <= this.#recentCalls) return;
    ended.sort((a, b) => (a.endedAt ?? a.startedAt) - (b.endedAt ?? b.startedAt));
    for (const call of ended.slice(0, ended.length - this.#recentCalls)) {
      this.#calls.delete(call.id);
      for (const crm of Object.keys(call.logging)) this.#entries.delete(this.#entryId(crm, call));
    }
  }

  #upsertSession(session: QueueSession): void {
    const queueLabel = this.#labels(session.token, session.queue);
    const view: BoardSession = {
      memberUuid: session.memberUuid,
      tokenTag: tokenTag(session.token),
      queue: session.queue,
      ...(queueLabel !== undefined ? { queueLabel } : {}),
      caller: session.caller ? numberOf(session.caller) : 'withheld',
      ...(session.callerName !== undefined ? { callerName: session.callerName } : {}),
      state: session.state,
      ...(session.outcome !== undefined ? { outcome: session.outcome } : {}),
      joinedAt: session.joinedAt.getTime(),
      ...(session.answeredAt !== undefined ? { answeredAt: session.answeredAt.getTime() } : {}),
      ...(session.leftAt !== undefined ? { leftAt: session.leftAt.getTime() } : {}),
      ...(session.answeredBy !== undefined ? { answeredBy: session.answeredBy } : {}),
      agentsOffered: [...session.agentsOffered],
      ...(session.callId !== undefined ? { callId: session.callId } : {}),
    };
    this.#sessions.set(view.memberUuid, view);
    this.#emit({ type: 'session', session: view });
    // The queue names the caller: the call it belongs to shows the name too.
    if (session.callId !== undefined && session.callerName !== undefined) {
      const call = this.#calls.get(session.callId);
      if (call && call.callerName !== session.callerName) {
        this.#putCall({ ...call, callerName: session.callerName });
      }
    }
  }

  #sessionLeft(session: QueueSession): void {
    const day = this.#dayOf((session.leftAt ?? session.joinedAt).getTime());
    const known = this.#counts.get(session.queue);
    const base =
      known && known.day === day ? known : { queue: session.queue, day, answered: 0, abandoned: 0 };
    const counts: BoardQueueCounts = {
      ...base,
      answered: base.answered + (session.outcome === 'answered' ? 1 : 0),
      abandoned: base.abandoned + (session.outcome === 'answered' ? 0 : 1),
    };
    this.#counts.set(session.queue, counts);
    this.#emit({ type: 'queue', counts });
    const ended = [...this.#sessions.values()].filter((s) => s.state === 'ended');
    if (ended.length > this.#recentSessions) {
      ended.sort((a, b) => (a.leftAt ?? a.joinedAt) - (b.leftAt ?? b.joinedAt));
      for (const s of ended.slice(0, ended.length - this.#recentSessions))
        this.#sessions.delete(s.memberUuid);
    }
  }
}
