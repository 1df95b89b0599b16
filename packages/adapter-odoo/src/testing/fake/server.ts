import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { parsePhone } from '@cti-bridge/core';
import { FaultQueue, Latency, listenFakeServer, RequestLog } from '@cti-bridge/core/testing';
import {
  compileDomain,
  type DomainModel,
  type FakeRecord,
  OdooFault,
  phoneMobileSearch,
  tracebackFault,
} from './domain.js';

// The server side of XML-RPC comes from the `xmlrpc` library (the one odoo-await uses as a
// client): its deserializer reads a <methodCall>, its serializer writes <methodResponse>/<fault>.
const require = createRequire(import.meta.url);
type DeserializerInstance = {
  deserializeMethodCall(
    stream: NodeJS.ReadableStream,
    callback: (error: Error | null, methodName?: string, params?: unknown[]) => void,
  ): void;
};
const Deserializer = require('xmlrpc/lib/deserializer') as new (encoding?: string) => DeserializerInstance;
const Serializer = require('xmlrpc/lib/serializer') as {
  serializeMethodResponse(value: unknown): string;
  serializeFault(fault: { faultCode: number | string; faultString: string }): string;
};

/** Options of {@link startFakeOdoo}. */
export interface FakeOdooOptions {
  /** Database name the fake accepts (default `odoo`). */
  readonly database?: string;
  /** Login of the API user, uid 2 (default `admin`). */
  readonly login?: string;
  /** API key of the API user (default `fake-odoo-api-key`). */
  readonly apiKey?: string;
  /** Password of the API user, accepted like the key (default `admin`). */
  readonly password?: string;
  /** `server_serie` the `version` call reports (default `18.0`). */
  readonly version?: string;
  /**
   * False simulates an Odoo without `phone_validation`/`sms`: no `phone_sanitized` nor
   * `phone_mobile_search` on `res.partner` and `crm.lead` (default true).
   */
  readonly phoneMobileSearch?: boolean;
  /** False simulates Odoo 18.2+ where `res.partner.mobile` is gone (default true). */
  readonly mobileField?: boolean;
  /** Country used to compute `phone_sanitized` (default `FR`, the company's country). */
  readonly country?: string;
  /** Delay before each answer, in milliseconds (default 0). */
  readonly latencyMs?: number;
  /** "Today" for activity states and default deadlines (default: the real date, UTC). */
  readonly today?: () => string;
  /**
   * Rights of the API user: `admin` (uid 2, Administration/Settings, like a fresh Odoo's admin) or
   * `internal` (uid 7, an internal user with Contacts creation and Sales "All Documents", as the
   * README recommends). An internal user is refused `ir.model` and `ir.model.data` (code 4,
   * naming the group). Default `admin`.
   */
  readonly apiUser?: 'admin' | 'internal';
  /** E-mail address of the API user (`false`: none, so `message_post` is refused). */
  readonly apiUserEmail?: string | false;
  /**
   * How long a write that adds followers keeps its transaction open, in ms (default 10). Two
   * such writes on the same record overlapping in that window race on the followers' unique
   * constraint, and the later one fails, as on a real server under concurrent deliveries.
   */
  readonly transactionMs?: number;
}

/** One request the fake received, reduced to what tests assert on. */
export interface FakeOdooRequest {
  /** `common` or `object`. */
  readonly service: string;
  /** XML-RPC method: `authenticate`, `version`, `execute_kw`. */
  readonly method: string;
  /** Odoo model of an `execute_kw`. */
  readonly model?: string;
  /** Odoo method of an `execute_kw` (`search_read`, `create`, …). */
  readonly call?: string;
  /** `lookup` (reads), `write` (anything that changes data), `auth` (common service). */
  readonly kind: 'lookup' | 'write' | 'auth';
  /** Positional arguments after the credentials (secrets never recorded). */
  readonly args: readonly unknown[];
  /** Keyword arguments of an `execute_kw`. */
  readonly kwargs?: Readonly<Record<string, unknown>>;
}

/** A fault to inject: an XML-RPC fault, an HTTP status, or a dropped connection. */
export interface FakeOdooFault {
  /** Which requests: reads, writes, authentications or any (default `any` = every object call). */
  readonly on?: 'lookup' | 'write' | 'auth' | 'any';
  /** How many matching requests fail (default 1). */
  readonly times?: number;
  /** Answer with this XML-RPC fault. */
  readonly fault?: { readonly code: number | string; readonly message: string };
  /** Answer with this HTTP status (e.g. 429, 502, 503 from a proxy) and a small HTML body. */
  readonly httpStatus?: number;
  /** `Retry-After` header (seconds) sent with an HTTP status. */
  readonly retryAfterSeconds?: number | undefined;
  /** Destroy the socket without answering (a network error for the client). */
  readonly dropConnection?: boolean;
  /** Only requests calling this Odoo method (`create`, `action_feedback`, …). */
  readonly call?: string;
  /**
   * Run the request first, then fail (a write applied whose answer was lost): the case
   * idempotency is for. Default false: fail without side effects.
   */
  readonly afterExecute?: boolean;
}

/** A partner to seed. */
export interface SeedPartnerInput {
  readonly name: string;
  readonly phone?: string;
  readonly mobile?: string;
  readonly isCompany?: boolean;
  /** Salesperson (`res.users` id). */
  readonly userId?: number;
  /** Company (`res.partner` id) of a person. */
  readonly parentId?: number;
  readonly writeDate?: Date;
  readonly email?: string;
}

/** A lead to seed in `crm.lead`. */
export interface SeedLeadInput {
  readonly name: string;
  readonly contactName?: string;
  readonly partnerName?: string;
  readonly phone?: string;
  readonly mobile?: string;
  readonly userId?: number;
}

