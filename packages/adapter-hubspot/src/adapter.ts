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
  parsePhone,
  type QueueSession,
  rankMatches,
  toAdapterError,
} from '@cti-bridge/core';
import {
  type CreateInput,
  HubSpotConnection,
  type HubSpotRecord,
  type RequestContext,
  type SearchRequest,
} from './client.js';
import { ASSOCIATION, callProperties, taskBody, taskSubject } from './format.js';
import { companyCandidate, companySearch, contactCandidate, contactSearch } from './lookup.js';
import { type HubSpotOptions, type ResolvedHubSpotOptions, resolveOptions } from './options.js';

const OWNER_CACHE_MS = 10 * 60_000;
const DELIVERED_TTL_MS = 90 * 86_400_000;
const COMPANY_MEMORY = 5000;

interface WriteJob {
  readonly call: CallRecord;
  readonly key: string;
  readonly match?: ContactMatch;
  readonly ownerId?: string;
  readonly ctx: AdapterContext;
}

type JobResult = BatchItemResult;

/** Records the outcome of some groups of a batch (by group index) as their jobs' results. */
type SettleGroups = (
  groupIndexes: readonly number[],
  outcome: { id: string } | AdapterError,
) => Promise<void>;

const doneKey = (kind: string, key: string) => `${kind}:done:${key}`;
const pendingKey = (kind: string, key: string) => `${kind}:pending:${key}`;

/**
 * The HubSpot adapter: finds callers among contacts (and companies), logs calls as call
 * engagements, idempotent on `hs_call_external_id` (the OVH call id) plus a local record of
 * delivered keys, with batch creates for bursts and a client-side rate limiter.
 */
class HubSpotAdapter implements CrmAdapter {
  readonly specificationVersion = 'v1' as const;
  readonly name: string;
  readonly capabilities = {
    createContact: true,
    followUpTask: true,
    queueSessions: true,
    batchLogCall: true,
  } as const;

