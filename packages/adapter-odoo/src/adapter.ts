import {
  type ActivityRef,
  type AdapterContext,
  AdapterError,
  type AdapterState,
  type CallRecord,
  type CheckContext,
  type ContactMatch,
  type CreateContactInput,
  type CrmAdapter,
  type FindContactsQuery,
  formatPhone,
  type HealthReport,
  type LogCallContext,
  type MatchCandidate,
  type PhoneNumber,
  parsePhone,
  rankMatches,
} from '@cti-bridge/core';
import { OdooRpc } from './client.js';
import { callDetails, callSummary, dayIn, escapeHtml, markerOf } from './format.js';
import { type Domain, type PhoneFields, phoneDomain } from './lookup.js';
import { type OdooOptions, type ResolvedOdooOptions, resolveOptions } from './options.js';

type LookupModel = 'res.partner' | 'crm.lead';
type Many2one = [number, string] | false;

interface OdooRow {
  id: number;
  name?: string | false;
  is_company?: boolean;
  phone?: string | false;
  mobile?: string | false;
  phone_sanitized?: string | false;
  user_id?: Many2one;
  parent_id?: Many2one;
  contact_name?: string | false;
  partner_name?: string | false;
  write_date?: string | false;
}

/** Where a call gets written: a partner or a lead. */
interface Target {
  readonly model: LookupModel;
  readonly id: number;
}

/** What the durable state remembers of a write, keyed on the idempotency key. */
type WriteState =
  | { readonly status: 'pending'; readonly target: Target; readonly activityId?: number }
  | { readonly status: 'done'; readonly ref: { id: string; url?: string } };

/** Where a user reference came from, named in errors so that the user knows which key to fix. */
type UserSource = 'ownerMap' | 'users' | 'defaultUserId';
/** Adapter-state key holding when that state was first used (epoch ms, decimal). */
const STATE_SINCE_KEY = 'odoo:state-since';
/** Tolerance between OVH's clock (call times) and ours (state creation). */
const CLOCK_SKEW_MS = 10 * 60_000;

