import type { ActivityRef, ContactMatch, CrmAdapter } from '../adapter/contract.js';
import type { AdapterError } from '../adapter/errors.js';
import type { CallTrackerOptions } from '../calls/call-tracker.js';
import type { Call, CallEvent, QueueSession } from '../calls/types.js';
import type { Logger } from '../logger.js';
import type { StoreInbox } from '../ovh/store-inbox.js';
import type { OvhEvent } from '../ovh/types.js';
import type { OutboxEntry, OutboxFilter, OutboxStatus, Store } from '../store/types.js';
import type { Sleep } from './timing.js';

/** What to do with calls and callers, per connector, token or adapter. */
export interface Policies {
  /**
   * A caller no CRM record matches: `log-only` logs the call without a record (default),
   * `create-contact` creates a contact first (when the adapter can), `skip` logs nothing.
   */
  readonly unknownCaller: 'log-only' | 'create-contact' | 'skip';
  /** Calls between two of our lines: `skip` (default) or `log`. */
  readonly internalCalls: 'skip' | 'log';
  /** Create a follow-up task for each missed inbound call (when the adapter can). Default false. */
  readonly missedCallFollowUp: boolean;
  /** Log queue sessions on their own (when the adapter can). Default true. */
  readonly queueSessions: boolean;
}

/** Delivery tuning, per connector or per adapter. */
export interface DeliveryOptions {
  /** Attempts before an entry becomes a dead letter (default 8). */
  readonly maxAttempts: number;
  /** Backoff base (default 1 000 ms): attempt n waits up to base · 2^n, full jitter. */
  readonly baseDelayMs: number;
  /** Backoff cap (default 5 minutes). */
  readonly maxDelayMs: number;
  /** Operations in flight at once per adapter (default 4). */
  readonly concurrency: number;
  /** Operations started per second per adapter (default 10; 0 = unlimited). */
  readonly ratePerSecond: number;
  /** Token bucket size (default = ratePerSecond). */
  readonly burst: number;
  /** Maximum calls per `logCalls` batch, for adapters with `batchLogCall` (default 20; 1 disables). */
  readonly batchSize: number;
  /** Time limit of one adapter operation before it counts as a transient failure (default 30 s). */
  readonly timeoutMs: number;
  /**
   * Longest wait a CRM's `Retry-After` imposes (default 5 minutes): past it, the adapter is probed
   * again. A daily-quota wait (`AdapterError.quota === 'daily'`) is kept whole.
   */
  readonly maxRetryAfterMs: number;
  /**
   * After an `auth` failure the adapter's deliveries pause (its entries stay pending, none becomes
   * a dead letter for it) and are tried again after this wait, doubling up to `maxDelayMs`
   * (default 30 s).
   */
  readonly authRetryMs: number;
}

/** One adapter of a route. */
export interface RouteAdapter {
  /** Unique name of this adapter instance in the connector (outbox, idempotency keys, kv namespace). */
  readonly name: string;
  readonly adapter: CrmAdapter;
  /**
   * Used for caller lookup (default true): screen pops try the route's lookup adapters in order, and
   * calls are attached to the adapter's own match. With `false` the adapter is never asked who
   * called; its calls are logged without a record and the unknown-caller policy does not apply.
   */
  readonly lookup?: boolean;
  /**
   * OVH line (any notation) or queue agent (`agent_0033…_id`, or the agent's number) → CRM user id,
   * handed to the adapter as `ownerId`.
   */
  readonly ownerMap?: Readonly<Record<string, string>>;
  readonly policies?: Partial<Policies>;
  readonly delivery?: Partial<DeliveryOptions>;
}

/** Where the calls of one event token go. */
export interface Route {
  /** Adapters in lookup order; every one of them gets the calls logged. */
  readonly adapters: readonly RouteAdapter[];
  /** Country for national numbers in `ownerMap` and `lineLabels` keys (default FR). */
  readonly defaultCountry?: string;
  /** Labels of our lines, by number (any notation). */
  readonly lineLabels?: Readonly<Record<string, string>>;
  readonly policies?: Partial<Policies>;
}