  private readonly connection: HubSpotConnection;
  private readonly now: () => number;
  private portal: Promise<{ portalId: string; appUrl: string }> | undefined;
  private owners: { at: number; names: Map<string, string> } | undefined;
  private ownersLoading: Promise<void> | undefined;
  /** Primary company of contacts seen on lookup, so a call is also associated to the company. */
  private readonly companyOf = new Map<string, string>();
  /** Whether companies have the searchable calculated phone property (see companyCalculatedPhone). */
  private companyPhoneProperty: Promise<boolean> | undefined;
  private queue: WriteJob[] = [];
  /**
   * Writes running now in this process, one attempt per key: calls as `call:<call id>` (see
   * safeWriteBatch), tasks and contacts as `<kind>:<idempotency key>` (see once).
   */
  private readonly attempts = new Set<string>();
  private waiters = new Map<WriteJob, (result: JobResult) => void>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: ResolvedHubSpotOptions) {
    this.name = options.name;
    this.now = options.clock ?? Date.now;
    this.connection = new HubSpotConnection(options);
  }

  // ---------------------------------------------------------------- lookup

  private portalInfo(ctx: RequestContext): Promise<{ portalId: string; appUrl: string }> {
    if (this.options.portalId !== undefined) {
      return Promise.resolve({
        portalId: String(this.options.portalId),
        appUrl: this.options.appUrl ?? 'https://app.hubspot.com',
      });
    }
    this.portal ??= this.connection.accountInfo(ctx).then(
      (info) => ({
        portalId: info.portalId,
        appUrl: this.options.appUrl ?? `https://${info.uiDomain ?? 'app.hubspot.com'}`,
      }),
      (error: unknown) => {
        this.portal = undefined;
        throw error;
      },
    );
    return this.portal;
  }

  private async ownerNames(ownerIds: readonly string[], ctx: RequestContext): Promise<Map<string, string>> {
    if (!this.options.resolveOwnerNames || ownerIds.length === 0) return new Map();
    const fresh = this.owners && this.now() - this.owners.at < OWNER_CACHE_MS;
    const missing = ownerIds.some((id) => !this.owners?.names.has(id));
    if (!fresh || (missing && this.now() - (this.owners?.at ?? 0) > 60_000)) {
      this.ownersLoading ??= this.connection
        .owners(ctx)
        .then((owners) => {
          this.owners = { at: this.now(), names: new Map(owners.map((owner) => [owner.id, owner.name])) };
        })
        .catch((error: unknown) => {
          // Owner names are a nicety: a lookup must not fail because of them.
          ctx.logger.warn({ error: toAdapterError(error).toJSON() }, 'HubSpot owners could not be read');
          this.owners = { at: this.now(), names: this.owners?.names ?? new Map() };
        })
        .finally(() => {
          this.ownersLoading = undefined;
        });
      await this.ownersLoading;
    }
    return this.owners?.names ?? new Map();
  }

  /**
   * Companies carrying the number. A failing company search degrades the lookup (logged) instead
   * of failing it: the contacts found still pop.
   */
  private async searchCompanies(
    phone: FindContactsQuery['phone'],
    limit: number,
    ctx: AdapterContext,
  ): Promise<{ results: HubSpotRecord[] }> {
    try {
      const calculated = await this.companyCalculatedPhone(ctx);
      return await this.connection.search('companies', companySearch(phone, limit, calculated), ctx);
    } catch (error) {
      const mapped = toAdapterError(error);
      ctx.logger.warn(
        { kind: mapped.kind, code: mapped.code },
        `HubSpot company search failed; looking up contacts only: ${mapped.message}`,
      );
      return { results: [] };
    }
  }

  /** Whether companies have `hs_searchable_calculated_phone_number` (read once, then cached). */
  private companyCalculatedPhone(ctx: AdapterContext): Promise<boolean> {
    if (!this.companyPhoneProperty) {
      const pending = this.connection.propertyExists('companies', 'hs_searchable_calculated_phone_number', {
        logger: ctx.logger,
      });
      this.companyPhoneProperty = pending;
      pending.catch(() => {
        if (this.companyPhoneProperty === pending) this.companyPhoneProperty = undefined;
      });
    }
    return this.companyPhoneProperty;
  }

  async findContacts(query: FindContactsQuery, ctx: AdapterContext): Promise<ContactMatch[]> {
    const phone = query.phone;
    if (phone.withheld || (!phone.e164 && phone.raw.trim() === '')) return [];
    const limit = query.limit ?? 10;
    const pageSize = Math.min(200, Math.max(20, limit * 3));
    const [portal, contacts, companies] = await Promise.all([
      this.portalInfo(ctx),
      this.connection.search('contacts', contactSearch(phone, pageSize), ctx),
      this.options.searchCompanies
        ? this.searchCompanies(phone, pageSize, ctx)
        : Promise.resolve({ results: [] as HubSpotRecord[] }),
    ]);
    const ownerIds = [...contacts.results, ...companies.results]
      .map((record) => record.properties.hubspot_owner_id)
      .filter((id): id is string => typeof id === 'string' && id !== '');
    const names = await this.ownerNames([...new Set(ownerIds)], ctx);
    const candidateContext = {
      phone,
      recordUrl: (objectTypeId: '0-1' | '0-2', id: string) =>
        `${portal.appUrl}/contacts/${portal.portalId}/record/${objectTypeId}/${id}`,
      ownerName: (id: string) => names.get(id),
    };
    for (const record of contacts.results) {
      const company = record.properties.associatedcompanyid;
      if (company) {
        if (this.companyOf.size >= COMPANY_MEMORY) this.companyOf.clear();
        this.companyOf.set(record.id, company);
      }
    }
    const matches = rankMatches(
      [
        ...contacts.results.map((record) => contactCandidate(record, candidateContext)),
        ...companies.results.map((record) => companyCandidate(record, candidateContext)),
      ],
      phone,
      { recordTypePriority: ['contact', 'company'], limit },
    );
    ctx.logger.debug(
      { found: matches.length, contacts: contacts.results.length, companies: companies.results.length },
      'HubSpot lookup done',
    );
    return matches;
  }

  // ---------------------------------------------------------------- call logging

  private associationsFor(
    match: ContactMatch | undefined,
    toContact: number,
    toCompany: number,
  ): Array<{ toId: string; typeId: number }> {
    if (!match) return [];
    if (match.recordType === 'company') return [{ toId: match.id, typeId: toCompany }];
    const associations = [{ toId: match.id, typeId: toContact }];
    const company = this.companyOf.get(match.id);
    if (company) associations.push({ toId: company, typeId: toCompany });
    return associations;
  }

  private callInput(job: WriteJob): CreateInput {
    return {
      properties: callProperties(job.call, this.options, job.ownerId),
      associations: this.associationsFor(job.match, ASSOCIATION.callToContact, ASSOCIATION.callToCompany),
    };
  }

  async logCall(call: CallRecord, ctx: LogCallContext): Promise<ActivityRef> {
    const job: WriteJob = {
      call,
      key: ctx.idempotencyKey,
      ...(ctx.match ? { match: ctx.match } : {}),
      ...(ctx.ownerId ? { ownerId: ctx.ownerId } : {}),
      ctx,
    };
    const known = await this.delivered(job);
    if (known) return known;
    const result = await new Promise<JobResult>((resolve) => {
      this.queue.push(job);
      this.waiters.set(job, resolve);
      if (this.queue.length >= this.options.batch.maxSize) this.flushQueue();
      else this.timer ??= setTimeout(() => this.flushQueue(), this.options.batch.windowMs);
    });
    if (!result.ok) throw result.error;
    return result.ref;
  }

  async logCalls(items: readonly LogCallItem[], ctx: AdapterContext): Promise<BatchItemResult[]> {
    const results: BatchItemResult[] = new Array(items.length);
    const todo: Array<{ index: number; job: WriteJob }> = [];
    for (const [index, item] of items.entries()) {
      const job: WriteJob = {
        call: item.call,
        key: item.idempotencyKey,
        ...(item.match ? { match: item.match } : {}),
        ...(item.ownerId ? { ownerId: item.ownerId } : {}),
        ctx,
      };
      try {
        const known = await this.delivered(job);
        if (known) results[index] = { ok: true, ref: known };
        else todo.push({ index, job });
      } catch (error) {
        results[index] = { ok: false, error: toAdapterError(error, 'HubSpot state read failed') };
      }
    }
    // Every call of the list is this attempt's until it ends, the chunks not written yet too: a
    // retry of the list (its worker gave up) must not write them meanwhile.
    const free = this.reserve(todo.map((entry) => entry.job));
    try {
      const size = this.options.batch.maxSize;
      const mine = todo.filter((_, i) => free[i]);
      todo.forEach((entry, i) => {
        if (!free[i]) results[entry.index] = inProgress(entry.job);
      });
      for (let start = 0; start < mine.length; start += size) {
        const chunk = mine.slice(start, start + size);
        const chunkResults = await this.guardedWriteBatch(chunk.map((entry) => entry.job));
        chunk.forEach((entry, i) => {
          results[entry.index] = chunkResults[i] ?? {
            ok: false,
            error: new AdapterError('transient', 'HubSpot batch returned no result for this call.'),
          };
        });
      }
    } finally {
      this.unreserve(todo.map((entry) => entry.job).filter((_, i) => free[i]));
    }
    return results;
  }

  private flushQueue(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0) {
      const jobs = this.queue.splice(0, this.options.batch.maxSize);
      const run = this.safeWriteBatch(jobs).then((results) => {
        jobs.forEach((job, i) => {
          const resolve = this.waiters.get(job);
          this.waiters.delete(job);
          resolve?.(
            results[i] ?? {
              ok: false,
              error: new AdapterError('transient', 'HubSpot batch returned no result for this call.'),
            },
          );
        });
      });
      this.inFlight.add(run);
      void run.finally(() => this.inFlight.delete(run));
    }
  }

  /**
   * Writes a batch, one writer per call id at a time: an attempt the delivery worker gave up on
   * (its timeout) keeps running here, and its retry must not search, find nothing yet and create
   * the call a second time. A call whose earlier attempt is still running waits for the next try.
   */
  private async safeWriteBatch(jobs: readonly WriteJob[]): Promise<JobResult[]> {
    const isFree = this.reserve(jobs);
    const free = jobs.filter((_, i) => isFree[i]);
    try {
      const freeResults = free.length > 0 ? await this.guardedWriteBatch(free) : [];
      let n = 0;
      return jobs.map((job, i) => (isFree[i] ? (freeResults[n++] as JobResult) : inProgress(job)));
    } finally {
      this.unreserve(free);
    }
  }

  /** Marks the jobs' calls as being written by this attempt; false for those another attempt writes. */
  private reserve(jobs: readonly WriteJob[]): boolean[] {
    const mine = new Set<string>(); // a call twice in one list: both are this attempt's
    return jobs.map((job) => {
      const slot = callSlot(job);
      if (mine.has(slot)) return true;
      if (!this.hold(slot)) return false;
      mine.add(slot);
      return true;
    });
  }

  /** Takes a slot of the running attempts: false when another attempt holds it. */
  private hold(slot: string): boolean {
    if (this.attempts.has(slot)) return false;
    this.attempts.add(slot);
    return true;
  }

  private unreserve(jobs: readonly WriteJob[]): void {
    for (const job of jobs) this.attempts.delete(callSlot(job));
  }

  /** {@link writeBatch} that never rejects: an unexpected failure (state store down) fails every item. */
  private guardedWriteBatch(jobs: readonly WriteJob[]): Promise<JobResult[]> {
    return this.writeBatch(jobs).catch((error: unknown) => {
      const failure = toAdapterError(error, 'Logging calls in HubSpot failed');
      return jobs.map(() => ({ ok: false as const, error: failure }));
    });
  }

  private async delivered(job: WriteJob): Promise<ActivityRef | undefined> {
    const id = await job.ctx.state.get(doneKey('call', job.key));
    return id ? { id, created: false } : undefined;
  }

  /**
   * Writes up to one batch of calls: search existing engagements by `hs_call_external_id`, hold
   * back calls whose earlier attempt has an unknown outcome (search may lag), create the rest in one
   * batch (or one by one when HubSpot rejects the batch as a whole), record what was delivered.
   */
  private async writeBatch(jobs: readonly WriteJob[]): Promise<JobResult[]> {
    const results: JobResult[] = new Array(jobs.length);
    const first = jobs[0];
    if (!first) return results;
    const logger = first.ctx.logger;
    const ctx: RequestContext = { logger };

    // 1. Already in HubSpot (and indexed)?
    let existing: Map<string, string>;
    try {
      existing = await this.findExistingCalls(
        jobs.map((job) => job.call.callId),
        ctx,
      );
    } catch (error) {
      const failure = toAdapterError(error);
      for (const i of jobs.keys()) results[i] = { ok: false, error: failure };
      return results;
    }

    // 2. Split: found, held back (unknown earlier outcome), to create (one per call id).
    const toCreate = await this.splitBatch(jobs, existing, results);
    if (toCreate.size === 0) return results;

    // 3. Create.
    await this.createCalls(jobs, [...toCreate.values()], results, ctx);
    return results;
  }

  /**
   * Settles the calls already in HubSpot and holds back those whose earlier attempt has an unknown
   * outcome (their results set); returns the rest to create, job indexes grouped by call id.
   */
  private async splitBatch(
    jobs: readonly WriteJob[],
    existing: ReadonlyMap<string, string>,
    results: JobResult[],
  ): Promise<Map<string, number[]>> {
    const toCreate = new Map<string, number[]>();
    for (const [i, job] of jobs.entries()) {
      // checked again here, the call held: an attempt that ended since the caller's check logged it
      const done = await this.delivered(job);
      if (done) {
        results[i] = { ok: true, ref: done };
        continue;
      }
      const found = existing.get(job.call.callId.toLowerCase());
      if (found) {
        await this.markDone(job, found);
        results[i] = { ok: true, ref: { id: found, created: false } };
        continue;
      }
      const pending = await job.ctx.state.get(pendingKey('call', job.key));
      const since = pending === undefined ? Number.NaN : this.now() - Number(pending);
      if (Number.isFinite(since) && since < this.options.searchLagMs) {
        const retryAfterMs = Math.max(1000, this.options.searchLagMs - since);
        results[i] = {
          ok: false,
          error: new AdapterError(
            'transient',
            `An earlier attempt to log call ${job.call.callId} in HubSpot may have succeeded (no answer was received); not writing again until HubSpot search can confirm, in ${Math.ceil(retryAfterMs / 1000)} s.`,
            { retryAfterMs, code: 'OUTCOME_UNKNOWN' },
          ),
        };
        continue;
      }
      const group = toCreate.get(job.call.callId);
      if (group) group.push(i);
      else toCreate.set(job.call.callId, [i]);
    }
    return toCreate;
  }

  /**
   * Creates one call per group (the group's first job leads, the others share its outcome): one
   * create for a single group, a batch create for several. Each leader is marked pending first.
   */
  private async createCalls(
    jobs: readonly WriteJob[],
    groups: readonly (readonly number[])[],
    results: JobResult[],
    ctx: RequestContext,
  ): Promise<void> {
    const leaders = groups.map((group) => jobs[group[0] as number] as WriteJob);
    for (const job of leaders) {
      await job.ctx.state.set(pendingKey('call', job.key), String(this.now()), { ttlMs: 86_400_000 });
    }
    const settle: SettleGroups = async (groupIndexes, outcome) => {
      for (const g of groupIndexes) {
        const group = groups[g] ?? [];
        for (const [n, i] of group.entries()) {
          const job = jobs[i] as WriteJob;
          if (outcome instanceof AdapterError) {
            if (n === 0) await this.notePendingOutcome(job.ctx, pendingKey('call', job.key), outcome);
            results[i] = { ok: false, error: outcome };
          } else {
            await this.markDone(job, outcome.id);
            results[i] = { ok: true, ref: { id: outcome.id, created: n === 0 } };
          }
        }
      }
    };

    if (leaders.length === 1) {
      await this.createOneByOne(leaders, [0], settle, ctx);
      return;
    }
    await this.createInBatch(leaders, settle, ctx);
  }

  /**
   * Creates the leaders' calls in one batch; what HubSpot did not create (a 207), or all of them when
   * it refuses the batch as invalid, is written again one by one.
   */
  private async createInBatch(
    leaders: readonly WriteJob[],
    settle: SettleGroups,
    ctx: RequestContext,
  ): Promise<void> {
    const { logger } = ctx;
    try {
      const answer = await this.connection.batchCreateCalls(
        leaders.map((job) => this.callInput(job)),
        ctx,
      );
      // HubSpot does not promise results in input order: match them on the external id.
      const byExternalId = new Map(
        answer.results.map((record) => [record.properties.hs_call_external_id ?? '', record.id]),
      );
      // A 207 says which inputs failed, not always which error is whose: each input HubSpot did not
      // create is written again on its own, so that it gets its own answer — created, retried
      // (transient), or refused for its own reason (a dead letter for that call only).
      const missing: number[] = [];
      for (const [g, job] of leaders.entries()) {
        const id = byExternalId.get(job.call.callId);
        if (id) await settle([g], { id });
        else missing.push(g);
      }
      if (missing.length > 0) {
        logger.warn(
          { missing: missing.length, errors: answer.errors.map((e) => e.category) },
          'HubSpot created part of the call batch; writing the rest one by one',
        );
      }
      await this.createOneByOne(leaders, missing, settle, ctx);
      logger.info(
        { created: answer.results.length, errors: answer.errors.length },
        'HubSpot call batch written',
      );
    } catch (error) {
      const mapped = toAdapterError(error);
      if (mapped.kind !== 'invalid') {
        await settle(
          leaders.map((_, g) => g),
          mapped,
        );
        return;
      }
      // One bad call makes HubSpot refuse the whole batch: write them one by one to isolate it.
      logger.warn(
        { code: mapped.code, correlationId: mapped.correlationId },
        'HubSpot refused the batch; writing calls one by one',
      );
      await this.createOneByOne(
        leaders,
        leaders.map((_, g) => g),
        settle,
        ctx,
      );
    }
  }

  /** Creates the calls of some leaders one request each, settling each with its own answer. */
  private async createOneByOne(
    leaders: readonly WriteJob[],
    indexes: readonly number[],
    settle: SettleGroups,
    ctx: RequestContext,
  ): Promise<void> {
    for (const g of indexes) {
      const job = leaders[g] as WriteJob;
      try {
        const record = await this.connection.create('calls', this.callInput(job), ctx);
        await settle([g], { id: record.id });
      } catch (single) {
        await settle([g], toAdapterError(single));
      }
    }
  }

  /**
   * After a failed create: forgets the pending mark when HubSpot surely wrote nothing. Otherwise
   * the write may still land (HubSpot may process a request after the client stopped waiting), so
   * the mark moves to now: search is trusted `searchLagMs` after the attempt ended, not after it
   * began.
   */
  private async notePendingOutcome(ctx: AdapterContext, key: string, error: AdapterError): Promise<void> {
    if (definitelyNotWritten(error)) await ctx.state.delete(key);
    else await ctx.state.set(key, String(this.now()), { ttlMs: 86_400_000 });
  }

  private async markDone(job: WriteJob, id: string): Promise<void> {
    await job.ctx.state.set(doneKey('call', job.key), id, { ttlMs: DELIVERED_TTL_MS });
    await job.ctx.state.delete(pendingKey('call', job.key));
  }

  /**
   * Call engagements already in HubSpot for these OVH call ids, keyed by the lowercased id.
   * HubSpot's `IN` on a string property matches lowercase values only (its search guide), so the
   * ids go lowercased and are compared case-insensitively; and a search body over 3,000
   * characters is refused, so the ids are split by request size, not by count.
   */
  private async findExistingCalls(
    callIds: readonly string[],
    ctx: RequestContext,
  ): Promise<Map<string, string>> {
    const unique = [...new Set(callIds.map((id) => id.toLowerCase()))];
    const found = new Map<string, string>();
    for (const values of chunkByBodySize(unique, externalIdSearch)) {
      let after: string | undefined;
      for (let page = 0; page < 5; page++) {
        const answer = await this.connection.search('calls', externalIdSearch(values, after), ctx);
        for (const record of answer.results) {
          const external = record.properties.hs_call_external_id?.toLowerCase();
          if (external && !found.has(external)) found.set(external, record.id);
        }
        after = (answer as { paging?: { next?: { after?: string } } }).paging?.next?.after;
        if (!after) break;
      }
    }
    return found;
  }

  /**
   * Logs a queue session as a call engagement (inbound, on the queue's number, with the wait and
   * the agent). A session linked to a call shares its `hs_call_external_id`, so a call logged both
   * ways makes one engagement.
   */
  async logQueueSession(session: QueueSession, ctx: LogCallContext): Promise<ActivityRef> {
    const answered = session.outcome === 'answered';
    const endedAt = session.leftAt ?? session.answeredAt ?? session.joinedAt;
    const record: CallRecord = {
      callId: session.callId ?? `queue-${session.memberUuid}`,
      token: session.token,
      direction: 'inbound',
      outcome: answered ? 'answered' : 'missed',
      line: parsePhone(session.queue, { defaultCountry: this.options.defaultCountry }),
      remote: session.caller ?? parsePhone(''),
      ...(session.callerName ? { remoteName: session.callerName } : {}),
      startedAt: session.joinedAt,
      ...(session.answeredAt ? { answeredAt: session.answeredAt } : {}),
      endedAt,
      ringSeconds: session.waitSeconds,
      talkSeconds: answered ? session.talkSeconds : 0,
      holdSeconds: 0,
      queue: {
        queue: session.queue,
        waitSeconds: session.waitSeconds,
        ...(session.answeredBy ? { agent: session.answeredBy } : {}),
        ...(session.outcome ? { outcome: session.outcome } : {}),
      },
      inferred: session.inferred,
    };
    return this.logCall(record, ctx);
  }

  // ---------------------------------------------------------------- tasks and contacts

  /**
   * Runs a write at most once per key: a local record of delivered keys, one attempt at a time
   * per key in this process (a retry meanwhile gets `IN_PROGRESS`), a `find` in HubSpot, and a
   * hold while an earlier attempt's outcome is unknown and search may still lag.
   */
  private async once<T>(
    kind: string,
    key: string,
    ctx: AdapterContext,
    steps: OnceSteps<T>,
  ): Promise<{ value: T; created: boolean }> {
    const done = await ctx.state.get(doneKey(kind, key));
    if (done) return { value: steps.restore(done), created: false };
    // one attempt per key at a time in this process, as for calls (see safeWriteBatch)
    const slot = `${kind}:${key}`;
    if (!this.hold(slot)) throw inProgressError(`create this HubSpot ${kind}`);
    try {
      return await this.onceHeld(kind, key, ctx, steps);
    } finally {
      this.attempts.delete(slot);
    }
  }

  /** {@link once} for a key this attempt holds: checks "done" again (an attempt may just have ended). */
  private async onceHeld<T>(
    kind: string,
    key: string,
    ctx: AdapterContext,
    steps: OnceSteps<T>,
  ): Promise<{ value: T; created: boolean }> {
    const done = await ctx.state.get(doneKey(kind, key));
    if (done) return { value: steps.restore(done), created: false };
    const found = await steps.find();
    if (found !== undefined) {
      await ctx.state.set(doneKey(kind, key), steps.idOf(found), { ttlMs: DELIVERED_TTL_MS });
      return { value: found, created: false };
    }
    const pending = await ctx.state.get(pendingKey(kind, key));
    const since = pending === undefined ? Number.NaN : this.now() - Number(pending);
    if (Number.isFinite(since) && since < this.options.searchLagMs) {
      const retryAfterMs = Math.max(1000, this.options.searchLagMs - since);
      throw new AdapterError(
        'transient',
        `An earlier attempt to create this HubSpot ${kind} may have succeeded; not writing again until search can confirm, in ${Math.ceil(retryAfterMs / 1000)} s.`,
        { retryAfterMs, code: 'OUTCOME_UNKNOWN' },
      );
    }
    await ctx.state.set(pendingKey(kind, key), String(this.now()), { ttlMs: 86_400_000 });
    try {
      const value = await steps.create();
      await ctx.state.set(doneKey(kind, key), steps.idOf(value), { ttlMs: DELIVERED_TTL_MS });
      await ctx.state.delete(pendingKey(kind, key));
      return { value, created: true };
    } catch (error) {
      const mapped = toAdapterError(error);
      await this.notePendingOutcome(ctx, pendingKey(kind, key), mapped);
      throw mapped;
    }
  }

  async createFollowUpTask(call: CallRecord, ctx: LogCallContext): Promise<ActivityRef> {
    const request: RequestContext = { logger: ctx.logger, ...(ctx.signal ? { signal: ctx.signal } : {}) };
    const due = new Date(
      call.endedAt.getTime() + this.options.followUpTask.dueInMinutes * 60_000,
    ).toISOString();
    const subject = taskSubject(call);
    const { value, created } = await this.once('task', ctx.idempotencyKey, ctx, {
      find: async () => {
        const answer = await this.connection.search(
          'tasks',
          {
            filterGroups: [
              {
                filters: [
                  { propertyName: 'hs_task_subject', operator: 'EQ', value: subject },
                  { propertyName: 'hs_timestamp', operator: 'EQ', value: String(Date.parse(due)) },
                ],
              },
            ],
            properties: ['hs_task_subject'],
            limit: 1,
          },
          request,
        );
        return answer.results[0]?.id;
      },
      create: async () => {
        const properties: Record<string, string> = {
          hs_timestamp: due,
          hs_task_subject: subject,
          hs_task_body: taskBody(call),
          hs_task_status: 'NOT_STARTED',
          hs_task_priority: this.options.followUpTask.priority,
          hs_task_type: 'CALL',
        };
        if (ctx.ownerId) properties.hubspot_owner_id = ctx.ownerId;
        const record = await this.connection.create(
          'tasks',
          {
            properties,
            associations: this.associationsFor(
              ctx.match,
              ASSOCIATION.taskToContact,
              ASSOCIATION.taskToCompany,
            ),
          },
          request,
        );
        return record.id;
      },
      idOf: (id) => id,
      restore: (id) => id,
    });
    return { id: value, created };
  }

  async createContact(
    input: CreateContactInput,
    ctx: AdapterContext & { readonly idempotencyKey: string },
  ): Promise<ContactMatch> {
    const phone = input.phone;
    if (phone.withheld) {
      throw new AdapterError('invalid', 'Cannot create a HubSpot contact for a withheld number.');
    }
    const request: RequestContext = { logger: ctx.logger, ...(ctx.signal ? { signal: ctx.signal } : {}) };
    const number = phone.e164 ?? phone.raw;
    const portal = await this.portalInfo(request);
    const toMatch = (id: string, displayName: string): ContactMatch => ({
      recordType: 'contact',
      id,
      displayName,
      kind: 'person',
      url: `${portal.appUrl}/contacts/${portal.portalId}/record/0-1/${id}`,
      ...(input.ownerId ? { owner: { id: input.ownerId } } : {}),
      matchedPhone: number,
      quality: 'exact',
      ambiguous: false,
    });
    const name = input.name?.trim() || formatPhone(phone);
    const { value } = await this.once('contact', ctx.idempotencyKey, ctx, {
      find: async () => {
        const matches = await this.findContacts({ phone, limit: 5 }, ctx);
        return matches.find((match) => match.kind === 'person' && match.quality === 'exact');
      },
      create: async () => {
        const [first, ...rest] = name.split(/\s+/);
        const properties: Record<string, string> = { phone: number, firstname: first ?? name };
        if (rest.length > 0) properties.lastname = rest.join(' ');
        if (input.ownerId) properties.hubspot_owner_id = input.ownerId;
        const record = await this.connection.create('contacts', { properties }, request);
        return toMatch(record.id, name);
      },
      idOf: (match) => match.id,
      restore: (id) => toMatch(id, name),
    });
    return value;
  }

  // ---------------------------------------------------------------- health

  async check(ctx: AdapterContext): Promise<HealthReport> {
    try {
      const info = await this.connection.accountInfo({ logger: ctx.logger });
      return {
        ok: true,
        message: `HubSpot account ${info.portalId} reachable (${this.connection.authKind} token accepted).`,
        details: { portalId: info.portalId, auth: this.connection.authKind },
      };
    } catch (error) {
      const mapped = toAdapterError(error);
      return { ok: false, message: mapped.message, details: { kind: mapped.kind, status: mapped.status } };
    }
  }

  async close(): Promise<void> {
    if (this.queue.length > 0) this.flushQueue();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.inFlight]);
  }
}

