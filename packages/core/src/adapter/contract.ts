import type { CallDirection, CallOutcome, QueueOutcome, QueueSession } from '../calls/types.js';
import type { Logger } from '../logger.js';
import type { PhoneNumber } from '../phone/index.js';
import type { AdapterError } from './errors.js';

/**
 * The CRM adapter contract, version 1.
 *
 * An adapter is a plain object (usually made by a factory such as `salesforce(options)`) that
 * finds callers and logs calls in one CRM. The pipeline calls it; it never calls the pipeline.
 * Every method may throw {@link AdapterError}; anything else thrown is treated as transient.
 *
 * Rules every adapter follows (checked by the conformance suite in `@cti-bridge/core/testing`):
 * - `findContacts` matches numbers whatever notation the CRM stored them in, and returns matches
 *   ranked best first, with ties visible (`ambiguous`);
 * - `logCall` is idempotent on `ctx.idempotencyKey`: the same key twice makes one activity;
 * - errors map to {@link AdapterErrorKind}s; secrets never appear in messages or logs.
 */
export interface CrmAdapter {
  /** Contract version this adapter implements. */
  readonly specificationVersion: 'v1';
  /** Short, stable name (`salesforce`, `hubspot`, `odoo`, `acme-crm`). Used in keys and logs. */
  readonly name: string;
  /** What the optional methods below can do. */
  readonly capabilities: AdapterCapabilities;

  /** Finds the records that carry this phone number, best first. Empty when nobody matches. */
  findContacts(query: FindContactsQuery, ctx: AdapterContext): Promise<ContactMatch[]>;

  /** Logs one ended call as an activity. Idempotent on `ctx.idempotencyKey`. */
  logCall(call: CallRecord, ctx: LogCallContext): Promise<ActivityRef>;

  /**
   * Logs several ended calls in as few requests as the CRM allows (capability `batchLogCall`).
   * Each item is idempotent on its own key. Returns one result per item, in order: a failure of
   * one item is reported in its slot, not thrown.
   */
  logCalls?(items: readonly LogCallItem[], ctx: AdapterContext): Promise<BatchItemResult[]>;

  /** Creates a contact for an unknown caller (capability `createContact`). Idempotent on the key. */
  createContact?(
    input: CreateContactInput,
    ctx: AdapterContext & { readonly idempotencyKey: string },
  ): Promise<ContactMatch>;

  /** Creates an open follow-up task for a missed call, due today (capability `followUpTask`). Idempotent. */
  createFollowUpTask?(call: CallRecord, ctx: LogCallContext): Promise<ActivityRef>;

  /** Logs a queue session on its own (capability `queueSessions`). Idempotent. */
  logQueueSession?(session: QueueSession, ctx: LogCallContext): Promise<ActivityRef>;

  /** Checks credentials and reachability without writing anything. */
  check?(ctx: CheckContext): Promise<HealthReport>;

  /** Releases connections and timers. */
  close?(): Promise<void>;
}

/** Optional features an adapter offers. */
export interface AdapterCapabilities {
  /** `createContact` is implemented. */
  readonly createContact: boolean;
  /** `createFollowUpTask` is implemented. */
  readonly followUpTask: boolean;
  /** `logQueueSession` is implemented. */
  readonly queueSessions: boolean;
  /** `logCalls` is implemented and cheaper than one `logCall` per call. */
  readonly batchLogCall: boolean;
}

/** What every adapter call receives from the pipeline. */
export interface AdapterContext {
  /** Logger scoped to this adapter. */
  readonly logger: Logger;
  /** Durable key-value state of this adapter instance (delivered keys, refreshed tokens, …). */
  readonly state: AdapterState;
  /** Aborted when the caller gave up (shutdown, timeout). Adapters pass it to every request. */
  readonly signal?: AbortSignal;
  /**
   * Why the pipeline calls: `screen-pop` lookups are interactive and go first (a person is
   * waiting for the ring); `delivery` work may wait behind them; `check` comes from the CLI.
   * Absent means `delivery`.
   */
  readonly purpose?: AdapterCallPurpose;
}

/** See {@link AdapterContext.purpose}. */
export type AdapterCallPurpose = 'screen-pop' | 'delivery' | 'check';

/** What `check` receives: the adapter context and what the configuration maps to this adapter. */
export interface CheckContext extends AdapterContext {
  /**
   * Every CRM user id the configuration's owner mapping hands this adapter (as `ownerId`), so that
   * `check` can say which one does not exist before a call needs it.
   */
  readonly ownerIds?: readonly string[];
}