/** Odoo datetime strings are UTC without a zone: `2024-05-01 10:00:00`. */
function parseOdooDate(value: string | false | undefined): Date | undefined {
  if (!value) return undefined;
  const date = new Date(`${value.replace(' ', 'T')}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function versionNumber(version: string | number): number {
  if (typeof version === 'number') return version;
  const match = /(\d+)(?:\.(\d+))?/.exec(version);
  return match ? Number(`${match[1]}.${match[2] ?? '0'}`) : 18;
}

/**
 * Creates the Odoo adapter (XML-RPC through odoo-await 3.4): callers are looked up on
 * `res.partner` (and optionally `crm.lead`) by phone, calls are logged in the record's chatter as
 * done Call activities (or notes), missed calls get an open Call activity for the line owner.
 *
 * Throws an AdapterError of kind `invalid` naming the key when an option is wrong. Connects
 * lazily, on the first call.
 */
export function odoo(options: OdooOptions): CrmAdapter {
  const config: ResolvedOdooOptions = resolveOptions(options);
  return new OdooAdapter(config);
}

class OdooAdapter implements CrmAdapter {
  readonly specificationVersion = 'v1' as const;
  readonly name: string;
  readonly capabilities = {
    createContact: true,
    followUpTask: true,
    queueSessions: false,
    batchLogCall: false,
  } as const;

  readonly #config: ResolvedOdooOptions;
  readonly #rpc: OdooRpc;
  readonly #baseUrl: string;
  readonly #timeZone: string;
  /** OVH line / agent → Odoo user (id or login), from the `users` option. */
  readonly #users = new Map<string, number | string>();
  readonly #fields = new Map<LookupModel, Promise<PhoneFields>>();
  /** Odoo user reference (id or login) → verified `res.users` id. */
  readonly #userIds = new Map<string, Promise<number>>();
  /** Writes in flight per record: Odoo's followers race when two touch one record at once. */
  readonly #recordLocks = new Map<string, Promise<unknown>>();
  /** When each adapter state was first used (epoch ms), read or written once per state. */
  readonly #stateSince = new WeakMap<AdapterState, Promise<number>>();
  #callTypeId: Promise<number> | undefined;

  constructor(config: ResolvedOdooOptions) {
    this.#config = config;
    this.name = config.name;
    const url = new URL(config.url);
    // record links never carry the basic-auth credentials a proxy in front of Odoo may need
    this.#baseUrl = `${url.protocol}//${url.host}`;
    const userInfo = url.username ? `${url.username}${url.password ? `:${url.password}` : ''}@` : '';
    this.#timeZone = config.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
    this.#rpc = new OdooRpc({
      url: `${url.protocol}//${userInfo}${url.host}`,
      database: config.database,
      login: config.login,
      secret: (config.apiKey ?? config.password)!,
      ...(url.password ? { otherSecrets: [decodeURIComponent(url.password)] } : {}),
      timeoutMs: config.timeoutMs,
    });
    for (const [key, userId] of Object.entries(config.users)) {
      this.#users.set(key, userId);
      const phone = parsePhone(key, { defaultCountry: config.defaultCountry });
      if (phone.e164) this.#users.set(phone.e164, userId);
    }
  }

  // ---------------------------------------------------------------- lookup

  async findContacts(query: FindContactsQuery, ctx: AdapterContext): Promise<ContactMatch[]> {
    const limit = query.limit ?? 10;
    // withheld or unreadable: nothing could match, and Odoo is not even asked
    if (query.phone.withheld || !query.phone.e164) return [];
    // one round trip per model, in parallel
    const perModel = await Promise.all(
      this.#config.lookup.map(async (model) => {
        const fields = await this.#phoneFields(model, ctx);
        const domain = phoneDomain(query.phone, fields);
        if (!domain) return [];
        const rows = await this.#searchRead(model, domain, fields, Math.max(20, limit * 4), ctx);
        return rows.map((row) => this.#candidate(model, row));
      }),
    );
    const candidates: MatchCandidate[] = perModel.flat();
    return rankMatches(candidates, query.phone, { recordTypePriority: this.#config.lookup, limit });
  }

  #phoneFields(model: LookupModel, ctx: AdapterContext): Promise<PhoneFields> {
    let pending = this.#fields.get(model);
    if (!pending) {
      pending = this.#rpc
        .call<Record<string, unknown>>(model, 'fields_get', [], { attributes: ['type'] }, ctx)
        .then((fields) => ({
          phoneMobileSearch: 'phone_mobile_search' in fields,
          mobile: 'mobile' in fields,
          phoneSanitized: 'phone_sanitized' in fields,
        }));
      this.#fields.set(model, pending);
      pending.catch(() => this.#fields.delete(model));
    }
    return pending;
  }

  #searchRead(
    model: LookupModel,
    domain: Domain,
    fields: PhoneFields,
    limit: number,
    ctx: AdapterContext,
  ): Promise<OdooRow[]> {
    const names = ['id', 'name', 'phone', 'user_id', 'write_date'];
    if (fields.mobile) names.push('mobile');
    if (fields.phoneSanitized) names.push('phone_sanitized');
    if (model === 'res.partner') names.push('is_company', 'parent_id');
    else names.push('contact_name', 'partner_name');
    return this.#rpc.call<OdooRow[]>(
      model,
      'search_read',
      [domain],
      { fields: names, offset: 0, limit, order: 'write_date desc, id desc', context: {} },
      ctx,
    );
  }

  #candidate(model: LookupModel, row: OdooRow): MatchCandidate {
    const owner = row.user_id ? { id: String(row.user_id[0]), name: row.user_id[1] } : undefined;
    const lastActivityAt = parseOdooDate(row.write_date);
    const base = {
      recordType: model,
      id: String(row.id),
      url: this.#recordUrl(model, row.id),
      phones: [row.phone || undefined, row.mobile || undefined, row.phone_sanitized || undefined],
      ...(owner ? { owner } : {}),
      ...(lastActivityAt ? { lastActivityAt } : {}),
    };
    if (model === 'crm.lead') {
      const company = row.partner_name || undefined;
      return {
        ...base,
        displayName: row.contact_name || row.name || `Lead ${row.id}`,
        kind: 'person',
        ...(company ? { companyName: company } : {}),
      };
    }
    const company = row.parent_id ? row.parent_id[1] : undefined;
    return {
      ...base,
      displayName: row.name || `Contact ${row.id}`,
      kind: row.is_company ? 'company' : 'person',
      ...(company ? { companyName: company } : {}),
    };
  }

  #recordUrl(model: string, id: number): string {
    return versionNumber(this.#config.version) >= 17.2
      ? `${this.#baseUrl}/odoo/${model}/${id}`
      : `${this.#baseUrl}/web#id=${id}&model=${model}&view_type=form`;
  }

  // ---------------------------------------------------------------- writes

  async logCall(call: CallRecord, ctx: LogCallContext): Promise<ActivityRef> {
    const marker = markerOf(ctx.idempotencyKey);
    const stateKey = `odoo:call:${ctx.idempotencyKey}`;
    const previous = await this.#readState(stateKey, ctx);
    if (previous?.status === 'done') return { ...previous.ref, created: false };
    const target = previous?.target ?? (await this.#target(call, ctx));
    const owner = await this.#owner(call, ctx);
    return this.#exclusive(target, async () => {
      const url = this.#recordUrl(target.model, target.id);
      // Idempotency lives in Odoo: an earlier attempt (maybe from another process, or before the
      // local state was lost) left the marker in the record's chatter, or in the note of an open
      // activity it had not finished. Read when an earlier attempt may have written without this
      // state knowing (see idempotencyCheck).
      let activityId = previous?.status === 'pending' ? previous.activityId : undefined;
      if (previous?.status === 'pending' || (await this.#mayPredateState(call, ctx))) {
        const found = await this.#findMessage(target, marker, ctx);
        if (found !== undefined) return this.#done(stateKey, String(found), url, false, ctx);
        if (activityId === undefined && this.#config.logAs === 'activity') {
          activityId = (await this.#findActivity(target, marker, ctx))[0];
        }
      }
      await this.#writeState(
        stateKey,
        { status: 'pending', target, ...(activityId ? { activityId } : {}) },
        ctx,
      );

      if (this.#config.logAs === 'note') {
        const details = callDetails(call, { timeZone: this.#timeZone, marker });
        const messageId = await this.#rpc.call<number>(
          target.model,
          'message_post',
          [[target.id]],
          // plain text: Odoo escapes a str body sent over RPC, so HTML would show as tags
          {
            body: [callSummary(call), ...details].join('\n'),
            message_type: 'comment',
            subtype_xmlid: 'mail.mt_note',
          },
          ctx,
        );
        return this.#done(stateKey, String(messageId), url, true, ctx);
      }

      // The marker goes once, in the note of the activity: Odoo copies the note into the "Call done"
      // message ("Original note"), so both an open activity and the finished message carry it.
      if (activityId === undefined) {
        activityId = await this.#createActivity(
          target,
          {
            summary: callSummary(call),
            note: `<p>${escapeHtml(marker)}</p>`,
            date_deadline: dayIn(call.endedAt, this.#timeZone),
            ...(owner !== undefined ? { user_id: owner } : {}),
          },
          true,
          ctx,
        );
        await this.#writeState(stateKey, { status: 'pending', target, activityId }, ctx);
      }
      // Marks it done: Odoo posts "Call done" with the feedback in the chatter and removes the activity.
      const messageId = await this.#rpc.call<number>(
        'mail.activity',
        'action_feedback',
        [[activityId]],
        { feedback: callDetails(call, { timeZone: this.#timeZone }).join('\n') },
        ctx,
      );
      ctx.logger.debug({ model: target.model, id: target.id, messageId }, 'call logged in Odoo');
      return this.#done(stateKey, String(messageId), url, true, ctx);
    });
  }

  async createFollowUpTask(call: CallRecord, ctx: LogCallContext): Promise<ActivityRef> {
    const marker = markerOf(ctx.idempotencyKey);
    const stateKey = `odoo:task:${ctx.idempotencyKey}`;
    const previous = await this.#readState(stateKey, ctx);
    if (previous?.status === 'done') return { ...previous.ref, created: false };
    const target = previous?.target ?? (await this.#target(call, ctx));
    const owner = await this.#owner(call, ctx);
    return this.#exclusive(target, async () => {
      const url = this.#recordUrl(target.model, target.id);
      const existing = await this.#findActivity(target, marker, ctx);
      if (existing[0] !== undefined) return this.#done(stateKey, String(existing[0]), url, false, ctx);
      await this.#writeState(stateKey, { status: 'pending', target }, ctx);
      const lines = [
        `Missed call from ${formatPhone(call.remote)}${call.remoteName ? ` (${call.remoteName})` : ''}: please call back.`,
        ...callDetails(call, { timeZone: this.#timeZone, marker }),
      ];
      const activityId = await this.#createActivity(
        target,
        {
          summary: `Call back ${formatPhone(call.remote)}`,
          // Html field written with create(): sanitized, not escaped — so escape the text ourselves
          note: `<p>${lines.map(escapeHtml).join('<br>')}</p>`,
          date_deadline: dayIn(new Date(), this.#timeZone),
          ...(owner !== undefined ? { user_id: owner } : {}),
        },
        !this.#config.notifyFollowUps,
        ctx,
      );
      return this.#done(stateKey, String(activityId), url, true, ctx);
    });
  }

  /**
   * Creates a Call activity on the record. The model travels in the context
   * (`default_res_model`): Odoo fills `res_model_id` itself, so the bridge user never reads
   * `ir.model` (administrators only). `quiet` adds `mail_activity_quick_update`: no "assigned to
   * you" message and no e-mail to the assignee.
   */
  async #createActivity(
    target: Target,
    values: Record<string, unknown>,
    quiet: boolean,
    ctx: AdapterContext,
  ): Promise<number> {
    const callTypeId = await this.#callType(ctx);
    return this.#rpc.call<number>(
      'mail.activity',
      'create',
      [{ res_id: target.id, activity_type_id: callTypeId, ...values }],
      {
        context: {
          default_res_model: target.model,
          ...(quiet ? { mail_activity_quick_update: true } : {}),
        },
      },
      ctx,
    );
  }

  /**
   * Runs the writes on one record one after the other. Odoo makes the activity's user and the
   * author followers of the record; two writes on one record at the same moment race on the
   * followers' unique constraint and one fails. Serialising here (not in the pipeline) keeps the
   * rule with the CRM that needs it; a race with another process is still possible, and its
   * fault is classified as transient (retried).
   */
  async #exclusive<T>(target: Target, run: () => Promise<T>): Promise<T> {
    const key = `${target.model}:${target.id}`;
    const before = this.#recordLocks.get(key) ?? Promise.resolve();
    const current = before.catch(() => {}).then(run);
    const tail = current.catch(() => {});
    this.#recordLocks.set(key, tail);
    try {
      return await current;
    } finally {
      if (this.#recordLocks.get(key) === tail) this.#recordLocks.delete(key);
    }
  }

  async createContact(
    input: CreateContactInput,
    ctx: AdapterContext & { readonly idempotencyKey: string },
  ): Promise<ContactMatch> {
    const stateKey = `odoo:contact:${ctx.idempotencyKey}`;
    const saved = await ctx.state.get(stateKey);
    if (saved) {
      const { lastActivityAt, ...match } = JSON.parse(saved) as ContactMatch;
      return lastActivityAt ? { ...match, lastActivityAt: new Date(lastActivityAt) } : match;
    }
    if (!input.phone.e164) {
      throw new AdapterError(
        'invalid',
        `Cannot create an Odoo contact for "${input.phone.raw}": not a phone number.`,
      );
    }
    // The number itself is the marker: a contact created by an earlier attempt is found again.
    const existing = (await this.findContacts({ phone: input.phone, limit: 1 }, ctx))[0];
    if (existing?.quality === 'exact') {
      await ctx.state.set(stateKey, JSON.stringify(existing));
      return existing;
    }
    const number = formatPhone(input.phone);
    const owner =
      input.ownerId !== undefined
        ? await this.#userId(input.ownerId, 'ownerMap', ctx)
        : this.#config.defaultUserId !== undefined
          ? await this.#userId(this.#config.defaultUserId, 'defaultUserId', ctx)
          : undefined;
    const name = input.name?.trim() || number;
    const id = await this.#createPartner(input.phone, name, owner, ctx);
    const match: ContactMatch = {
      recordType: 'res.partner',
      id: String(id),
      displayName: name,
      kind: 'person',
      url: this.#recordUrl('res.partner', id),
      matchedPhone: number,
      quality: 'exact',
      ambiguous: false,
    };
    await ctx.state.set(stateKey, JSON.stringify(match));
    return match;
  }

  async check(ctx: CheckContext): Promise<HealthReport> {
    try {
      const uid = await this.#rpc.connect(ctx.signal);
      const models: Record<string, PhoneFields> = {};
      for (const model of this.#config.lookup) models[model] = await this.#phoneFields(model, ctx);
      if (this.#config.logAs === 'activity') await this.#callType(ctx);
      const problems = await this.#checkUsers(ctx);
      if (this.#config.logAs === 'note') {
        const [me] = await this.#rpc.call<Array<{ email: string | false }>>(
          'res.users',
          'read',
          [[uid]],
          { fields: ['email'] },
          ctx,
        );
        if (!me?.email) {
          problems.push(
            `the Odoo user "${this.#config.login}" has no e-mail address, and Odoo refuses to post notes ` +
              'without one ("please configure the sender\'s email address"): set it in Settings › Users › ' +
              `${this.#config.login} › Email, or use logAs: "activity".`,
          );
        }
      }
      if (problems.length > 0)
        return { ok: false, message: problems.join(' '), details: { uid, kind: 'invalid' } };
      const partner = models['res.partner'] ?? Object.values(models)[0];
      const how = partner?.phoneMobileSearch ? 'phone_mobile_search' : 'phone/mobile text search';
      return {
        ok: true,
        message: `Connected to Odoo database "${this.#config.database}" as ${this.#config.login} (uid ${uid}); lookup by ${how}.`,
        details: { uid, models },
      };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return {
        ok: false,
        message,
        details: { kind: error instanceof AdapterError ? error.kind : 'transient' },
      };
    }
  }

  /** Every mapped user (options and the runner's ownerMap) exists, is active and internal. */
  async #checkUsers(ctx: CheckContext): Promise<string[]> {
    const refs = new Map<string, string>();
    for (const [key, ref] of this.#users) refs.set(String(ref), `users["${key}"]`);
    if (this.#config.defaultUserId !== undefined)
      refs.set(String(this.#config.defaultUserId), 'defaultUserId');
    for (const ref of ctx.ownerIds ?? []) if (!refs.has(ref)) refs.set(ref, 'ownerMap');
    const problems: string[] = [];
    for (const [ref, key] of refs) {
      const user = await this.#findUser(ref, ctx);
      if (!user)
        problems.push(`Odoo has no user "${ref}" (${key}): give the id or login of an internal user.`);
      else if (!user.active)
        problems.push(`The Odoo user "${ref}" (${key}) is archived: unarchive it or map another user.`);
      else if (user.share)
        problems.push(`The Odoo user "${ref}" (${key}) is a portal user: activities need an internal user.`);
    }
    return problems;
  }

  async close(): Promise<void> {
    this.#rpc.reset();
  }

  // ---------------------------------------------------------------- helpers

  /** The record to write on: the match, else a lookup, else the unknown-caller policy. */
  async #target(call: CallRecord, ctx: LogCallContext): Promise<Target> {
    const match = ctx.match;
    if (match && (match.recordType === 'res.partner' || match.recordType === 'crm.lead')) {
      const id = Number(match.id);
      if (Number.isInteger(id) && id > 0) return { model: match.recordType, id };
    }
    const found = (await this.findContacts({ phone: call.remote, limit: 1 }, ctx))[0];
    if (found) return { model: found.recordType as LookupModel, id: Number(found.id) };
    if (this.#config.unknownCallers === 'skip' || !call.remote.e164) {
      throw new AdapterError(
        'not-found',
        `No Odoo record carries ${formatPhone(call.remote)}: the call was not logged ` +
          `(unknownCallers: "${this.#config.unknownCallers}"${call.remote.e164 ? '' : ', number not usable'}).`,
      );
    }
    // The lookup above is the idempotency check of this creation: the number is the marker.
    const id = await this.#createPartner(call.remote, call.remoteName, await this.#owner(call, ctx), ctx);
    return { model: 'res.partner', id };
  }

  #createPartner(
    phone: PhoneNumber,
    name: string | undefined,
    owner: number | undefined,
    ctx: AdapterContext,
  ): Promise<number> {
    const number = formatPhone(phone);
    return this.#rpc.call<number>(
      'res.partner',
      'create',
      [
        {
          name: name?.trim() || number,
          phone: number,
          ...(owner !== undefined ? { user_id: owner } : {}),
          comment: '<p>Created by cti-bridge for a phone call.</p>',
        },
      ],
      undefined,
      ctx,
    );
  }

  /** res.users id owning the activity: pipeline owner, queue agent, line, default. */
  async #owner(call: CallRecord, ctx: LogCallContext): Promise<number | undefined> {
    if (ctx.ownerId !== undefined) {
      const mapped = this.#users.get(ctx.ownerId);
      return this.#userId(mapped ?? ctx.ownerId, mapped !== undefined ? 'users' : 'ownerMap', ctx);
    }
    const keys = [call.queue?.agent, call.line.e164, call.line.raw, call.lineLabel];
    for (const key of keys) {
      if (key === undefined) continue;
      const mapped = this.#users.get(key);
      if (mapped !== undefined) return this.#userId(mapped, 'users', ctx);
    }
    const fallback = this.#config.defaultUserId;
    return fallback === undefined ? undefined : this.#userId(fallback, 'defaultUserId', ctx);
  }

  /**
   * The `res.users` id of a user given by id or login, checked once per adapter: an id or login
   * Odoo does not know is an `invalid` error naming the user and the option, instead of Odoo's
   * foreign-key text (which names neither).
   */
  #userId(ref: number | string, source: UserSource, ctx: AdapterContext): Promise<number> {
    const key = String(ref).trim();
    let pending = this.#userIds.get(key);
    if (!pending) {
      pending = this.#findUser(key, ctx).then((user) => {
        if (!user) {
          throw new AdapterError(
            'invalid',
            `Odoo has no user "${key}" (${source === 'users' ? 'the odoo() users option' : source === 'ownerMap' ? "the token's ownerMap" : 'the odoo() defaultUserId option'}): ` +
              'give the id or the login of an existing internal user (Settings › Users & Companies › Users).',
            { code: 'UNKNOWN_USER' },
          );
        }
        return user.id;
      });
      this.#userIds.set(key, pending);
      pending.catch(() => this.#userIds.delete(key));
    }
    return pending;
  }

  /** Reads a user by id or login, archived ones included. */
  async #findUser(
    ref: string,
    ctx: AdapterContext,
  ): Promise<{ id: number; login: string; active: boolean; share: boolean } | undefined> {
    const byId = /^\d+$/.test(ref);
    const rows = await this.#rpc.call<Array<{ id: number; login: string; active: boolean; share: boolean }>>(
      'res.users',
      'search_read',
      [[byId ? ['id', '=', Number(ref)] : ['login', '=', ref]]],
      { fields: ['id', 'login', 'active', 'share'], limit: 1, context: { active_test: false } },
      ctx,
    );
    return rows[0];
  }

  /**
   * The Call activity type, found by its category (`phonecall`) rather than its external id:
   * reading `ir.model.data` needs administration rights the bridge user does not have.
   */
  #callType(ctx: AdapterContext): Promise<number> {
    if (!this.#callTypeId) {
      const pending = this.#rpc
        .call<number[]>(
          'mail.activity.type',
          'search',
          [[['category', '=', 'phonecall']]],
          { limit: 1, order: 'id' },
          ctx,
        )
        .then((ids) => {
          if (ids[0] === undefined) {
            throw new AdapterError(
              'not-found',
              'Odoo has no activity type of the "Phone Call" category (the Call type of the Discuss app): ' +
                'restore it in Settings › Discuss › Activity Types, or use logAs: "note".',
            );
          }
          return ids[0];
        });
      pending.catch(() => {
        if (this.#callTypeId === pending) this.#callTypeId = undefined;
      });
      this.#callTypeId = pending;
    }
    return this.#callTypeId;
  }

  #findActivity(target: Target, marker: string, ctx: AdapterContext): Promise<number[]> {
    return this.#rpc.call<number[]>(
      'mail.activity',
      'search',
      [
        [
          ['res_model', '=', target.model],
          ['res_id', '=', target.id],
          ['note', 'ilike', marker],
        ],
      ],
      { limit: 1 },
      ctx,
    );
  }

  async #findMessage(target: Target, marker: string, ctx: AdapterContext): Promise<number | undefined> {
    const ids = await this.#rpc.call<number[]>(
      'mail.message',
      'search',
      [
        [
          ['model', '=', target.model],
          ['res_id', '=', target.id],
          ['body', 'ilike', marker],
        ],
      ],
      { limit: 1 },
      ctx,
    );
    return ids[0];
  }

  /**
   * Whether an earlier attempt could have logged this call without the current state recording
   * it: always with `odoo`, never with `state`, and with `auto` when the call ended before this
   * state was first used (plus {@link CLOCK_SKEW_MS}: OVH's clock is not ours).
   */
  async #mayPredateState(call: CallRecord, ctx: AdapterContext): Promise<boolean> {
    if (this.#config.idempotencyCheck !== 'auto') return this.#config.idempotencyCheck === 'odoo';
    let since = this.#stateSince.get(ctx.state);
    if (since === undefined) {
      since = (async () => {
        const stored = Number(await ctx.state.get(STATE_SINCE_KEY));
        if (Number.isFinite(stored) && stored > 0) return stored;
        const now = Date.now();
        await ctx.state.set(STATE_SINCE_KEY, String(now));
        return now;
      })();
      this.#stateSince.set(ctx.state, since);
    }
    return call.endedAt.getTime() < (await since) + CLOCK_SKEW_MS;
  }

  async #readState(key: string, ctx: AdapterContext): Promise<WriteState | undefined> {
    const raw = await ctx.state.get(key);
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as WriteState;
    } catch {
      return undefined;
    }
  }

  #writeState(key: string, value: WriteState, ctx: AdapterContext): Promise<void> {
    return ctx.state.set(key, JSON.stringify(value));
  }

  async #done(
    key: string,
    id: string,
    url: string,
    created: boolean,
    ctx: AdapterContext,
  ): Promise<ActivityRef> {
    await this.#writeState(key, { status: 'done', ref: { id, url } }, ctx);
    return { id, url, created };
  }
}