/** The steps of a write run at most once per key ({@link HubSpotAdapter.once}). */
interface OnceSteps<T> {
  /** Looks the record up in HubSpot (search may lag behind writes). */
  find: () => Promise<T | undefined>;
  create: () => Promise<T>;
  idOf: (value: T) => string;
  /** The value for an id recorded as done. */
  restore: (id: string) => T;
}

/** The key of a call's write in {@link HubSpotAdapter}'s running attempts. */
function callSlot(job: WriteJob): string {
  return `call:${job.call.callId}`;
}

/** The error for a write whose earlier attempt (`what`) is still running in this process. */
function inProgressError(what: string): AdapterError {
  return new AdapterError(
    'transient',
    `An earlier attempt to ${what} is still running; trying again once it is done.`,
    { retryAfterMs: 1000, code: 'IN_PROGRESS' },
  );
}

/** The answer for a call whose earlier attempt is still being written (by this process). */
function inProgress(job: WriteJob): JobResult {
  return { ok: false, error: inProgressError(`log call ${job.call.callId} in HubSpot`) };
}

/**
 * True when HubSpot answered, so the write did not happen and may be sent again at once. Unknown
 * outcomes: timeouts, dropped connections, and 502/504 from HubSpot's gateways (the write behind
 * them may have gone through).
 */
