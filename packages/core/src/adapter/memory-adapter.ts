import type { QueueSession } from '../calls/types.js';
import { comparePhone, digitsOf, formatPhone } from '../phone/index.js';
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
import { AdapterError, type AdapterErrorKind, toAdapterError } from './errors.js';
import { type MatchCandidate, rankMatches } from './rank.js';

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

const FAULT_MESSAGES: Record<AdapterErrorKind, string> = {
  auth: 'memory CRM rejected the credentials: fix the adapter configuration',
  'rate-limit': 'memory CRM rate limit reached: slow down and retry later',
  transient: 'memory CRM is temporarily unavailable: retry later',
  invalid: 'memory CRM rejected the data as invalid: fix the record and replay',
  conflict: 'memory CRM reported a conflicting record',
  'not-found': 'memory CRM could not find the record',
};

/**
 * A reference {@link CrmAdapter} that keeps contacts and activities in memory. It honours the
 * whole contract (ranked lookups via {@link rankMatches}, idempotent writes, every capability),
 * passes the conformance suite, and is what the tests and the demo use when no real CRM is
 * wanted. Faults and latency can be scripted to exercise the pipeline.
 */
export function memoryAdapter(options: MemoryAdapterOptions = {}): MemoryAdapter {
  const name = options.name ?? 'memory';
  const baseUrl = (options.baseUrl ?? 'https://crm.memory.invalid').replace(/\/+$/, '');
  const capabilities: AdapterCapabilities = {
    createContact: true,
    followUpTask: true,
    queueSessions: true,
    batchLogCall: true,
    ...options.capabilities,
  };
  const recordTypePriority = options.recordTypePriority ?? ['Contact', 'Company'];
  const contacts: MemoryContact[] = [];
  const activities: MemoryActivity[] = [];
  const byKey = new Map<string, MemoryActivity>();
  const contactsByKey = new Map<string, MemoryContact>();
  const operations: { operation: MemoryOperation; key?: string }[] = [];
  let faults: Array<{ fault: MemoryFault; left: number }> = [];
  let nextId = 1;

  const contactUrl = (id: string) => `${baseUrl}/contacts/${encodeURIComponent(id)}`;
  const activityUrl = (id: string) => `${baseUrl}/activities/${encodeURIComponent(id)}`;

  const addContact = (input: MemoryContactInput): MemoryContact => {
    const kind = input.kind ?? 'person';
    const contact: MemoryContact = {
      id: input.id ?? `c${nextId++}`,
      recordType: kind === 'person' ? 'Contact' : 'Company',
      kind,
      displayName: input.name,
      phones: typeof input.phone === 'string' ? [input.phone] : [...input.phone],
      ...(input.companyName === undefined ? {} : { companyName: input.companyName }),
      ...(input.owner === undefined ? {} : { owner: input.owner }),
      ...(input.lastActivityAt === undefined ? {} : { lastActivityAt: input.lastActivityAt }),
    };
    contacts.push(contact);
    return contact;
  };
  for (const contact of options.contacts ?? []) addContact(contact);

  /** Runs the hook and the scripted faults of one operation that reaches the CRM. */
  const reach = async (operation: MemoryOperation, key?: string): Promise<void> => {
    operations.push(key === undefined ? { operation } : { operation, key });
    if (options.beforeOperation) {
      try {
        await options.beforeOperation(operation, key === undefined ? {} : { key });
      } catch (error) {
        throw toAdapterError(error, `memory CRM ${operation} failed`);
      }
    }
    const index = faults.findIndex(({ fault }) => (fault.on ?? 'any') === 'any' || fault.on === operation);
    const slot = faults[index];
    if (!slot) return;
    slot.left -= 1;
    if (slot.left <= 0) faults.splice(index, 1);
    const { fault } = slot;
    throw new AdapterError(fault.kind, fault.message ?? FAULT_MESSAGES[fault.kind], {
      ...(fault.retryAfterMs === undefined ? {} : { retryAfterMs: fault.retryAfterMs }),
      ...(fault.status === undefined ? {} : { status: fault.status }),
    });
  };

  const toMatch = (contact: MemoryContact, matchedPhone: string): ContactMatch => ({
    recordType: contact.recordType,
    id: contact.id,
    displayName: contact.displayName,
    kind: contact.kind,
    url: contactUrl(contact.id),
    matchedPhone,
    quality: 'exact',
    ambiguous: false,
    ...(contact.companyName === undefined ? {} : { companyName: contact.companyName }),
    ...(contact.owner === undefined ? {} : { owner: contact.owner }),
  });

  const refOf = (activity: MemoryActivity, created: boolean): ActivityRef => ({
    id: activity.id,
    url: activityUrl(activity.id),
    created,
  });

  const write = (
    type: MemoryActivity['type'],
    key: string,
    build: (id: string) => Omit<MemoryActivity, 'id' | 'type' | 'idempotencyKey'>,
  ): ActivityRef => {
    const existing = byKey.get(key);
    if (existing) return refOf(existing, false);
    const id = `a${nextId++}`;
    const activity: MemoryActivity = { id, type, idempotencyKey: key, ...build(id) };
    activities.push(activity);
    byKey.set(key, activity);
    return refOf(activity, true);
  };

  const logOne = (call: CallRecord, key: string, match?: ContactMatch, ownerId?: string): ActivityRef =>
    write('call', key, () => ({
      externalId: call.callId,
      ...(match ? { contactId: match.id } : {}),
      ...(ownerId === undefined ? {} : { ownerId }),
      direction: call.direction,
      outcome: call.outcome,
      durationSeconds: call.talkSeconds,
      subject: callSubject(call),
      body: callBody(call),
      record: call,
    }));

  const adapter: MemoryAdapter = {
    specificationVersion: 'v1',
    name,
    capabilities,
    contacts,
    activities,
    operations,

    async findContacts(query: FindContactsQuery, _ctx: AdapterContext): Promise<ContactMatch[]> {
      if (query.phone.withheld) return [];
      await reach('lookup');
      const candidates: MatchCandidate[] = [];
      // Any match (exact or suffix) shares the last six digits: a cheap filter before parsing.
      const tail = digitsOf(query.phone.e164 ?? query.phone.raw).slice(-6);
      for (const contact of contacts) {
        if (!contact.phones.some((stored) => digitsOf(stored).endsWith(tail))) continue;
        if (!contact.phones.some((stored) => comparePhone(stored, query.phone) !== undefined)) continue;
        candidates.push({
          recordType: contact.recordType,
          id: contact.id,
          displayName: contact.displayName,
          kind: contact.kind,
          url: contactUrl(contact.id),
          phones: contact.phones,
          ...(contact.companyName === undefined ? {} : { companyName: contact.companyName }),
          ...(contact.owner === undefined ? {} : { owner: contact.owner }),
          ...(contact.lastActivityAt === undefined ? {} : { lastActivityAt: contact.lastActivityAt }),
        });
      }
      return rankMatches(candidates, query.phone, {
        recordTypePriority,
        limit: query.limit ?? 10,
      });
    },

    async logCall(call: CallRecord, ctx: LogCallContext): Promise<ActivityRef> {
      await reach('write', ctx.idempotencyKey);
      return logOne(call, ctx.idempotencyKey, ctx.match, ctx.ownerId);
    },

    async logCalls(items: readonly LogCallItem[], _ctx: AdapterContext): Promise<BatchItemResult[]> {
      await reach('write', items.map((item) => item.idempotencyKey).join(','));
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
      await reach('write', ctx.idempotencyKey);
      const existing = contactsByKey.get(ctx.idempotencyKey);
      const contact =
        existing ??
        addContact({
          name: input.name ?? formatPhone(input.phone),
          phone: input.phone.e164 ?? input.phone.raw,
          ...(input.ownerId === undefined ? {} : { owner: { id: input.ownerId } }),
        });
      contactsByKey.set(ctx.idempotencyKey, contact);
      return toMatch(contact, contact.phones[0] ?? '');
    },

    async createFollowUpTask(call: CallRecord, ctx: LogCallContext): Promise<ActivityRef> {
      await reach('write', ctx.idempotencyKey);
      return write('task', ctx.idempotencyKey, () => ({
        externalId: call.callId,
        ...(ctx.match ? { contactId: ctx.match.id } : {}),
        ...(ctx.ownerId === undefined ? {} : { ownerId: ctx.ownerId }),
        direction: call.direction,
        outcome: call.outcome,
        subject: `Call back ${formatPhone(call.remote)} (missed call)`,
        body: callBody(call),
        record: call,
      }));
    },

    async logQueueSession(session: QueueSession, ctx: LogCallContext): Promise<ActivityRef> {
      await reach('write', ctx.idempotencyKey);
      return write('queue-session', ctx.idempotencyKey, () => ({
        externalId: session.memberUuid,
        ...(ctx.match ? { contactId: ctx.match.id } : {}),
        ...(ctx.ownerId === undefined ? {} : { ownerId: ctx.ownerId }),
        outcome: session.outcome ?? 'unknown',
        durationSeconds: session.talkSeconds,
        subject: `Queue ${session.queue}: ${session.outcome ?? 'unknown'} after ${session.waitSeconds} s`,
        body: `Caller ${session.caller ? formatPhone(session.caller) : 'unknown'}; agents offered: ${
          session.agentsOffered.join(', ') || 'none'
        }; answered by ${session.answeredBy ?? 'nobody'}.`,
        record: session,
      }));
    },

    async check(_ctx: AdapterContext): Promise<HealthReport> {
      return { ok: true, message: `memory CRM "${name}" ready (${contacts.length} contacts)` };
    },

    async close(): Promise<void> {},

    addContact,
    activitiesFor(externalId) {
      return activities.filter((activity) => activity.externalId === externalId);
    },
    injectFault(fault) {
      faults.push({ fault, left: fault.times ?? 1 });
    },
    failNext(kind, times = 1, more = {}) {
      faults.push({ fault: { ...more, kind, times }, left: times });
    },
    clearFaults() {
      faults = [];
    },
    reset() {
      contacts.length = 0;
      activities.length = 0;
      operations.length = 0;
      byKey.clear();
      contactsByKey.clear();
      faults = [];
    },
  };
  return adapter;
}

/** One line describing a call, its outcome in words. */
function callSubject(call: CallRecord): string {
  const who = formatPhone(call.remote);
  switch (call.outcome) {
    case 'missed':
      return `Missed ${call.direction} call from ${who}`;
    case 'busy':
      return `Busy: ${call.direction} call with ${who} not answered`;
    case 'cancelled':
      return `Cancelled ${call.direction} call to ${who} (not answered)`;
    default:
      return call.direction === 'outbound'
        ? `Outbound call to ${who}`
        : `${call.direction === 'internal' ? 'Internal' : 'Inbound'} call from ${who}`;
  }
}

function callBody(call: CallRecord): string {
  const parts = [
    `Line ${call.lineLabel ? `${call.lineLabel} ` : ''}${formatPhone(call.line)}`,
    `rang ${call.ringSeconds} s`,
    `talked ${call.talkSeconds} s`,
  ];
  if (call.holdSeconds > 0) parts.push(`on hold ${call.holdSeconds} s`);
  if (call.queue) parts.push(`queue ${call.queue.queue}, waited ${call.queue.waitSeconds} s`);
  if (call.inferred) parts.push('partly inferred');
  return `${parts.join(', ')}.`;
}