/** A running fake Odoo. */
export interface FakeOdoo {
  /** Base URL (`http://127.0.0.1:<port>`) to give odoo-await / the adapter. */
  readonly url: string;
  readonly database: string;
  readonly login: string;
  readonly apiKey: string;
  /** uid of the API user (2, like a fresh Odoo's admin). */
  readonly uid: number;
  /** Every request received, in order. */
  requests(): FakeOdooRequest[];
  /** Forgets the recorded requests. */
  clearRequests(): void;
  /** Queues a fault for the next matching requests. */
  injectFault(fault: FakeOdooFault): void;
  /** Changes the per-request latency. */
  setLatency(ms: number): void;
  /** Stores a partner as given (no formatting), computing `phone_sanitized` like Odoo. */
  seedPartner(input: SeedPartnerInput): number;
  /** Stores a lead. */
  seedLead(input: SeedLeadInput): number;
  /**
   * Adds a `res.users` with its partner (returns the user id). `share: true` makes a portal user,
   * `active: false` an archived one.
   */
  seedUser(
    name: string,
    login?: string,
    options?: { readonly active?: boolean; readonly share?: boolean; readonly email?: string },
  ): number;
  /** Followers (`mail.followers`) of a record, as partner ids. */
  followers(model: string, resId: number): number[];
  /** Messages Odoo addressed to a user (`user_notification`: "… has just assigned you …"). */
  notifications(): FakeRecord[];
  /** E-mails Odoo queued (`mail.mail`). */
  mails(): FakeRecord[];
  /** All records of a model (archived included), as stored. */
  records(model: string): FakeRecord[];
  /** Chatter messages of a record (or of every record). */
  messages(model?: string, resId?: number): FakeRecord[];
  /** Open activities (or of one record). */
  activities(model?: string, resId?: number): FakeRecord[];
  /** Removes every seeded or created record, recorded request and pending fault. */
  reset(): void;
  /** Stops listening. */
  close(): Promise<void>;
}

type FieldType =
  | 'char'
  | 'text'
  | 'html'
  | 'boolean'
  | 'integer'
  | 'many2one'
  | 'many2one_reference'
  | 'date'
  | 'datetime'
  | 'selection';

interface FieldDef {
  readonly type: FieldType;
  readonly string: string;
  readonly store: boolean;
  readonly required?: boolean;
  readonly relation?: string;
}

interface ModelDef {
  readonly name: string;
  readonly description: string;
  readonly fields: Record<string, FieldDef>;
  readonly rows: Map<number, FakeRecord>;
  nextId: number;
}

const LOOKUP_METHODS = new Set([
  'search',
  'search_read',
  'read',
  'fields_get',
  'search_count',
  'check_object_reference',
  'name_search',
]);

const char = (string: string, store = true): FieldDef => ({ type: 'char', string, store });
const m2o = (string: string, relation: string, required = false): FieldDef => ({
  type: 'many2one',
  string,
  store: true,
  relation,
  required,
});

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#x27;');
}

function odooDatetime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

function nowString(): string {
  return odooDatetime(new Date());
}

/**
 * Starts a fake Odoo 18 on 127.0.0.1 (random port) speaking real XML-RPC at `/xmlrpc/2/common`
 * and `/xmlrpc/2/object`, with the behaviour observed on a real server: `authenticate` returns
 * false on a bad login, faults 1/2/3/4 with Odoo's texts, domain evaluation, `phone_mobile_search`
 * semantics, `phone_sanitized`, escaped `message_post` bodies, `mail.activity` requiring
 * `res_model_id`, `action_feedback` posting to the chatter and deleting the activity.
 */