function definitelyNotWritten(error: AdapterError): boolean {
  if (error.code === 'TIMEOUT' || error.code === 'OUTCOME_UNKNOWN') return false;
  if (error.status === undefined) return error.kind === 'rate-limit';
  return error.status !== 502 && error.status !== 504;
}

/**
 * Creates the HubSpot adapter (@hubspot/api-client 13.5).
 *
 * ```ts
 * hubspot({ accessToken: env('HUBSPOT_TOKEN') })
 * hubspot({ oauth: { clientId, clientSecret, refreshToken }, portalId: 1234567 })
 * ```
 *
 * Options are validated here: an `invalid` AdapterError names the faulty key.
 */
export function hubspot(options: HubSpotOptions): CrmAdapter {
  return new HubSpotAdapter(resolveOptions(options));
}

/** HubSpot refuses a search request body over 3,000 characters (a 400 for the whole chunk). */
export const MAX_SEARCH_BODY_CHARS = 3_000;

/** The search for engagements by `hs_call_external_id` (values already lowercase). */
function externalIdSearch(values: readonly string[], after?: string): SearchRequest {
  return {
    filterGroups: [
      {
        filters:
          values.length === 1
            ? [{ propertyName: 'hs_call_external_id', operator: 'EQ', value: values[0] as string }]
            : [{ propertyName: 'hs_call_external_id', operator: 'IN', values: [...values] }],
      },
    ],
    properties: ['hs_call_external_id'],
    limit: 200,
    ...(after ? { after } : {}),
  };
}

/**
 * Splits values into the fewest consecutive chunks whose search body (as `build` makes it, with
 * room for a paging cursor) stays within {@link MAX_SEARCH_BODY_CHARS}, and at most 100 values.
 */
export function chunkByBodySize(
  values: readonly string[],
  build: (chunk: readonly string[], after?: string) => unknown,
): string[][] {
  const cursorRoom = 40; // `,"after":"…"` on later pages
  const chunks: string[][] = [];
  let current: string[] = [];
  for (const value of values) {
    const candidate = [...current, value];
    const size = JSON.stringify(build(candidate)).length + cursorRoom;
    if (current.length > 0 && (size > MAX_SEARCH_BODY_CHARS || candidate.length > 100)) {
      chunks.push(current);
      current = [value];
    } else current = candidate;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
