import { createHash } from 'node:crypto';
import {
  type ActivityRef,
  type AdapterContext,
  AdapterError,
  type BatchItemResult,
  type CallRecord,
  type ContactMatch,
  type CreateContactInput,
  type CrmAdapter,
  type FindContactsQuery,
  formatPhone,
  type HealthReport,
  type LogCallContext,
  type LogCallItem,
  type MatchCandidate,
  type QueueSession,
  rankMatches,
  silentLogger,
} from '@cti-bridge/core';
import type { Connection } from 'jsforce';
import { z } from 'zod';
import { SalesforceSession } from './client.js';
import { collectionItemError } from './errors.js';
import {
  callDisposition,
  callType,
  dateIn,
  defaultDescription,
  defaultSubject,
  followUpSubject,
  queueDescription,
  queueSubject,
} from './format.js';
import {
  buildPhoneSearch,
  PHONE_FIELDS,
  phoneSearchPhrases,
  phoneSearchTerms,
  soqlString,
} from './lookup.js';
import { parseSalesforceOptions, type ResolvedSalesforceOptions, type SalesforceOptions } from './options.js';

const SF_ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;
/** Records per collection request (Salesforce's limit). */
const COLLECTION_LIMIT = 200;
/** Values per `IN (…)` of the idempotency query, to keep the URL short. */
const IN_CHUNK = 100;

const searchResponse = z.object({
  searchRecords: z.array(
    z.looseObject({
      attributes: z.looseObject({ type: z.string() }),
      Id: z.string(),
    }),
  ),
});

const queryResponse = z.object({
  totalSize: z.number(),
  records: z.array(z.looseObject({ Id: z.string() })),
});

const saveResult = z.looseObject({
  id: z.string().nullish(),
  success: z.boolean(),
  created: z.boolean().optional(),
  errors: z
    .array(
      z.looseObject({
        statusCode: z.string().optional(),
        errorCode: z.string().optional(),
        message: z.string().optional(),
        fields: z.array(z.string()).optional(),
      }),
    )
    .default([]),
});
type SaveResult = z.infer<typeof saveResult>;

type TaskKind = 'call' | 'follow-up';

/** The fields of one Task write, plus what identifies it. */
interface TaskWrite {
  readonly key: string;
  readonly callId: string;
  /** When the call ended: a Task for it cannot have been created before. */
  readonly endedAt: Date;
  readonly kind: TaskKind;
  readonly fields: Record<string, unknown>;
}

/** A write with its place in the batch. */
interface IndexedWrite {
  readonly write: TaskWrite;
  readonly index: number;
}

/** One result slot per write of a batch, filled as the strategies answer. */
type TaskResults = Array<BatchItemResult | undefined>;

/** Margin before a call's end when looking for its Task by CreatedDate (clock skew, time zones). */
const CREATED_DATE_MARGIN_MS = 24 * 3_600_000;

/** A SOQL datetime literal (unquoted, UTC, whole seconds). */
function soqlDateTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