export async function startFakeOdoo(options: FakeOdooOptions = {}): Promise<FakeOdoo> {
  const database = options.database ?? 'odoo';
  const isAdmin = (options.apiUser ?? 'admin') === 'admin';
  const login = options.login ?? (isAdmin ? 'admin' : 'bridge');
  const apiUserEmail =
    options.apiUserEmail === undefined ? `${isAdmin ? 'admin' : 'bridge'}@example.com` : options.apiUserEmail;
  const transactionMs = options.transactionMs ?? 10;
  const apiKey = options.apiKey ?? 'fake-odoo-api-key';
  const password = options.password ?? 'admin';
  const withPhoneSearch = options.phoneMobileSearch ?? true;
  const withMobile = options.mobileField ?? true;
  const country = options.country ?? 'FR';
  const today = options.today ?? (() => new Date().toISOString().slice(0, 10));
  const latency = new Latency(options.latencyMs ?? 0);
  const uid = isAdmin ? 2 : 7;
  /** Followers committed, as `model,res_id,partner_id`. */
  const followerKeys = new Set<string>();
  /** Followers added by a transaction still open (not committed yet). */
  const pendingFollowers = new Set<string>();
  /** Followers the request being executed adds (committed when its transaction ends). */
  let transaction: Set<string> | undefined;
  const recorded = new RequestLog<FakeOdooRequest>();
  const faults = new FaultQueue<FakeOdooFault>();

  const models = new Map<string, ModelDef>();
  const defineModel = (name: string, description: string, fields: Record<string, FieldDef>) => {
    models.set(name, {
      name,
      description,
      fields: { id: { type: 'integer', string: 'ID', store: true }, ...fields },
      rows: new Map(),
      nextId: 1,
    });
  };
  const phoneFields = (): Record<string, FieldDef> => ({
    phone: char('Phone'),
    ...(withMobile ? { mobile: char('Mobile') } : {}),
    ...(withPhoneSearch
      ? { phone_sanitized: char('Sanitized Number'), phone_mobile_search: char('Phone/Mobile', false) }
      : {}),
  });

  const defineAll = () => {
    models.clear();
    defineModel('res.users', 'User', {
      name: char('Name'),
      login: char('Login'),
      email: char('Email'),
      partner_id: m2o('Related Partner', 'res.partner', true),
      share: { type: 'boolean', string: 'Share User', store: true },
      active: { type: 'boolean', string: 'Active', store: true },
    });
    defineModel('mail.followers', 'Document Followers', {
      res_model: char('Related Document Model Name'),
      res_id: { type: 'many2one_reference', string: 'Related Document ID', store: true },
      partner_id: m2o('Related Partner', 'res.partner', true),
    });
    defineModel('mail.mail', 'Outgoing Mails', {
      subject: char('Subject'),
      body_html: { type: 'html', string: 'Rich-text Contents', store: true },
      state: { type: 'selection', string: 'Status', store: true },
      mail_message_id: m2o('Message', 'mail.message'),
      recipient_ids: { type: 'char', string: 'To (Partners)', store: true },
    });
    defineModel('res.partner', 'Contact', {
      name: char('Name'),
      display_name: char('Display Name', false),
      is_company: { type: 'boolean', string: 'Is a Company', store: true },
      ...phoneFields(),
      email: char('Email'),
      ref: char('Reference'),
      comment: { type: 'html', string: 'Notes', store: true },
      user_id: m2o('Salesperson', 'res.users'),
      parent_id: m2o('Related Company', 'res.partner'),
      active: { type: 'boolean', string: 'Active', store: true },
      create_date: { type: 'datetime', string: 'Created on', store: true },
      write_date: { type: 'datetime', string: 'Last Updated on', store: true },
    });
    defineModel('crm.lead', 'Lead/Opportunity', {
      name: char('Opportunity'),
      display_name: char('Display Name', false),
      contact_name: char('Contact Name'),
      partner_name: char('Company Name'),
      ...phoneFields(),
      user_id: m2o('Salesperson', 'res.users'),
      partner_id: m2o('Customer', 'res.partner'),
      type: { type: 'selection', string: 'Type', store: true },
      active: { type: 'boolean', string: 'Active', store: true },
      create_date: { type: 'datetime', string: 'Created on', store: true },
      write_date: { type: 'datetime', string: 'Last Updated on', store: true },
    });
    defineModel('mail.message', 'Message', {
      model: char('Related Document Model'),
      res_id: { type: 'many2one_reference', string: 'Related Document ID', store: true },
      body: { type: 'html', string: 'Contents', store: true },
      message_type: { type: 'selection', string: 'Type', store: true },
      subtype_id: m2o('Subtype', 'mail.message.subtype'),
      mail_activity_type_id: m2o('Mail Activity Type', 'mail.activity.type'),
      author_id: m2o('Author', 'res.partner'),
      date: { type: 'datetime', string: 'Date', store: true },
    });
    defineModel('mail.message.subtype', 'Message subtypes', { name: char('Message Type') });
    defineModel('mail.activity', 'Activity', {
      res_model_id: m2o('Document Model', 'ir.model', true),
      res_model: char('Related Document Model'),
      res_id: { type: 'many2one_reference', string: 'Related Document ID', store: true, required: true },
      activity_type_id: m2o('Activity Type', 'mail.activity.type'),
      summary: char('Summary'),
      note: { type: 'html', string: 'Note', store: true },
      date_deadline: { type: 'date', string: 'Due Date', store: true, required: true },
      user_id: m2o('Assigned to', 'res.users', true),
      state: { type: 'selection', string: 'State', store: false },
      create_date: { type: 'datetime', string: 'Created on', store: true },
    });
    defineModel('mail.activity.type', 'Activity Type', {
      name: char('Name'),
      category: { type: 'selection', string: 'Action', store: true },
      res_model: char('Model'),
      keep_done: { type: 'boolean', string: 'Keep Done', store: true },
    });
    defineModel('ir.model', 'Models', { model: char('Model'), name: char('Model Description') });
    defineModel('ir.model.data', 'Model Data', {
      module: char('Module'),
      name: char('External Identifier'),
      model: char('Model Name'),
      res_id: { type: 'many2one_reference', string: 'Record ID', store: true },
    });
    const put = (model: string, id: number, values: FakeRecord) => {
      const def = models.get(model)!;
      def.rows.set(id, { id, ...values });
      def.nextId = Math.max(def.nextId, id + 1);
    };
    followerKeys.clear();
    pendingFollowers.clear();
    const user = (id: number, partnerId: number, name: string, values: FakeRecord) => {
      put('res.users', id, { name, partner_id: partnerId, share: false, active: true, ...values });
      const email = typeof values.email === 'string' ? values.email : false;
      put('res.partner', partnerId, { name, is_company: false, email, active: true });
    };
    user(1, 2, 'OdooBot', { login: '__system__', active: false, email: 'odoobot@example.com' });
    user(2, 3, 'Mitchell Admin', {
      login: isAdmin ? login : 'admin',
      email: isAdmin ? apiUserEmail : 'admin@example.com',
    });
    user(6, 7, 'Marc Demo', { login: 'demo', email: 'mark.brown23@example.com' });
    if (!isAdmin) user(7, 8, 'CTI Bridge', { login, email: apiUserEmail });
    Object.assign(models.get('res.partner')!.rows.get(3)!, {
      phone: '+1 555-555-5555',
      write_date: '2024-01-01 00:00:00',
    });
    refreshComputed('res.partner', models.get('res.partner')!.rows.get(3)!);
    models.get('res.partner')!.nextId = 100;
    put('mail.message.subtype', 1, { name: 'Discussions' });
    put('mail.message.subtype', 2, { name: 'Note' });
    put('mail.message.subtype', 3, { name: 'Activities' });
    put('mail.activity.type', 1, { name: 'Email', category: 'default', res_model: false, keep_done: false });
    put('mail.activity.type', 2, { name: 'Call', category: 'phonecall', res_model: false, keep_done: false });
    put('mail.activity.type', 4, { name: 'To-Do', category: 'default', res_model: false, keep_done: false });
    put('ir.model', 87, { model: 'res.partner', name: 'Contact' });
    put('ir.model', 92, { model: 'res.users', name: 'User' });
    put('ir.model', 214, { model: 'crm.lead', name: 'Lead/Opportunity' });
    put('ir.model', 120, { model: 'mail.activity', name: 'Activity' });
    const xmlids: Array<[string, string, string, number]> = [
      ['mail', 'mail_activity_data_email', 'mail.activity.type', 1],
      ['mail', 'mail_activity_data_call', 'mail.activity.type', 2],
      ['mail', 'mail_activity_data_todo', 'mail.activity.type', 4],
      ['mail', 'mt_comment', 'mail.message.subtype', 1],
      ['mail', 'mt_note', 'mail.message.subtype', 2],
      ['mail', 'mt_activities', 'mail.message.subtype', 3],
      ['base', 'user_admin', 'res.users', 2],
      ['base', 'model_res_partner', 'ir.model', 87],
    ];
    xmlids.forEach(([module, name, model, resId], index) => {
      put('ir.model.data', index + 1, { module, name, model, res_id: resId });
    });
  };

  function getModel(name: unknown): ModelDef {
    const model = typeof name === 'string' ? models.get(name) : undefined;
    if (!model) throw new OdooFault(2, `Object ${String(name)} doesn't exist`);
    return model;
  }

  function refreshComputed(modelName: string, row: FakeRecord) {
    if (!withPhoneSearch || (modelName !== 'res.partner' && modelName !== 'crm.lead')) return;
    // sms' res.partner: _phone_get_number_fields() = ['mobile', 'phone'], first sanitizable wins
    let sanitized: string | false = false;
    for (const field of ['mobile', 'phone']) {
      const value = row[field];
      if (typeof value !== 'string' || value === '') continue;
      const parsed = parsePhone(value, { defaultCountry: country });
      if (parsed.e164) {
        sanitized = parsed.e164;
        break;
      }
    }
    row.phone_sanitized = sanitized;
  }

  function displayName(model: ModelDef, row: FakeRecord): string {
    if (model.name === 'res.partner' && typeof row.parent_id === 'number') {
      const parent = model.rows.get(row.parent_id);
      if (parent) return `${String(parent.name)}, ${String(row.name)}`;
    }
    if (model.name === 'ir.model.data') return `${String(row.module)}.${String(row.name)}`;
    return typeof row.name === 'string' ? row.name : `${model.name},${String(row.id)}`;
  }

  function domainModel(model: ModelDef): DomainModel {
    return {
      name: model.name,
      hasField: (field) => field in model.fields,
      value: (row, field) => {
        const value = row[field];
        return value === undefined || value === null ? false : value;
      },
      customSearch: (field, operator, value) => {
        if (field !== 'phone_mobile_search') return undefined;
        const numberFields = ['mobile', 'phone'].filter((f) => f in model.fields);
        return phoneMobileSearch(numberFields, operator, value);
      },
    };
  }

  function readField(model: ModelDef, row: FakeRecord, field: string): unknown {
    const def = model.fields[field];
    if (!def) {
      throw tracebackFault(`ValueError: Invalid field '${field}' on model '${model.name}'`);
    }
    if (field === 'display_name') return displayName(model, row);
    if (field === 'phone_mobile_search') return false;
    if (field === 'state' && model.name === 'mail.activity') {
      const deadline = String(row.date_deadline);
      const day = today();
      return deadline < day ? 'overdue' : deadline === day ? 'today' : 'planned';
    }
    const value = row[field];
    if (def.type === 'many2one') {
      if (typeof value !== 'number') return false;
      const target = models.get(def.relation ?? '')?.rows.get(value);
      return target ? [value, displayName(models.get(def.relation!)!, target)] : false;
    }
    if (def.type === 'integer' || def.type === 'many2one_reference')
      return typeof value === 'number' ? value : 0;
    if (def.type === 'boolean') return value === true;
    return value === undefined || value === null || value === '' ? false : value;
  }

  function readRows(model: ModelDef, rows: FakeRecord[], fields: unknown): FakeRecord[] {
    const wanted =
      Array.isArray(fields) && fields.length > 0
        ? (fields as unknown[]).map(String)
        : Object.keys(model.fields).filter((f) => f !== 'phone_mobile_search');
    return rows.map((row) => {
      const out: FakeRecord = { id: row.id };
      for (const field of wanted) out[field] = readField(model, row, field);
      return out;
    });
  }

  function searchRows(model: ModelDef, domain: unknown, kw: Record<string, unknown>): FakeRecord[] {
    const predicate = compileDomain(domain, domainModel(model));
    const context = (kw.context && typeof kw.context === 'object' ? kw.context : {}) as Record<
      string,
      unknown
    >;
    const activeTest = context.active_test !== false && 'active' in model.fields;
    let rows = [...model.rows.values()].filter(
      (row) => (!activeTest || row.active !== false) && predicate(row),
    );
    const order = typeof kw.order === 'string' && kw.order.trim() !== '' ? kw.order : 'id';
    const keys = order.split(',').map((part) => {
      const [field = 'id', direction = 'asc'] = part.trim().split(/\s+/);
      return { field, desc: direction.toLowerCase() === 'desc' };
    });
    rows.sort((a, b) => {
      for (const { field, desc } of keys) {
        const x = a[field] as string | number | boolean | undefined;
        const y = b[field] as string | number | boolean | undefined;
        if (x === y) continue;
        const cmp = x === undefined || x === false ? -1 : y === undefined || y === false ? 1 : x < y ? -1 : 1;
        return desc ? -cmp : cmp;
      }
      return 0;
    });
    const offset = typeof kw.offset === 'number' ? kw.offset : 0;
    const limit = typeof kw.limit === 'number' && kw.limit > 0 ? kw.limit : undefined;
    rows = rows.slice(offset, limit === undefined ? undefined : offset + limit);
    return rows;
  }

  function idsOf(value: unknown): number[] {
    if (typeof value === 'number') return [value];
    if (Array.isArray(value) && value.every((v) => typeof v === 'number')) return value as number[];
    throw tracebackFault(`TypeError: expected ids, got ${JSON.stringify(value)}`);
  }

  function rowsOf(model: ModelDef, ids: number[]): FakeRecord[] {
    return ids.map((id) => {
      const row = model.rows.get(id);
      if (!row) {
        throw new OdooFault(
          2,
          `Record does not exist or has been deleted.\n(Record: ${model.name}(${id},), User: ${uid})`,
        );
      }
      return row;
    });
  }

  function validateVals(model: ModelDef, vals: unknown): Record<string, unknown> {
    if (!vals || typeof vals !== 'object' || Array.isArray(vals)) {
      throw tracebackFault(`TypeError: vals must be a dict, got ${JSON.stringify(vals)}`);
    }
    for (const [field, value] of Object.entries(vals)) {
      const def = model.fields[field];
      if (!def || field === 'id') {
        throw tracebackFault(`ValueError: Invalid field '${field}' on model '${model.name}'`);
      }
      if (def.type === 'many2one' && value !== false && typeof value !== 'number') {
        throw tracebackFault(
          `psycopg2.errors.InvalidTextRepresentation: invalid input syntax for type integer`,
        );
      }
    }
    return vals as Record<string, unknown>;
  }

  function mandatoryFault(model: ModelDef, field: string): OdooFault {
    return new OdooFault(
      2,
      'The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n' +
        '- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n' +
        `Model: ${model.description} (${model.name})\nField: ${model.fields[field]?.string} (${field})`,
    );
  }

  /** Observed: a foreign key to a missing row gives this generic text, naming no field. */
  function foreignKeyFault(): OdooFault {
    return new OdooFault(
      2,
      'The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n' +
        '- Delete: another model requires the record being deleted. If possible, archive it instead.',
    );
  }

  /** Observed for a non-admin user on `ir.model` / `ir.model.data` (code 4, the group named). */
  function accessFault(model: ModelDef): OdooFault {
    return new OdooFault(
      4,
      `You are not allowed to access '${model.description}' (${model.name}) records.\n\n` +
        'This operation is allowed for the following groups:\n\t- Administration/Access Rights\n\n' +
        'Contact your administrator to request access if necessary.',
    );
  }

  function userRow(id: number): FakeRecord | undefined {
    return models.get('res.users')!.rows.get(id);
  }

  function partnerOfUser(id: number): number | undefined {
    const partner = userRow(id)?.partner_id;
    return typeof partner === 'number' ? partner : undefined;
  }

  /**
   * Makes partners followers of a record, as Odoo does on activity creation and posting. Checked
   * before any side effect of the request: a follower that another open transaction is adding
   * makes this one fail on the unique constraint (and roll back), as observed under concurrency.
   */
  function follow(resModel: string, resId: number, partnerIds: Array<number | undefined>): void {
    const keys = [...new Set(partnerIds)]
      .filter((id): id is number => id !== undefined)
      .map((id) => `${resModel},${resId},${id}`)
      .filter((key) => !followerKeys.has(key) && !transaction?.has(key));
    if (keys.some((key) => pendingFollowers.has(key))) {
      throw new OdooFault(2, 'a partner cannot follow twice the same object.');
    }
    if (!transaction) {
      commit(new Set(keys)); // seeding, outside any request
      return;
    }
    for (const key of keys) {
      pendingFollowers.add(key);
      transaction.add(key);
    }
  }

  /** Ends a request's transaction: its followers become visible to everyone. */
  function commit(keys: Set<string> | undefined): void {
    if (!keys) return;
    const followers = models.get('mail.followers')!;
    for (const key of keys) {
      pendingFollowers.delete(key);
      if (followerKeys.has(key)) continue;
      followerKeys.add(key);
      const [resModel, resId, partnerId] = key.split(',');
      const id = followers.nextId++;
      followers.rows.set(id, {
        id,
        res_model: resModel,
        res_id: Number(resId),
        partner_id: Number(partnerId),
      });
    }
  }

  /** Observed: assigning an activity to another user notifies them and queues an e-mail. */
  function notifyAssignment(activity: FakeRecord): void {
    const assignee = userRow(activity.user_id as number);
    const partnerId = partnerOfUser(activity.user_id as number);
    const author = String(userRow(uid)?.name ?? 'OdooBot');
    const type = models.get('mail.activity.type')!.rows.get(activity.activity_type_id as number);
    const summary = escapeHtml(String(activity.summary || type?.name || 'Activity'));
    const body = `<div><p>Dear ${escapeHtml(String(assignee?.name ?? ''))},</p><p>${escapeHtml(author)} has just assigned you the following activity: ${summary}</p></div>`;
    const messageId = postMessage(String(activity.res_model), activity.res_id as number, {
      body,
      message_type: 'user_notification',
      subtype: 1,
    });
    const mails = models.get('mail.mail')!;
    const id = mails.nextId++;
    mails.rows.set(id, {
      id,
      subject: `${summary}: assigned to you`,
      body_html: body,
      state: 'outgoing',
      mail_message_id: messageId,
      recipient_ids: String(partnerId ?? ''),
    });
  }

  function createRow(
    model: ModelDef,
    vals: Record<string, unknown>,
    context: Record<string, unknown> = {},
  ): number {
    const row: FakeRecord = { ...vals };
    for (const [field, value] of Object.entries(row)) {
      const relation = model.fields[field]?.relation;
      if (model.fields[field]?.type !== 'many2one' || typeof value !== 'number' || relation === 'ir.model')
        continue;
      if (models.get(relation ?? '')?.rows.has(value) === false) throw foreignKeyFault();
    }
    if (model.name === 'mail.activity') {
      // Observed: without res_model_id, the model given as default_res_model in the context is used.
      if (row.res_model_id === undefined && typeof context.default_res_model === 'string') {
        const irModel = [...models.get('ir.model')!.rows.values()].find(
          (r) => r.model === context.default_res_model,
        );
        if (irModel) row.res_model_id = irModel.id;
      }
      if (typeof row.res_model_id !== 'number') throw mandatoryFault(model, 'res_model_id');
      const target = models.get('ir.model')!.rows.get(row.res_model_id);
      if (!target) throw tracebackFault('psycopg2.errors.ForeignKeyViolation: res_model_id not in ir_model');
      row.res_model = target.model;
      if (typeof row.res_id !== 'number' || row.res_id === 0) throw mandatoryFault(model, 'res_id');
      row.date_deadline =
        typeof row.date_deadline === 'string' && row.date_deadline ? row.date_deadline : today();
      row.user_id = typeof row.user_id === 'number' ? row.user_id : uid;
      follow(String(row.res_model), row.res_id, [partnerOfUser(row.user_id as number), partnerOfUser(uid)]);
    }
    if ('name' in model.fields && model.name !== 'mail.activity' && model.name !== 'ir.model.data') {
      if (typeof row.name !== 'string' || row.name === '') throw mandatoryFault(model, 'name');
    }
    if ('active' in model.fields && row.active === undefined) row.active = true;
    const id = model.nextId++;
    row.id = id;
    if ('create_date' in model.fields) row.create_date = nowString();
    if ('write_date' in model.fields) row.write_date = nowString();
    refreshComputed(model.name, row);
    // Observed: creating a contact makes the creator a follower and posts "Contact created".
    const created = model.name === 'res.partner' && transaction !== undefined;
    if (created) follow('res.partner', id, [partnerOfUser(uid)]);
    model.rows.set(id, row);
    if (
      model.name === 'mail.activity' &&
      row.user_id !== uid &&
      context.mail_activity_quick_update !== true
    ) {
      notifyAssignment(row);
    }
    if (created) {
      postMessage('res.partner', id, {
        body: '<p>Contact created</p>',
        message_type: 'notification',
        subtype: 2,
      });
    }
    return id;
  }

  function postMessage(
    resModel: string,
    resId: number,
    values: { body: string; message_type: string; subtype: number; activityType?: number },
  ): number {
    const messages = models.get('mail.message')!;
    const id = messages.nextId++;
    messages.rows.set(id, {
      id,
      model: resModel,
      res_id: resId,
      body: values.body,
      message_type: values.message_type,
      subtype_id: values.subtype,
      mail_activity_type_id: values.activityType ?? false,
      author_id: partnerOfUser(uid) ?? false,
      date: nowString(),
    });
    return id;
  }

  function kwargOr(kw: Record<string, unknown>, args: unknown[], name: string, index: number): unknown {
    return kw[name] !== undefined && kw[name] !== '' ? kw[name] : args[index];
  }

  function execute(
    modelName: unknown,
    method: unknown,
    args: unknown[],
    kw: Record<string, unknown>,
  ): unknown {
    if (typeof method !== 'string') throw tracebackFault('TypeError: method name must be a string');
    if (method.startsWith('_')) {
      throw new OdooFault(
        4,
        `Private methods (such as '${String(modelName)}.${method}') cannot be called remotely.`,
      );
    }
    const model = getModel(modelName);
    if (!isAdmin && (model.name === 'ir.model' || model.name === 'ir.model.data')) throw accessFault(model);
    const context = (kw.context && typeof kw.context === 'object' ? kw.context : {}) as Record<
      string,
      unknown
    >;
    switch (method) {
      case 'fields_get': {
        const attributes = kwargOr(kw, args, 'attributes', 1);
        const wanted =
          Array.isArray(attributes) && attributes.length > 0 ? attributes.map(String) : undefined;
        const out: Record<string, unknown> = {};
        for (const [name, def] of Object.entries(model.fields)) {
          const full: Record<string, unknown> = {
            type: def.type,
            string: def.string,
            store: def.store,
            required: def.required ?? false,
            ...(def.relation ? { relation: def.relation } : {}),
          };
          out[name] = wanted
            ? Object.fromEntries(wanted.filter((a) => a in full).map((a) => [a, full[a]]))
            : full;
        }
        return out;
      }
      case 'search':
        return searchRows(model, kwargOr(kw, args, 'domain', 0), {
          ...kw,
          offset: kwargOr(kw, args, 'offset', 1),
          limit: kwargOr(kw, args, 'limit', 2),
          order: kwargOr(kw, args, 'order', 3),
        }).map((row) => row.id);
      case 'search_count':
        return searchRows(model, kwargOr(kw, args, 'domain', 0), kw).length;
      case 'search_read': {
        const rows = searchRows(model, kwargOr(kw, args, 'domain', 0), {
          ...kw,
          offset: kwargOr(kw, args, 'offset', 2),
          limit: kwargOr(kw, args, 'limit', 3),
          order: kwargOr(kw, args, 'order', 4),
        });
        return readRows(model, rows, kwargOr(kw, args, 'fields', 1));
      }
      case 'read':
        return readRows(model, rowsOf(model, idsOf(args[0])), kwargOr(kw, args, 'fields', 1));
      case 'create': {
        const vals = kwargOr(kw, args, 'vals_list', 0);
        if (Array.isArray(vals)) return vals.map((v) => createRow(model, validateVals(model, v), context));
        return createRow(model, validateVals(model, vals), context);
      }
      case 'write': {
        const rows = rowsOf(model, idsOf(args[0]));
        const vals = validateVals(model, kwargOr(kw, args, 'vals', 1));
        for (const row of rows) {
          Object.assign(row, vals);
          if ('write_date' in model.fields) row.write_date = nowString();
          refreshComputed(model.name, row);
        }
        return true;
      }
      case 'unlink': {
        for (const row of rowsOf(model, idsOf(args[0]))) model.rows.delete(row.id as number);
        return true;
      }
      case 'check_object_reference': {
        if (model.name !== 'ir.model.data') break;
        const [module, name] = [args[0], args[1]];
        const row = [...model.rows.values()].find((r) => r.module === module && r.name === name);
        if (!row) {
          throw tracebackFault(
            `ValueError: External ID not found in the system: ${String(module)}.${String(name)}`,
          );
        }
        return [row.model, row.res_id];
      }
      case 'message_post': {
        if (model.name !== 'res.partner' && model.name !== 'crm.lead') break;
        const rows = rowsOf(model, idsOf(args[0]));
        if (rows.length !== 1)
          throw tracebackFault(`ValueError: Expected singleton: ${model.name}${JSON.stringify(args[0])}`);
        // Observed: a user without an e-mail address cannot post.
        if (!userRow(uid)?.email) {
          throw new OdooFault(2, "Unable to send message, please configure the sender's email address.");
        }
        follow(model.name, rows[0]!.id as number, [partnerOfUser(uid)]);
        const body = kw.body === undefined || kw.body === false ? '' : String(kw.body);
        const subtypeXmlid = typeof kw.subtype_xmlid === 'string' ? kw.subtype_xmlid : 'mail.mt_note';
        const subtype = subtypeXmlid === 'mail.mt_comment' ? 1 : subtypeXmlid === 'mail.mt_note' ? 2 : 2;
        // A str body sent over RPC is not Markup: Odoo escapes it, then wraps it in a paragraph.
        return postMessage(model.name, rows[0]!.id as number, {
          body: body === '' ? '' : `<p>${escapeHtml(body)}</p>`,
          message_type: typeof kw.message_type === 'string' ? kw.message_type : 'notification',
          subtype,
        });
      }
      case 'activity_schedule': {
        if (model.name !== 'res.partner' && model.name !== 'crm.lead') break;
        // Observed: the activity is created and committed, then marshalling the recordset fails.
        for (const row of rowsOf(model, idsOf(args[0]))) {
          const irModel = [...models.get('ir.model')!.rows.values()].find((r) => r.model === model.name);
          createRow(models.get('mail.activity')!, {
            res_model_id: irModel?.id,
            res_id: row.id,
            activity_type_id: 2,
            summary: typeof kw.summary === 'string' ? kw.summary : false,
            date_deadline: typeof kw.date_deadline === 'string' ? kw.date_deadline : today(),
          });
        }
        throw tracebackFault("TypeError: cannot marshal <class 'odoo.api.mail.activity'> objects");
      }
      case 'action_feedback':
      case 'action_done': {
        if (model.name !== 'mail.activity') break;
        const feedback = method === 'action_feedback' ? kwargOr(kw, args, 'feedback', 1) : undefined;
        let last = 0;
        for (const activity of rowsOf(model, idsOf(args[0]))) {
          const type = models.get('mail.activity.type')!.rows.get(activity.activity_type_id as number);
          follow(String(activity.res_model), activity.res_id as number, [partnerOfUser(uid)]);
          // Observed: "Call done (originally assigned to <user>): <summary>" when done by someone else.
          const assignee = activity.user_id !== uid ? userRow(activity.user_id as number)?.name : undefined;
          const lines = [
            `<div><p>${escapeHtml(String(type?.name ?? 'Activity'))} done${
              assignee !== undefined ? ` (originally assigned to ${escapeHtml(String(assignee))})` : ''
            }${activity.summary ? `: <span>${escapeHtml(String(activity.summary))}</span>` : ''}</p>`,
            activity.note ? `<div><b>Original note:</b><div>${String(activity.note)}</div></div>` : '',
            typeof feedback === 'string' && feedback !== ''
              ? `<div><b>Feedback:</b> ${feedback.split('\n').map(escapeHtml).join('<br>')}</div>`
              : '',
            '</div>',
          ];
          last = postMessage(String(activity.res_model), activity.res_id as number, {
            body: lines.join(''),
            message_type: 'notification',
            subtype: 3,
            ...(typeof activity.activity_type_id === 'number'
              ? { activityType: activity.activity_type_id }
              : {}),
          });
          if (type?.keep_done !== true) model.rows.delete(activity.id as number);
        }
        return last;
      }
      default:
        break;
    }
    throw tracebackFault(`AttributeError: type object '${model.name}' has no attribute '${method}'`);
  }

  function checkFaults(
    kind: 'lookup' | 'write' | 'auth',
    call: string | undefined,
  ): FakeOdooFault | undefined {
    return faults.take((f) => {
      const on = f.on ?? 'any';
      return (on === kind || (on === 'any' && kind !== 'auth')) && (f.call === undefined || f.call === call);
    });
  }

  function sanitizeArgs(args: unknown[]): unknown[] {
    return JSON.parse(JSON.stringify(args ?? [])) as unknown[];
  }

  function handle(service: string, method: string, params: unknown[]): unknown {
    if (service === 'common') {
      if (method === 'version') {
        const serie = options.version ?? '18.0';
        const [major = 18, minor = 0] = serie.split('.').map(Number);
        return {
          server_version: serie,
          server_version_info: [major, minor, 0, 'final', 0, ''],
          server_serie: serie,
          protocol_version: 1,
        };
      }
      if (method === 'authenticate' || method === 'login') {
        const [db, user, secret] = params;
        if (db !== database) {
          throw tracebackFault(
            `psycopg2.OperationalError: connection to server at "127.0.0.1", port 5432 failed: FATAL:  database "${String(db)}" does not exist`,
          );
        }
        return user === login && (secret === apiKey || secret === password) ? uid : false;
      }
      throw tracebackFault(`NameError: method not available ${method}`);
    }
    if (method !== 'execute_kw' && method !== 'execute') {
      throw tracebackFault(`NameError: method not available ${method}`);
    }
    const [db, callerUid, secret, model, call, args, kwargs] = params;
    if (db !== database) {
      throw tracebackFault(
        `psycopg2.OperationalError: connection to server at "127.0.0.1", port 5432 failed: FATAL:  database "${String(db)}" does not exist`,
      );
    }
    if (callerUid !== uid || (secret !== apiKey && secret !== password))
      throw new OdooFault(3, 'Access Denied');
    const positional = Array.isArray(args) ? args : [];
    const kw =
      kwargs && typeof kwargs === 'object' && !Array.isArray(kwargs)
        ? (kwargs as Record<string, unknown>)
        : {};
    return execute(model, call, positional, kw);
  }

  /**
   * Runs one request as a transaction: the followers it adds stay pending (visible to concurrent
   * requests as a conflict) until {@link commit}; a failed request adds none.
   */
  function inTransaction(run: () => unknown): { result: unknown; keys: Set<string> } {
    transaction = new Set();
    try {
      const result = run();
      return { result, keys: transaction };
    } catch (error) {
      for (const key of transaction) pendingFollowers.delete(key);
      throw error;
    } finally {
      transaction = undefined;
    }
  }

  function hasNone(value: unknown): boolean {
    if (value === null || value === undefined) return true;
    if (Array.isArray(value)) return value.some(hasNone);
    if (typeof value === 'object') return Object.values(value as object).some(hasNone);
    return false;
  }

  defineAll();
  const http = await listenFakeServer((req: IncomingMessage, res: ServerResponse) => {
    const match = /^\/xmlrpc\/2\/(common|object)\/?$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match) {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>404 Not Found</title><h1>Not Found</h1>');
      req.resume();
      return;
    }
    const service = match[1]!;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      new Deserializer().deserializeMethodCall(Readable.from([body]), (error, methodName, params) => {
        const respond = (xml: string) => {
          latency.schedule(() => {
            res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
            res.end(xml);
          });
        };
        if (error || !methodName) {
          respond(Serializer.serializeFault({ faultCode: 1, faultString: `ExpatError: ${error?.message}` }));
          return;
        }
        const list = params ?? [];
        const model = service === 'object' && typeof list[3] === 'string' ? list[3] : undefined;
        const call = service === 'object' && typeof list[4] === 'string' ? list[4] : undefined;
        const kind: 'lookup' | 'write' | 'auth' =
          service === 'common' ? 'auth' : call !== undefined && LOOKUP_METHODS.has(call) ? 'lookup' : 'write';
        const kwargs = list[6];
        recorded.record({
          service,
          method: methodName,
          ...(model ? { model } : {}),
          ...(call ? { call } : {}),
          kind,
          // credentials (db, uid, password) are never recorded
          args:
            service === 'common'
              ? sanitizeArgs(list.slice(0, 2))
              : sanitizeArgs(Array.isArray(list[5]) ? (list[5] as unknown[]) : []),
          ...(kwargs && typeof kwargs === 'object' && !Array.isArray(kwargs)
            ? { kwargs: JSON.parse(JSON.stringify(kwargs)) as Record<string, unknown> }
            : {}),
        });
        const fault = checkFaults(kind, call);
        if (fault?.afterExecute) {
          try {
            commit(inTransaction(() => handle(service, methodName, list)).keys);
          } catch {
            // the side effect is what matters here
          }
        }
        if (fault?.dropConnection) {
          res.socket?.destroy();
          return;
        }
        if (fault?.httpStatus) {
          latency.schedule(() => {
            res.writeHead(fault.httpStatus!, {
              'content-type': 'text/html',
              ...(fault.retryAfterSeconds !== undefined
                ? { 'retry-after': String(fault.retryAfterSeconds) }
                : {}),
            });
            res.end(`<html><body><h1>${fault.httpStatus} Error</h1></body></html>`);
          });
          return;
        }
        if (fault?.fault) {
          respond(
            Serializer.serializeFault({ faultCode: fault.fault.code, faultString: fault.fault.message }),
          );
          return;
        }
        try {
          const { result, keys } = inTransaction(() => handle(service, methodName, list));
          if (hasNone(result)) {
            commit(keys);
            throw tracebackFault('TypeError: cannot marshal None unless allow_none is enabled');
          }
          const xml = Serializer.serializeMethodResponse(result);
          if (keys.size === 0) return respond(xml);
          // the transaction stays open for transactionMs, then commits just before the answer
          latency.schedule(() => {
            commit(keys);
            res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
            res.end(xml);
          }, transactionMs);
        } catch (thrown) {
          const faultValue =
            thrown instanceof OdooFault
              ? { faultCode: thrown.faultCode, faultString: thrown.message }
              : { faultCode: 1, faultString: `Traceback (most recent call last):\n${String(thrown)}` };
          respond(Serializer.serializeFault(faultValue));
        }
      });
    });
  });

  const filterBy = (model: string, resModel?: string, resId?: number) =>
    [...getModel(model).rows.values()].filter(
      (row) =>
        (resModel === undefined || row.model === resModel || row.res_model === resModel) &&
        (resId === undefined || row.res_id === resId),
    );

  return {
    url: http.url,
    database,
    login,
    apiKey,
    uid,
    requests: () => recorded.list(),
    clearRequests: () => {
      recorded.clear();
    },
    injectFault: (fault) => {
      faults.inject(fault);
    },
    setLatency: (ms) => {
      latency.set(ms);
    },
    seedPartner: (input) => {
      const partners = getModel('res.partner');
      const id = createRow(partners, {
        name: input.name,
        is_company: input.isCompany ?? false,
        ...(input.phone !== undefined ? { phone: input.phone } : {}),
        ...(input.mobile !== undefined && withMobile ? { mobile: input.mobile } : {}),
        ...(input.email !== undefined ? { email: input.email } : {}),
        ...(input.userId !== undefined ? { user_id: input.userId } : {}),
        ...(input.parentId !== undefined ? { parent_id: input.parentId } : {}),
      });
      if (input.writeDate) partners.rows.get(id)!.write_date = odooDatetime(input.writeDate);
      return id;
    },
    seedLead: (input) =>
      createRow(getModel('crm.lead'), {
        name: input.name,
        type: 'lead',
        ...(input.contactName !== undefined ? { contact_name: input.contactName } : {}),
        ...(input.partnerName !== undefined ? { partner_name: input.partnerName } : {}),
        ...(input.phone !== undefined ? { phone: input.phone } : {}),
        ...(input.mobile !== undefined && withMobile ? { mobile: input.mobile } : {}),
        ...(input.userId !== undefined ? { user_id: input.userId } : {}),
      }),
    seedUser: (name, userLogin, extra = {}) => {
      const email = extra.email ?? `${(userLogin ?? name).replace(/\W+/g, '.').toLowerCase()}@example.com`;
      const partnerId = createRow(getModel('res.partner'), { name, email, is_company: false });
      return createRow(getModel('res.users'), {
        name,
        login: userLogin ?? name,
        email,
        partner_id: partnerId,
        share: extra.share ?? false,
        active: extra.active ?? true,
      });
    },
    followers: (model, resId) =>
      [...getModel('mail.followers').rows.values()]
        .filter((row) => row.res_model === model && row.res_id === resId)
        .map((row) => row.partner_id as number),
    notifications: () =>
      [...getModel('mail.message').rows.values()].filter((row) => row.message_type === 'user_notification'),
    mails: () => [...getModel('mail.mail').rows.values()],
    records: (model) => [...getModel(model).rows.values()].map((row) => ({ ...row })),
    messages: (model, resId) => filterBy('mail.message', model, resId),
    activities: (model, resId) => filterBy('mail.activity', model, resId),
    reset: () => {
      defineAll();
      recorded.clear();
      faults.clear();
    },
    close: () => http.close(),
  };
}