/** Durable key-value storage for an adapter. Survives restarts when the store is durable. */
export interface AdapterState {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, options?: { readonly ttlMs?: number }): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Context of a write: the idempotency key, the record to attach to, the owner. */
export interface LogCallContext extends AdapterContext {
  /**
   * Stable key of this write: the same call delivered twice carries the same key. Adapters store
   * it (or the OVH call id) in the CRM record so that a retry finds the first write.
   */
  readonly idempotencyKey: string;
  /** The record the caller was matched to, when any. */
  readonly match?: ContactMatch | undefined;
  /** CRM user id that should own the activity (from the owner mapping), when known. */
  readonly ownerId?: string | undefined;
}

/** One item of {@link CrmAdapter.logCalls}. */
export interface LogCallItem {
  readonly call: CallRecord;
  readonly idempotencyKey: string;
  readonly match?: ContactMatch | undefined;
  readonly ownerId?: string | undefined;
}

/** Result of one item of a batch write. */
export type BatchItemResult =
  | { readonly ok: true; readonly ref: ActivityRef }
  | { readonly ok: false; readonly error: AdapterError };

/** Lookup query. */
export interface FindContactsQuery {
  /** The number to look for. Adapters match on `e164` and fall back to `raw`. */
  readonly phone: PhoneNumber;
  /** Maximum number of matches to return (default 10). */
  readonly limit?: number;
}

/** One CRM record that carries the looked-up number. */
export interface ContactMatch {
  /** CRM record type: `Contact`, `Lead`, `Account`, `contact`, `company`, `res.partner`, … */
  readonly recordType: string;
  /** CRM record id. */
  readonly id: string;
  /** Name to show in the screen pop. */
  readonly displayName: string;
  /** A person or an organisation. */
  readonly kind: 'person' | 'company';
  /** URL that opens the record in the CRM's UI. */
  readonly url: string;
  /** Company of a person, when known. */
  readonly companyName?: string;
  /** The record's owner in the CRM. */
  readonly owner?: { readonly id: string; readonly name?: string };
  /** The stored number that matched, as stored. */
  readonly matchedPhone: string;
  /** `exact`: same E.164 number; `suffix`: stored without country or trunk prefix. */
  readonly quality: 'exact' | 'suffix';
  /** Last activity on the record, used to rank otherwise equal matches. */
  readonly lastActivityAt?: Date;
  /** True when this match ranks equal to the best one: a person should pick. */
  readonly ambiguous: boolean;
}

/** A call as adapters log it: an ended call with everything resolved. */
export interface CallRecord {
  /** OVH CallId. */
  readonly callId: string;
  /** OVH event token the call came from. */
  readonly token: string;
  readonly direction: CallDirection;
  readonly outcome: CallOutcome;
  /** Our OVH line. */
  readonly line: PhoneNumber;
  /** Label of our line, when configured or sent by OVH. */
  readonly lineLabel?: string;
  /** The other party. */
  readonly remote: PhoneNumber;
  /** The other party's name, when the stream carried one (queue caller id name). */
  readonly remoteName?: string;
  readonly startedAt: Date;
  readonly answeredAt?: Date;
  readonly endedAt: Date;
  readonly ringSeconds: number;
  readonly talkSeconds: number;
  readonly holdSeconds: number;
  /** Queue the call went through, with the wait. */
  readonly queue?: {
    readonly queue: string;
    readonly waitSeconds: number;
    readonly agent?: string;
    readonly outcome?: QueueOutcome;
  };
  /** True when part of the call was inferred (orphan closed by timeout, …). */
  readonly inferred: boolean;
}

/** Input of {@link CrmAdapter.createContact}. */
export interface CreateContactInput {
  readonly phone: PhoneNumber;
  /** Name when the stream carried one; adapters fall back to the formatted number. */
  readonly name?: string | undefined;
  readonly ownerId?: string | undefined;
}

/** Reference to an activity written in the CRM. */
export interface ActivityRef {
  /** CRM id of the activity. */
  readonly id: string;
  /** URL to open it, when the CRM has one. */
  readonly url?: string;
  /** False when the activity already existed (an idempotent retry). */
  readonly created: boolean;
}

/** Result of {@link CrmAdapter.check}. */
export interface HealthReport {
  readonly ok: boolean;
  /** One line a person reads: what works, or what to fix. */
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}