function str(record: Record<string, unknown>, field: string): string | undefined {
  const value = record[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function nested(record: Record<string, unknown>, relationship: string, field: string): string | undefined {
  const value = record[relationship];
  return value && typeof value === 'object' ? str(value as Record<string, unknown>, field) : undefined;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The value stored in the External ID field (a text field of at most 255): the key, or its SHA-256 when longer. */
function externalIdValue(key: string): string {
  return key.length <= 255 ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/** Lightning base URL derived from the instance URL (`acme.my.salesforce.com` → `acme.lightning.force.com`). */
export function lightningBase(instanceUrl: string): string {
  const url = new URL(instanceUrl);
  const host = url.hostname.replace(/\.my\.salesforce\.com$/i, '.lightning.force.com');
  return `${url.protocol}//${host}${url.port ? `:${url.port}` : ''}`;
}

/**
 * Creates a Salesforce {@link CrmAdapter} on jsforce 3.10.16: caller lookup with SOSL over phone
 * fields (escaped, post-filtered on digits, ranked), calls logged as Tasks (`TaskSubtype = 'Call'`,
 * CallType, CallDurationInSeconds, CallDisposition, CallObject = OVH call id) idempotently,
 * missed-call follow-up Tasks, Leads for unknown callers and batched writes through sObject
 * collections. Options are validated here; a bad key throws an Error naming it.
 *
 * ```ts
 * salesforce({ auth: { type: 'jwt', clientId, username, privateKey }, task: { externalIdField: 'Call_Id__c' } })
 * ```
 */
export function salesforce(options: SalesforceOptions): CrmAdapter {
  const config = parseSalesforceOptions(options);
  return new SalesforceAdapter(config);
}

class SalesforceAdapter implements CrmAdapter {
  readonly specificationVersion = 'v1' as const;
  readonly name: string;
  readonly capabilities = {
    createContact: true,
    followUpTask: true,
    queueSessions: true,
    batchLogCall: true,
  } as const;
  private readonly session: SalesforceSession;
  /** Writes in flight by key: a concurrent duplicate waits for the first instead of racing it. */
  private readonly inflight = new Map<string, Promise<ActivityRef>>();

  constructor(private readonly config: ResolvedSalesforceOptions) {
    this.name = config.name;
    this.session = new SalesforceSession(config, silentLogger);
  }

  private recordUrl(type: string, id: string): string {
    const base =
      this.config.lightningBaseUrl ??
      lightningBase(this.session.instanceUrl() ?? 'https://login.salesforce.com');
    return `${base}/lightning/r/${type}/${id}/view`;
  }

  async findContacts(query: FindContactsQuery, ctx: AdapterContext): Promise<ContactMatch[]> {
    const terms = phoneSearchTerms(query.phone);
    if (terms.length === 0) return [];
    const { objects, perObjectLimit } = this.config.lookup;
    const sosl = buildPhoneSearch(terms, objects, perObjectLimit, phoneSearchPhrases(query.phone));
    const body = await this.session.run(ctx, 'caller lookup', (conn) =>
      conn.request(
        { method: 'GET', url: `/search?q=${encodeURIComponent(sosl)}` },
        { retry: { maxRetries: 0 } },
      ),
    );
    const parsed = searchResponse.safeParse(body);
    if (!parsed.success) {
      throw new AdapterError(
        'transient',
        'Salesforce caller lookup returned an unexpected answer (no searchRecords).',
      );
    }
    const candidates: MatchCandidate[] = [];
    for (const record of parsed.data.searchRecords) {
      const type = record.attributes.type as 'Contact' | 'Lead' | 'Account';
      const phoneFields = PHONE_FIELDS[type];
      if (!phoneFields) continue;
      const ownerId = str(record, 'OwnerId');
      const ownerName = nested(record, 'Owner', 'Name');
      const company =
        type === 'Contact'
          ? nested(record, 'Account', 'Name')
          : type === 'Lead'
            ? str(record, 'Company')
            : undefined;
      const lastActivity = str(record, 'LastActivityDate');
      candidates.push({
        recordType: type,
        id: record.Id,
        displayName: str(record, 'Name') ?? record.Id,
        kind: type === 'Account' ? 'company' : 'person',
        url: this.recordUrl(type, record.Id),
        ...(company ? { companyName: company } : {}),
        ...(ownerId ? { owner: { id: ownerId, ...(ownerName ? { name: ownerName } : {}) } } : {}),
        ...(lastActivity ? { lastActivityAt: new Date(`${lastActivity}T00:00:00Z`) } : {}),
        phones: phoneFields.map((field) => str(record, field)),
      });
    }
    return rankMatches(candidates, query.phone, {
      recordTypePriority: objects,
      rankFirstBy: 'recordType',
      limit: query.limit ?? 10,
    });
  }

  private relationFields(match: ContactMatch | undefined, ctx: AdapterContext): Record<string, string> {
    if (!match || !SF_ID.test(match.id)) return {};
    if (match.recordType === 'Contact' || match.recordType === 'Lead') return { WhoId: match.id };
    if (match.recordType === 'Account') return { WhatId: match.id };
    ctx.logger.debug({ recordType: match.recordType }, 'match type not linkable to a Task');
    return {};
  }

  private ownerField(ownerId: string | undefined, ctx: AdapterContext): Record<string, string> {
    if (!ownerId) return {};
    if (SF_ID.test(ownerId) && ownerId.startsWith('005')) return { OwnerId: ownerId };
    ctx.logger.warn(
      { ownerId },
      'owner mapping is not a Salesforce User id (005…): Task left to the API user',
    );
    return {};
  }

  private callTask(
    call: CallRecord,
    key: string,
    match: ContactMatch | undefined,
    ownerId: string | undefined,
    ctx: AdapterContext,
  ): TaskWrite {
    const { task } = this.config;
    return {
      key,
      callId: call.callId,
      endedAt: call.endedAt,
      kind: 'call',
      fields: {
        Subject: (task.subject ?? defaultSubject)(call, match).slice(0, 255),
        Description: (task.description
          ? task.description(call, match)
          : defaultDescription(call, match, task.timeZone)
        ).slice(0, 32000),
        TaskSubtype: 'Call',
        CallType: callType(call),
        CallDurationInSeconds: Math.max(0, Math.round(call.talkSeconds)),
        CallDisposition: callDisposition(call),
        CallObject: call.callId.slice(0, 255),
        Status: task.completedStatus,
        Priority: 'Normal',
        ActivityDate: dateIn(call.startedAt, task.timeZone),
        ...this.relationFields(match, ctx),
        ...this.ownerField(ownerId, ctx),
      },
    };
  }

  private ref(id: string, created: boolean): ActivityRef {
    return { id, created, url: this.recordUrl('Task', id) };
  }

  /** Finds Tasks already written for these writes (query mode): key → Task id. */
  private async existingTasks(conn: Connection, writes: readonly TaskWrite[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const subtypes = new Set(writes.map((w) => (w.kind === 'call' ? 'Call' : 'Task')));
    for (const subtype of subtypes) {
      const ofType = writes.filter((w) => (w.kind === 'call' ? 'Call' : 'Task') === subtype);
      for (const part of chunks([...new Set(ofType.map((w) => w.callId.slice(0, 255)))], IN_CHUNK)) {
        // CallObject is not indexed, CreatedDate is: the bound keeps the query selective on a large
        // Task table. A Task is created after its call ended (a day of margin for clock skew).
        const since = Math.min(...ofType.map((w) => w.endedAt.getTime())) - CREATED_DATE_MARGIN_MS;
        const soql =
          `SELECT Id, CallObject FROM Task WHERE CreatedDate >= ${soqlDateTime(new Date(since))} AND ` +
          `TaskSubtype = ${soqlString(subtype)} AND ` +
          `CallObject IN (${part.map(soqlString).join(', ')}) ORDER BY CreatedDate ASC LIMIT ${part.length * 5}`;
        const body = await conn.request(
          { method: 'GET', url: `/query?q=${encodeURIComponent(soql)}` },
          { retry: { maxRetries: 0 } },
        );
        const parsed = queryResponse.safeParse(body);
        if (!parsed.success)
          throw new AdapterError('transient', 'Salesforce query returned an unexpected answer.');
        for (const record of parsed.data.records) {
          const callObject = str(record, 'CallObject');
          if (!callObject) continue;
          for (const w of ofType) {
            if (w.callId.slice(0, 255) === callObject && !found.has(w.key)) found.set(w.key, record.Id);
          }
        }
      }
    }
    return found;
  }

  /** Writes Tasks idempotently, as few requests as possible; one result per write, in order. */
  private async writeTasks(
    writes: readonly TaskWrite[],
    ctx: AdapterContext,
    what: string,
  ): Promise<BatchItemResult[]> {
    const results: TaskResults = new Array<BatchItemResult | undefined>(writes.length);
    // the same key twice in one batch is written once: the later ones get the first one's result
    const firstIndex = new Map<string, number>();
    const unique: IndexedWrite[] = [];
    writes.forEach((write, index) => {
      if (!firstIndex.has(write.key)) {
        firstIndex.set(write.key, index);
        unique.push({ write, index });
      }
    });
    const extField = this.config.task.externalIdField;
    for (const part of chunks(unique, COLLECTION_LIMIT)) {
      try {
        if (extField) await this.upsertTasks(part, extField, results, ctx, what);
        else await this.createTasksNotFound(part, results, ctx, what);
      } catch (error) {
        const mapped = error instanceof AdapterError ? error : new AdapterError('transient', String(error));
        for (const { index } of part) if (!results[index]) results[index] = { ok: false, error: mapped };
      }
    }
    return writes.map((write, index) => {
      const own = results[index];
      if (own) return own;
      const first = results[firstIndex.get(write.key) ?? -1];
      if (first?.ok) return { ok: true, ref: { ...first.ref, created: false } };
      return (
        first ?? {
          ok: false,
          error: new AdapterError('transient', `Salesforce ${what}: no result for this item.`),
        }
      );
    });
  }

  /** Records one save result (success with an id, else its errors) as the write's result. */
  private recordSave(
    results: TaskResults,
    index: number,
    result: SaveResult | undefined,
    created: boolean,
    what: string,
  ): void {
    results[index] =
      result?.success && result.id
        ? { ok: true, ref: this.ref(result.id, result.created ?? created) }
        : { ok: false, error: collectionItemError(result?.errors ?? [], what) };
  }

  /**
   * Strategy 1, with an External ID field: one upsert per Task keyed by the idempotency key (the
   * one-record form for one write, the collection form for several), then a read-back of the Tasks
   * an upsert did not give an id for.
   */
  private async upsertTasks(
    part: readonly IndexedWrite[],
    extField: string,
    results: TaskResults,
    ctx: AdapterContext,
    what: string,
  ): Promise<void> {
    const records = part.map(({ write }) => ({ ...write.fields, [extField]: externalIdValue(write.key) }));
    const answer = await this.session.run(ctx, what, async (conn) => {
      if (records.length === 1) {
        const only = records[0] as Record<string, unknown>;
        try {
          return [
            await conn.request(
              {
                method: 'PATCH',
                url: `/sobjects/Task/${extField}/${encodeURIComponent(externalIdValue(part[0]?.write.key ?? ''))}`,
                body: JSON.stringify(
                  Object.fromEntries(Object.entries(only).filter(([k]) => k !== extField)),
                ),
                headers: { 'content-type': 'application/json' },
              },
              { noContentResponse: { success: true, errors: [] } },
            ),
          ];
        } catch (error) {
          // the one-record form throws where the collection form reports per record
          const refusal = createOnlyRefusal(error);
          if (refusal) return [refusal];
          throw error;
        }
      }
      return conn.request({
        method: 'PATCH',
        url: `/composite/sobjects/Task/${extField}`,
        body: JSON.stringify({
          allOrNone: false,
          records: records.map((r) => ({ attributes: { type: 'Task' }, ...r })),
        }),
        headers: { 'content-type': 'application/json' },
      });
    });
    const list = z.array(saveResult).safeParse(answer);
    if (!list.success)
      throw new AdapterError('transient', `Salesforce ${what} returned an unexpected answer.`);
    // Read back: an update answered 204 without an id (older API versions), and an update refused
    // because it carries create-only fields (TaskSubtype is not updateable): the Task with this
    // External ID exists, so the call was logged by an earlier attempt.
    const missingId: Array<IndexedWrite & { refused?: SaveResult }> = [];
    part.forEach(({ write, index }, i) => {
      const result = list.data[i];
      if (result?.success && !result.id) missingId.push({ write, index });
      else if (result && !result.success && isCreateOnlyRefusal(result))
        missingId.push({ write, index, refused: result });
      else this.recordSave(results, index, result, true, what);
    });
    if (missingId.length === 0) return;
    const found = await this.session.run(ctx, what, async (conn) => {
      const soql = `SELECT Id, ${extField} FROM Task WHERE ${extField} IN (${missingId.map(({ write }) => soqlString(externalIdValue(write.key))).join(', ')})`;
      return queryResponse.parse(
        await conn.request(
          { method: 'GET', url: `/query?q=${encodeURIComponent(soql)}` },
          { retry: { maxRetries: 0 } },
        ),
      );
    });
    for (const { write, index, refused } of missingId) {
      const record = found.records.find((r) => r[extField] === externalIdValue(write.key));
      if (record) results[index] = { ok: true, ref: this.ref(record.Id, false) };
      else if (refused) this.recordSave(results, index, refused, false, what);
      else
        results[index] = {
          ok: false,
          error: new AdapterError('transient', `Salesforce ${what}: upsert answered without an id.`),
        };
    }
  }

  /**
   * Strategy 2, without an External ID field: the Tasks already written for these keys are looked
   * up first (by call id and subtype), and only the others are created.
   */
  private async createTasksNotFound(
    part: readonly IndexedWrite[],
    results: TaskResults,
    ctx: AdapterContext,
    what: string,
  ): Promise<void> {
    await this.session.run(ctx, what, async (conn) => {
      const existing = await this.existingTasks(
        conn,
        part.map(({ write }) => write),
      );
      const toCreate = part.filter(({ write, index }) => {
        const id = existing.get(write.key);
        if (id) results[index] = { ok: true, ref: this.ref(id, false) };
        return !id;
      });
      if (toCreate.length === 0) return;
      if (toCreate.length === 1) {
        const only = toCreate[0] as IndexedWrite;
        const created = saveResult.parse(await conn.sobject('Task').create(only.write.fields));
        this.recordSave(results, only.index, created, true, what);
        return;
      }
      const answer = await conn.request({
        method: 'POST',
        url: '/composite/sobjects',
        body: JSON.stringify({
          allOrNone: false,
          records: toCreate.map(({ write }) => ({ attributes: { type: 'Task' }, ...write.fields })),
        }),
        headers: { 'content-type': 'application/json' },
      });
      const list = z.array(saveResult).parse(answer);
      toCreate.forEach(({ index }, i) => {
        this.recordSave(results, index, list[i], true, what);
      });
    });
  }

  private async writeOne(write: TaskWrite, ctx: AdapterContext, what: string): Promise<ActivityRef> {
    const running = this.inflight.get(write.key);
    if (running) {
      const ref = await running;
      return { ...ref, created: false };
    }
    const promise = this.writeOneNow(write, ctx, what);
    this.inflight.set(write.key, promise);
    try {
      return await promise;
    } finally {
      this.inflight.delete(write.key);
    }
  }

  private async writeOneNow(write: TaskWrite, ctx: AdapterContext, what: string): Promise<ActivityRef> {
    const [result] = await this.writeTasks([write], ctx, what);
    if (!result) throw new AdapterError('transient', `Salesforce ${what}: no result.`);
    if (!result.ok) throw result.error;
    ctx.logger.debug({ taskId: result.ref.id, created: result.ref.created }, `Salesforce ${what} done`);
    return result.ref;
  }

  logCall(call: CallRecord, ctx: LogCallContext): Promise<ActivityRef> {
    return this.writeOne(
      this.callTask(call, ctx.idempotencyKey, ctx.match, ctx.ownerId, ctx),
      ctx,
      'call logging',
    );
  }

  logCalls(items: readonly LogCallItem[], ctx: AdapterContext): Promise<BatchItemResult[]> {
    if (items.length === 0) return Promise.resolve([]);
    return this.writeTasks(
      items.map((item) => this.callTask(item.call, item.idempotencyKey, item.match, item.ownerId, ctx)),
      ctx,
      'call logging',
    );
  }

  logQueueSession(session: QueueSession, ctx: LogCallContext): Promise<ActivityRef> {
    const { task } = this.config;
    const dispositions = {
      answered: 'Answered',
      abandoned: 'Abandoned',
      timeout: 'Queue timeout',
      'no-agent': 'No agent',
    };
    const write: TaskWrite = {
      key: ctx.idempotencyKey,
      // Distinct from the call's own Task (whose CallObject is the OVH call id).
      callId: `queue:${session.memberUuid}`,
      endedAt: session.leftAt ?? session.joinedAt,
      kind: 'call',
      fields: {
        Subject: queueSubject(session, ctx.match),
        Description: queueDescription(session, ctx.match, task.timeZone).slice(0, 32000),
        TaskSubtype: 'Call',
        CallType: 'Inbound',
        CallDurationInSeconds: Math.max(0, Math.round(session.talkSeconds)),
        CallDisposition: session.outcome ? dispositions[session.outcome] : 'Unknown',
        CallObject: `queue:${session.memberUuid}`.slice(0, 255),
        Status: task.completedStatus,
        Priority: 'Normal',
        ActivityDate: dateIn(session.joinedAt, task.timeZone),
        ...this.relationFields(ctx.match, ctx),
        ...this.ownerField(ctx.ownerId, ctx),
      },
    };
    return this.writeOne(write, ctx, 'queue session logging');
  }

  createFollowUpTask(call: CallRecord, ctx: LogCallContext): Promise<ActivityRef> {
    const { task } = this.config;
    const write: TaskWrite = {
      key: ctx.idempotencyKey,
      callId: call.callId,
      endedAt: call.endedAt,
      kind: 'follow-up',
      fields: {
        Subject: followUpSubject(call, ctx.match),
        Description:
          `A call was missed: call back.\n\n${defaultDescription(call, ctx.match, task.timeZone)}`.slice(
            0,
            32000,
          ),
        TaskSubtype: 'Task',
        Status: task.openStatus,
        Priority: task.followUpPriority,
        ActivityDate: dateIn(new Date(), task.timeZone),
        CallObject: call.callId.slice(0, 255),
        ...this.relationFields(ctx.match, ctx),
        ...this.ownerField(ctx.ownerId, ctx),
      },
    };
    return this.writeOne(write, ctx, 'follow-up task');
  }

  async createContact(
    input: CreateContactInput,
    ctx: AdapterContext & { readonly idempotencyKey: string },
  ): Promise<ContactMatch> {
    const phone = input.phone.e164 ?? input.phone.raw;
    if (input.phone.withheld || phone.trim() === '') {
      throw new AdapterError('invalid', 'Cannot create a Salesforce Lead for a withheld number.');
    }
    const name = input.name?.trim() || formatPhone(input.phone);
    const space = name.lastIndexOf(' ');
    const firstName = space > 0 && input.name ? name.slice(0, space) : undefined;
    const lastName = (space > 0 && input.name ? name.slice(space + 1) : name).slice(0, 80);
    const fields = 'Id, Name, Company, Phone, OwnerId, Owner.Name';
    return this.session.run(ctx, 'lead creation', async (conn) => {
      const soql = `SELECT ${fields} FROM Lead WHERE Phone = ${soqlString(phone)} AND IsConverted = false ORDER BY CreatedDate ASC LIMIT 1`;
      const found = queryResponse.parse(
        await conn.request(
          { method: 'GET', url: `/query?q=${encodeURIComponent(soql)}` },
          { retry: { maxRetries: 0 } },
        ),
      );
      let record = found.records[0] as Record<string, unknown> | undefined;
      let id = record ? String(record.Id) : undefined;
      if (!id) {
        const created = saveResult.parse(
          await conn.sobject('Lead').create({
            ...(firstName ? { FirstName: firstName.slice(0, 40) } : {}),
            LastName: lastName,
            Company: this.config.lead.company,
            Phone: phone,
            LeadSource: this.config.lead.leadSource,
            Description: `Created by cti-bridge for an unknown caller (${formatPhone(input.phone)}).`,
            ...this.ownerField(input.ownerId, ctx),
          }),
        );
        if (!created.success || !created.id) throw collectionItemError(created.errors, 'lead creation');
        id = created.id;
        record = undefined;
      }
      const ownerId = record ? str(record, 'OwnerId') : input.ownerId;
      const ownerName = record ? nested(record, 'Owner', 'Name') : undefined;
      return {
        recordType: 'Lead',
        id,
        displayName: (record && str(record, 'Name')) ?? (firstName ? `${firstName} ${lastName}` : lastName),
        kind: 'person',
        url: this.recordUrl('Lead', id),
        companyName: (record && str(record, 'Company')) ?? this.config.lead.company,
        ...(ownerId ? { owner: { id: ownerId, ...(ownerName ? { name: ownerName } : {}) } } : {}),
        matchedPhone: phone,
        quality: 'exact',
        ambiguous: false,
      };
    });
  }

  async check(ctx: AdapterContext): Promise<HealthReport> {
    const extField = this.config.task.externalIdField;
    try {
      const describe = await this.session.run(ctx, 'health check', (conn) =>
        conn.request({ method: 'GET', url: '/sobjects/Task/describe' }, { retry: { maxRetries: 0 } }),
      );
      const fields = z
        .object({
          fields: z.array(
            z.looseObject({
              name: z.string(),
              externalId: z.boolean().optional(),
              unique: z.boolean().optional(),
            }),
          ),
        })
        .parse(describe).fields;
      const names = new Set(fields.map((f) => f.name));
      const missing = ['TaskSubtype', 'CallType', 'CallDurationInSeconds', 'CallObject'].filter(
        (f) => !names.has(f),
      );
      const ext = extField ? fields.find((f) => f.name.toLowerCase() === extField.toLowerCase()) : undefined;
      const usage = this.session.apiUsage();
      const details = {
        instanceUrl: this.session.instanceUrl(),
        apiVersion: this.config.apiVersion,
        ...(usage ? { apiUsage: usage } : {}),
      };
      if (missing.length > 0) {
        return {
          ok: false,
          message: `Salesforce Task lacks fields ${missing.join(', ')}: check field-level security for the integration user.`,
          details,
        };
      }
      if (extField && !ext?.externalId) {
        return {
          ok: false,
          message: `Task field ${extField} is missing or not marked External ID: create it (Text, External ID, Unique) or remove task.externalIdField.`,
          details,
        };
      }
      if (extField && !ext?.unique) {
        // Salesforce: upsert on an External ID that is not Unique needs "View All Data" and does
        // not prevent duplicates (two concurrent deliveries can both insert).
        return {
          ok: false,
          message:
            `Task field ${extField} is an External ID but not Unique, so Salesforce would not stop a call ` +
            'from being logged twice: in Setup › Object Manager › Activity › Fields & Relationships, edit ' +
            `${extField} and tick "Unique" (or create a new Text field with External ID and Unique).`,
          details,
        };
      }
      return {
        ok: true,
        message: `Connected to Salesforce (API ${this.config.apiVersion}); Tasks are ${extField ? `upserted on ${extField}` : 'deduplicated by a query on CallObject'}.`,
        details,
      };
    } catch (error) {
      return { ok: false, message: error instanceof Error ? error.message : String(error) };
    }
  }

  async close(): Promise<void> {
    this.session.close();
  }
}

/** Fields a Task takes on create but refuses on update (Salesforce: TaskSubtype is not updateable). */
const CREATE_ONLY_FIELDS = new Set(['TaskSubtype']);

/** An upsert that took the update path and was refused for a create-only field. */
function isCreateOnlyRefusal(result: SaveResult): boolean {
  return (result.errors ?? []).some(
    (e) =>
      (e.statusCode ?? e.errorCode) === 'INVALID_FIELD_FOR_INSERT_UPDATE' &&
      (e.fields ?? []).some((field) => CREATE_ONLY_FIELDS.has(field)),
  );
}

/** The per-record result of a one-record upsert that jsforce threw for a create-only field. */
function createOnlyRefusal(error: unknown): SaveResult | undefined {
  const e = error as { errorCode?: unknown; fields?: unknown; message?: unknown; data?: unknown };
  const fields = Array.isArray(e.fields)
    ? e.fields.map(String)
    : // jsforce keeps Salesforce's error array as `data` when it has more than one field to say
      ((Array.isArray(e.data) ? (e.data[0] as { fields?: unknown })?.fields : undefined) as
        | string[]
        | undefined);
  const result: SaveResult = {
    success: false,
    errors: [
      {
        statusCode: typeof e.errorCode === 'string' ? e.errorCode : '',
        message: typeof e.message === 'string' ? e.message : '',
        ...(fields ? { fields: [...fields] } : {}),
      },
    ],
  };
  if (isCreateOnlyRefusal(result)) return result;
  // without the field list, the message names the fields
  if (e.errorCode === 'INVALID_FIELD_FOR_INSERT_UPDATE' && typeof e.message === 'string') {
    const named = [...CREATE_ONLY_FIELDS].filter((field) => (e.message as string).includes(field));
    if (named.length > 0) return { ...result, errors: [{ ...result.errors![0]!, fields: named }] };
  }
  return undefined;
}