/** Options of {@link createConnector}. */
export interface ConnectorOptions {
  /** Normalised OVH events, e.g. from `createEventStream`. */
  readonly stream: AsyncIterable<OvhEvent>;
  /** Routes by event token; `'*'` is the route of tokens not listed. */
  readonly routes: Readonly<Record<string, Route>>;
  readonly store: Store;
  readonly policies?: Partial<Policies>;
  readonly delivery?: Partial<DeliveryOptions>;
  /**
   * Options of the CallTracker (its clock defaults to the connector's). Its settle window
   * (`settleMs`) defaults to {@link DEFAULT_SETTLE_MS} here: a call whose end was seen is logged
   * that much later, with the events that OVH delivered late folded in.
   */
  readonly tracker?: CallTrackerOptions;
  /** Epoch ms (default `Date.now`): outbox times, backoff, caches, orphan timeouts. */
  readonly clock?: () => number;
  /** Waits between retries (default: timers). Tests inject a fake that advances a fake clock. */
  readonly sleep?: Sleep;
  /** Random source of the jitter (default `Math.random`). */
  readonly random?: () => number;
  readonly logger?: Logger;
  /** Lookup results are reused this long (default 60 s): a ring and its end cost one lookup. */
  readonly lookupCacheTtlMs?: number;
  /** A lookup slower than this is abandoned and the next adapter tried (default 3 s). */
  readonly lookupTimeoutMs?: number;
  /**
   * Period (real time) at which idle delivery workers look at the outbox again (default 2 s; 0
   * disables it), so that entries another process made due (`cti-runner outbox retry`) are
   * delivered within seconds.
   */
  readonly outboxPollIntervalMs?: number;
  /**
   * Period (real time) of the housekeeping timer: orphan timeouts and tracker snapshots
   * (default 30 s; 0 disables it — call `tick()` yourself).
   */
  readonly housekeepingIntervalMs?: number;
  /** Store key of the tracker snapshot (default `tracker`). */
  readonly snapshotKey?: string;
  /**
   * The tracker is snapshotted this long (real time) after events changed it (default 1 s; 0: only
   * by the housekeeping timer and on stop). OVH does not send an event twice: what the tracker
   * learnt after its last snapshot is lost in a crash, unless the stream keeps what it received in
   * an {@link ConnectorOptions.inbox}.
   */
  readonly snapshotDelayMs?: number;
  /**
   * The inbox the stream keeps received events in (core's `createStoreInbox`, given to the stream
   * too): each tracker snapshot releases the answers whose events it includes, so that a crash
   * between an answer and the next snapshot loses nothing (they are handed out again on start).
   */
  readonly inbox?: Pick<StoreInbox, 'checkpoint'>;
  /**
   * Outbox entries kept in memory while the store refuses writes (a full disk), written in order
   * once it accepts them again (default 10 000; past it, the oldest are given up and logged).
   */
  readonly maxUnwrittenEntries?: number;
}

/** Emitted when a call starts ringing (or an outbound call starts): who is calling. */
export interface ScreenPop {
  readonly token: string;
  readonly call: Call;
  /** Matches of the adapter that found the caller, best first; empty for an unknown caller. */
  readonly matches: readonly ContactMatch[];
  /** Name of the adapter the matches come from, when any matched. */
  readonly adapter?: string;
  /** URL of the best match, to open in the CRM. */
  readonly url?: string;
  /** From the event's arrival in the connector to this pop. */
  readonly latencyMs: number;
}

/** An outbox entry delivered. */
export interface DeliveredEvent {
  readonly adapter: string;
  readonly entry: OutboxEntry;
  readonly result: ActivityRef | { readonly skipped: string };
}

/** A failed delivery attempt, to be tried again after `delayMs`. */
export interface DeliveryRetryEvent {
  readonly adapter: string;
  readonly entry: OutboxEntry;
  readonly error: AdapterError;
  readonly delayMs: number;
}

/** An outbox entry given up on. */
export interface DeadLetterEvent {
  readonly adapter: string;
  readonly entry: OutboxEntry;
  readonly error: AdapterError;
}

/** A failure the connector survived (lookup error, store error, listener error, …). */
export interface ConnectorErrorEvent {
  readonly error: unknown;
  readonly context: string;
  readonly adapter?: string;
}

/** An adapter's deliveries paused: its credentials were refused. */
export interface AdapterPausedEvent {
  readonly adapter: string;
  readonly error: AdapterError;
  /** When it will be tried again (epoch ms). */
  readonly until: number;
}

