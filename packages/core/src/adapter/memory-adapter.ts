import type { QueueSession } from '../calls/types.js';
import type {
  ActivityRef,
  AdapterCapabilities,
  AdapterContext,
  BatchItemResult,
  CallRecord,
  ContactMatch,
  CreateContactInput,
  CrmAdapter,
  FindContactsQuery,
  HealthReport,
  LogCallContext,
  LogCallItem,
} from './contract.js';
import { type AdapterErrorKind, toAdapterError } from './errors.js';
import { callActivity, followUpTaskActivity, queueSessionActivity } from './memory-activities.js';
import { MemoryGate } from './memory-gate.js';
import { MemoryRecords } from './memory-records.js';
import { rankMatches } from './rank.js';

/** A contact held by {@link memoryAdapter}. */
export interface MemoryContact {
  readonly id: string;
  /** `Contact` for persons, `Company` for organisations. */
  readonly recordType: string;
  readonly kind: 'person' | 'company';
  readonly displayName: string;
  /** Numbers as stored, in any notation. */
  readonly phones: readonly string[];
  readonly companyName?: string;
  readonly owner?: { readonly id: string; readonly name?: string };
  readonly lastActivityAt?: Date;
}

/** Input to seed a contact into {@link memoryAdapter}. */
export interface MemoryContactInput {
  readonly name: string;
  /** One number or several, stored as given. */
  readonly phone: string | readonly string[];
  readonly kind?: 'person' | 'company';
  readonly companyName?: string;
  readonly owner?: { readonly id: string; readonly name?: string };
  readonly lastActivityAt?: Date;
  /** Record id; generated when absent. */
  readonly id?: string;
}

/** An activity written by {@link memoryAdapter}: a logged call, a follow-up task or a queue session. */
export interface MemoryActivity {
  readonly id: string;
  readonly type: 'call' | 'task' | 'queue-session';
  readonly idempotencyKey: string;
  /** OVH CallId (calls and tasks) or QueueMemberUUID (queue sessions). */
  readonly externalId: string;
  /** Contact the activity is attached to. */
  readonly contactId?: string;
  readonly ownerId?: string;
  readonly direction?: CallRecord['direction'];
  readonly outcome?: string;
  readonly durationSeconds?: number;
  /** One line, with the outcome in words (`Missed inbound call from …`). */
  readonly subject: string;
  readonly body: string;
  /** What was logged, as received. */
  readonly record: CallRecord | QueueSession;
}

/** Operation families, for faults and hooks. */
export type MemoryOperation = 'lookup' | 'write';

/** A scripted failure of {@link memoryAdapter}. */
export interface MemoryFault {
  readonly kind: AdapterErrorKind;
  /** Which operations fail (default `any`). */
  readonly on?: MemoryOperation | 'any';
  /** How many operations fail (default 1). */
  readonly times?: number;
  readonly retryAfterMs?: number;
  readonly status?: number;
  readonly message?: string;
}

/** Options of {@link memoryAdapter}. */
export interface MemoryAdapterOptions {
  /** Adapter name (default `memory`). Give each instance its own name when routing to several. */
  readonly name?: string;
  /** Base of record URLs (default `https://crm.memory.invalid`). */
  readonly baseUrl?: string;
  /** Capabilities to switch off (all on by default). */
  readonly capabilities?: Partial<AdapterCapabilities>;
  /** Contacts present from the start. */
  readonly contacts?: readonly MemoryContactInput[];
  /** Record type ranking (default `['Contact', 'Company']`). */
  readonly recordTypePriority?: readonly string[];
  /**
   * Called before every operation that would reach a CRM (lookups and writes). May wait (a slow
   * CRM) or throw (any scripted failure, e.g. a timeout); what it throws goes through
   * {@link toAdapterError}.
   */
  readonly beforeOperation?: (operation: MemoryOperation, detail: { readonly key?: string }) => unknown;
}

/** The reference adapter, with its data and fault controls exposed for tests and demos. */
export interface MemoryAdapter extends CrmAdapter {
  /** Contacts, in insertion order. */
  readonly contacts: readonly MemoryContact[];
  /** Activities written, in order. */
  readonly activities: readonly MemoryActivity[];
  /** Every operation that reached the "CRM", in order (withheld lookups do not). */
  readonly operations: readonly { readonly operation: MemoryOperation; readonly key?: string }[];
  /** Adds a contact as if created in the CRM's UI. */
  addContact(input: MemoryContactInput): MemoryContact;
  /** Activities of one OVH call id (or queue member uuid). */
  activitiesFor(externalId: string): MemoryActivity[];
  /** Scripts a failure of the next operation(s). */
  injectFault(fault: MemoryFault): void;
  /** Shorthand: the next `times` operations (any family) fail with this kind. */
  failNext(kind: AdapterErrorKind, times?: number, options?: Omit<MemoryFault, 'kind' | 'times'>): void;
  /** Removes scripted faults. */
  clearFaults(): void;
  /** Removes contacts, activities, operations and faults. */
  reset(): void;
}

/**
 * A reference {@link CrmAdapter} that keeps contacts and activities in memory. It honours the
 * whole contract (ranked lookups via {@link rankMatches}, idempotent writes, every capability),
 * passes the conformance suite, and is what the tests and the demo use when no real CRM is
 * wanted. Faults and latency can be scripted to exercise the pipeline.
 */
export function memoryAdapter(options: MemoryAdapterOptions = {}): MemoryAdapter {
  const name = options.name ?? 'memory';
  const capabilities: AdapterCapabilities = {
    createContact: true,
    followUpTask: true,
    queueSessions: true,
    batchLogCall: true,
    ...options.capabilities,
  };
  const recordTypePriority = options.recordTypePriority ?? ['Contact', 'Company'];
  const records = new MemoryRecords((options.baseUrl ?? 'https://crm.memory.invalid').replace(/\/+$/, ''));
  const gate = new MemoryGate(options.beforeOperation);
  for (const contact of options.contacts ?? []) records.addContact(contact);

  const logOne = (call: CallRecord, key: string, match?: ContactMatch, ownerId?: string): ActivityRef =>
    records.write('call', key, () => callActivity(call, match, ownerId));

  const adapter: MemoryAdapter = {
    specificationVersion: 'v1',
    name,
    capabilities,

    async findContacts(query: FindContactsQuery, _ctx: AdapterContext): Promise<ContactMatch[]> {
      if (query.phone.withheld) return [];
      await gate.reach('lookup');
      return rankMatches(records.candidatesFor(query.phone), query.phone, {
        recordTypePriority,
        limit: query.limit ?? 10,
      });
    },

    async logCall(call: CallRecord, ctx: LogCallContext): Promise<ActivityRef> {
      await gate.reach('write', ctx.idempotencyKey);
      return logOne(call, ctx.idempotencyKey, ctx.match, ctx.ownerId);
    },

    async logCalls(items: readonly LogCallItem[], _ctx: AdapterContext): Promise<BatchItemResult[]> {
      await gate.reach('write', items.map((item) => item.idempotencyKey).join(','));
      return items.map((item) => {
        try {
          return { ok: true, ref: logOne(item.call, item.idempotencyKey, item.match, item.ownerId) };
        } catch (error) {
          return { ok: false, error: toAdapterError(error) };
        }
      });
    },

    async createContact(
      input: CreateContactInput,
      ctx: AdapterContext & { readonly idempotencyKey: string },
    ): Promise<ContactMatch> {
      await gate.reach('write', ctx.idempotencyKey);
      return records.createContact(ctx.idempotencyKey, input);
    },

    async createFollowUpTask(call: CallRecord, ctx: LogCallContext): Promise<ActivityRef> {
      await gate.reach('write', ctx.idempotencyKey);
      return records.write('task', ctx.idempotencyKey, () => followUpTaskActivity(call, ctx));
    },

    async logQueueSession(session: QueueSession, ctx: LogCallContext): Promise<ActivityRef> {
      await gate.reach('write', ctx.idempotencyKey);
      return records.write('queue-session', ctx.idempotencyKey, () => queueSessionActivity(session, ctx));
    },

    async check(_ctx: AdapterContext): Promise<HealthReport> {
      return { ok: true, message: `memory CRM "${name}" ready (${records.contacts.length} contacts)` };
    },

    async close(): Promise<void> {},

    ...memoryControls(records, gate),
  };
  return adapter;
}

/** The data and the fault controls a {@link MemoryAdapter} exposes for tests and demos. */
type MemoryControls = Omit<MemoryAdapter, keyof CrmAdapter>;

/** The {@link MemoryControls} over the adapter's records and gate. */
function memoryControls(records: MemoryRecords, gate: MemoryGate): MemoryControls {
  return {
    contacts: records.contacts,
    activities: records.activities,
    operations: gate.operations,
    addContact: (input: MemoryContactInput): MemoryContact => records.addContact(input),
    activitiesFor(externalId) {
      return records.activities.filter((activity) => activity.externalId === externalId);
    },
    injectFault(fault) {
      gate.injectFault(fault);
    },
    failNext(kind, times = 1, more = {}) {
      gate.failNext(kind, times, more);
    },
    clearFaults() {
      gate.clearFaults();
    },
    reset() {
      records.reset();
      gate.reset();
    },
  };
}