/** Events of a {@link Connector}. */
export interface ConnectorEvents {
  'screen-pop': ScreenPop;
  /**
   * Every state change the tracker reports, live (ringing, answered, held, resumed, ended, queue
   * joined/offered/answered/left), before the connector acts on it: for live views and webhooks.
   */
  'call-event': CallEvent;
  call: Call;
  'queue-session': QueueSession;
  delivered: DeliveredEvent;
  /** A delivery failed and will be retried (the entry stays pending). */
  'delivery-retry': DeliveryRetryEvent;
  'dead-letter': DeadLetterEvent;
  /** An adapter's deliveries paused on an auth failure (fix the credentials, or wait for the retry). */
  'adapter-paused': AdapterPausedEvent;
  error: ConnectorErrorEvent;
}

/** Counters of a connector, for health and metrics. */
export interface ConnectorStats {
  readonly events: number;
  readonly calls: number;
  readonly queueSessions: number;
  readonly screenPops: number;
  readonly lookups: number;
  readonly lookupCacheHits: number;
  readonly delivered: number;
  readonly retries: number;
  readonly deadLetters: number;
  /** Calls of which only the end was seen: not logged (see docs/healing.md). */
  readonly strayEnds: number;
  readonly inFlight: { readonly calls: number; readonly queueSessions: number };
  /** Outbox entries the store refused (disk full, read-only), kept in memory until it accepts them. */
  readonly unwritten: number;
  /** Entries given up because too many waited in memory ({@link ConnectorOptions.maxUnwrittenEntries}). */
  readonly unwrittenDropped: number;
}

/** The running pipeline: OVH events in, screen pops out, activities delivered to CRMs. */
export interface Connector {
  on<K extends keyof ConnectorEvents>(event: K, listener: (payload: ConnectorEvents[K]) => void): () => void;
  /** Restores the tracker, resumes pending deliveries and starts consuming the stream. */
  start(): Promise<void>;
  /** Stops consuming, lets deliveries in flight finish, saves the tracker snapshot. */
  stop(): Promise<void>;
  /**
   * Resolves once the stream has ended and no outbox entry is pending (all delivered or dead).
   * Never resolves while the stream goes on; throws when the connector was not started.
   */
  drain(): Promise<void>;
  /**
   * Logs an ended call that did not come from the stream (a call healed from OVH's call records)
   * exactly as a call from the stream: outbox entries per adapter, same idempotency.
   */
  ingest(call: Call): Promise<void>;
  /** The calls the tracker holds in flight now. */
  activeCalls(): Call[];
  /** Runs housekeeping now: orphan timeouts, then a tracker snapshot. */
  tick(): Promise<void>;
  /**
   * Several runners: takes over the in-flight calls of `tokens` from the tracker snapshot stored
   * under `snapshotKey` (saved by the runner that followed them), or from several, newest first (a
   * call found in an earlier one is not taken again from a later one). Returns how many were
   * adopted. This runner's snapshot is saved at once when any came; when that save fails, the
   * calls stay adopted and the promise rejects (keep the snapshots read: they are the only copy).
   */
  adopt(
    snapshotKey: string | readonly string[],
    tokens: readonly string[],
    options?: {
      /**
       * First saves these tokens' calls (adopted and already here) under this key: were this
       * runner to die before its own snapshot is saved, the next runner finds them there.
       */
      readonly carryTo?: string;
    },
  ): Promise<number>;
  /**
   * Several runners: stores the in-flight calls of each token under `snapshotKeyOf(token)` for the
   * runner taking it over, then forgets them here (`save: false` only forgets: the token was lost).
   */
  handOver(
    tokens: readonly string[],
    snapshotKeyOf: (token: string) => string,
    options?: { readonly save?: boolean },
  ): Promise<void>;
  readonly outbox: {
    listDeadLetters(filter?: Omit<OutboxFilter, 'status'>): Promise<OutboxEntry[]>;
    /** Dead letters matching the filter become pending again; returns how many. */
    replayDeadLetters(filter?: Omit<OutboxFilter, 'status'>): Promise<number>;
    counts(adapter?: string): Promise<Record<OutboxStatus, number>>;
  };
  stats(): ConnectorStats;
}
