import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { digitsOf, parsePhone } from '@cti-bridge/core';
import { FaultQueue, listenFakeServer, RequestLog } from '@cti-bridge/core/testing';

/** Object types the fake stores. */
export type FakeObjectType = 'contacts' | 'companies' | 'calls' | 'tasks';

/** One record in the fake. Property values are strings, as HubSpot returns them. */
export interface FakeRecord {
  readonly id: string;
  readonly type: FakeObjectType;
  readonly properties: Record<string, string>;
  readonly createdAt: number;
  updatedAt: number;
  /** When the record becomes visible to search (index lag). */
  indexedAt: number;
  readonly associations: Array<{ toType: FakeObjectType; toId: string; typeId: number }>;
}

/** A HubSpot owner (`/crm/v3/owners`). */
export interface FakeOwner {
  readonly id: string;
  readonly email: string;
  readonly firstName?: string;
  readonly lastName?: string;
}

/** Which requests a fault targets: searches, writes (create/update), reads (GET), OAuth, or any. */
export type FakeFaultTarget = 'search' | 'write' | 'read' | 'auth' | 'any';

/** A fault the fake applies to the next matching requests. */
export type FakeFault =
  | {
      /** Answer with this status and HubSpot's error body for it. */
      readonly kind?: 'status';
      readonly status: number;
      readonly on?: FakeFaultTarget;
      readonly times?: number | undefined;
      /** Sets `Retry-After` (seconds). */
      readonly retryAfterSeconds?: number | undefined;
      /** For 429s: which limit (default TEN_SECONDLY_ROLLING). */
      readonly policy?: 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY';
      /** Only requests whose path contains this (e.g. `/companies/search`). */
      readonly path?: string;
    }
  | {
      /** Perform the request (the write happens), then drop the connection without an answer. */
      readonly kind: 'drop-after-commit';
      readonly on?: FakeFaultTarget;
      readonly times?: number;
    }
  | {
      /**
       * A batch create where these inputs (by index) fail and the rest are created: HubSpot's 207
       * with per-input errors. `category` of each error (default VALIDATION_ERROR; e.g.
       * `INTERNAL_ERROR` for a transient failure).
       */
      readonly kind: 'partial';
      readonly inputs: readonly number[];
      readonly category?: string;
      readonly on?: FakeFaultTarget;
      readonly times?: number;
    }
  | {
      /** Never answer and do nothing (a hung HubSpot): the connection stays open until the client closes it. */
      readonly kind: 'hang';
      readonly on?: FakeFaultTarget;
      readonly times?: number;
    }
  | {
      /**
       * Hold the request before performing it (a HubSpot queue), even when the client has gone
       * meanwhile: the write lands after a client that timed out stopped waiting. Held `ms`, or until
       * `until` settles (a test releases the write exactly when it wants, with no race on real time).
       */
      readonly kind: 'late-commit';
      readonly ms?: number;
      readonly until?: PromiseLike<unknown>;
      readonly on?: FakeFaultTarget;
      readonly times?: number;
    }
  | {
      /** Perform the request (the write happens), then hold the answer for `ms` (client timeouts). */
      readonly kind: 'delay';
      readonly ms: number;
      readonly on?: FakeFaultTarget;
      readonly times?: number;
    };

/** One request as the fake saw it. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly family: Exclude<FakeFaultTarget, 'any'>;
  readonly status: number;
  /** Short description of the body: filters, property names, batch size. */
  readonly summary: string;
  readonly at: number;
}

/** Options of {@link startFakeHubSpot}. */
export interface FakeHubSpotOptions {
  /** Private app token the fake accepts (default `pat-na1-fake-0000`). */
  readonly accessToken?: string;
  readonly portalId?: number;
  readonly uiDomain?: string;
  /** Delay before a new record is searchable (default 2 s, as HubSpot's index lags). */
  readonly indexLagMs?: number;
  /**
   * UTC offset of the account's time zone, in minutes (default -300, US Eastern): the daily
   * quota resets at the account's midnight (`resetsAt` of the usage endpoint), not UTC's.
   */
  readonly accountUtcOffsetMinutes?: number;
  /** Country used to compute `hs_searchable_calculated_*` from numbers without a country code. */
  readonly defaultCountry?: string;
  /** Per-app limits; `false` turns them off. Default 190 per 10 s, 5 searches per second. */
  readonly rateLimit?:
    | false
    | {
        readonly max?: number;
        readonly intervalMs?: number;
        readonly daily?: number;
        readonly searchPerSecond?: number;
      };
  /** OAuth app: refresh grants issue access tokens valid for `accessTokenTtlSeconds` (default 1800). */
  readonly oauth?: {
    readonly clientId: string;
    readonly clientSecret: string;
    readonly refreshToken: string;
    readonly accessTokenTtlSeconds?: number;
  };
  readonly clock?: () => number;
}

/** The running fake. */
export interface FakeHubSpot {
  /** Base URL to give the client as `basePath` (`http://127.0.0.1:PORT`). */
  readonly url: string;
  readonly accessToken: string;
  readonly portalId: number;
  /** Stores a contact or company as given (numbers untouched); searchable after the index lag unless `indexed`. */
  seed(
    type: 'contacts' | 'companies',
    properties: Record<string, string>,
    options?: { readonly indexed?: boolean },
  ): FakeRecord;
  /** Adds an owner; returns its id. */
  seedOwner(owner: Omit<FakeOwner, 'id'> & { readonly id?: string }): string;
  /** Records of one type, in creation order. */
  records(type: FakeObjectType): FakeRecord[];
  /** Every request received, in order. */
  requests(): RecordedRequest[];
  clearRequests(): void;
  inject(fault: FakeFault): void;
  /** Makes every record searchable now. */
  flushIndex(): void;
  setIndexLag(ms: number): void;
  /** Expires every OAuth access token issued so far (the next use gets 401 EXPIRED_AUTHENTICATION). */
  expireTokens(): void;
  /** Accepted requests counted against the 10-second window: the most seen in any window, and 429s sent. */
  rateStats(): { readonly maxInWindow: number; readonly rejected: number; readonly accepted: number };
  /** Removes records, faults, recorded requests and rate counters (owners and OAuth tokens stay). */
  reset(): void;
  /** TCP connections open to the fake now (a client that leaks sockets shows here). */
  openConnections(): Promise<number>;
  close(): Promise<void>;
}

const DEFAULT_DISPOSITIONS = [
  { id: '9d9162e7-6cf3-4944-bf63-4dff82258764', label: 'Busy' },
  { id: 'f240bbac-87c9-4f6e-bf70-924b57d47db7', label: 'Connected' },
  { id: 'a4c4c377-d246-4b32-a13b-75a56a4cd0ff', label: 'Left live message' },
  { id: 'b2cf5968-551e-4856-9783-52b3da59a7d0', label: 'Left voicemail' },
  { id: '73a0d17f-1163-4015-bdd5-ec830791da20', label: 'No answer' },
  { id: '17b47fee-58de-441e-a44c-c6300d46f273', label: 'Wrong number' },
];

const DEFAULT_PROPERTIES: Record<FakeObjectType, readonly string[]> = {
  contacts: ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'],
  companies: ['createdate', 'domain', 'hs_lastmodifieddate', 'hs_object_id', 'name'],
  calls: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'],
  tasks: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'],
};

/** Properties the fake accepts on calls and tasks (HubSpot rejects unknown property names). */
const WRITABLE: Partial<Record<FakeObjectType, ReadonlySet<string>>> = {
  calls: new Set([
    'hs_timestamp',
    'hs_call_title',
    'hs_call_body',
    'hs_call_direction',
    'hs_call_duration',
    'hs_call_status',
    'hs_call_disposition',
    'hs_call_from_number',
    'hs_call_to_number',
    'hs_call_external_id',
    'hs_call_external_account_id',
    'hs_call_app_id',
    'hs_call_source',
    'hs_call_recording_url',
    'hs_activity_type',
    'hs_attachment_ids',
    'hubspot_owner_id',
  ]),
  tasks: new Set([
    'hs_timestamp',
    'hs_task_subject',
    'hs_task_body',
    'hs_task_status',
    'hs_task_priority',
    'hs_task_type',
    'hs_task_reminders',
    'hubspot_owner_id',
  ]),
};

const ENUMS: Record<string, readonly string[]> = {
  hs_call_direction: ['INBOUND', 'OUTBOUND'],
  hs_call_status: [
    'BUSY',
    'CALLING_CRM_USER',
    'CANCELED',
    'COMPLETED',
    'CONNECTING',
    'FAILED',
    'IN_PROGRESS',
    'NO_ANSWER',
    'QUEUED',
    'RINGING',
    'MISSED',
  ],
  hs_call_source: ['INTEGRATIONS_PLATFORM'],
  hs_task_status: ['NOT_STARTED', 'IN_PROGRESS', 'WAITING', 'COMPLETED', 'DEFERRED'],
  hs_task_priority: ['NONE', 'LOW', 'MEDIUM', 'HIGH'],
  hs_task_type: ['CALL', 'EMAIL', 'TODO', 'LINKED_IN', 'MEETING'],
};

const DATE_PROPERTIES = new Set([
  'hs_timestamp',
  'createdate',
  'lastmodifieddate',
  'hs_createdate',
  'hs_lastmodifieddate',
  'notes_last_updated',
]);

/** HUBSPOT_DEFINED association types the fake knows, per source object: type id → target object. */
const ASSOCIATION_TYPES: Partial<Record<FakeObjectType, Record<number, FakeObjectType>>> = {
  calls: { 194: 'contacts', 182: 'companies' },
  tasks: { 204: 'contacts', 192: 'companies' },
  contacts: { 279: 'companies', 1: 'companies' },
  companies: { 280: 'contacts', 2: 'contacts' },
};

const OPERATORS = new Set([
  'EQ',
  'NEQ',
  'LT',
  'LTE',
  'GT',
  'GTE',
  'BETWEEN',
  'IN',
  'NOT_IN',
  'HAS_PROPERTY',
  'NOT_HAS_PROPERTY',
  'CONTAINS_TOKEN',
  'NOT_CONTAINS_TOKEN',
]);

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.message ?? status));
  }
}

function errorBody(
  message: string,
  category: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { status: 'error', message, correlationId: randomUUID(), category, ...extra };
}

/** Calculated properties each object type has (the rest of the `hs_searchable_calculated_*` do not exist). */
const CALCULATED_PROPERTIES: Readonly<Record<string, readonly string[]>> = {
  contacts: [
    'hs_searchable_calculated_phone_number',
    'hs_searchable_calculated_mobile_number',
    'hs_searchable_calculated_international_phone_number',
    'hs_searchable_calculated_international_mobile_number',
  ],
};

/** Whether a property exists on a type, as far as the fake models it. */
function propertyExists(type: string, name: string): boolean {
  if (!name.startsWith('hs_searchable_calculated_')) return true;
  return CALCULATED_PROPERTIES[type]?.includes(name) ?? false;
}

/**
 * Default delay before a new record is found by search: HubSpot's search index is not
 * immediate (a record just created is not found at once), so neither is the fake's.
 */
const DEFAULT_INDEX_LAG_MS = 2_000;

/** Longest search request body HubSpot accepts, in characters. */
const MAX_SEARCH_BODY = 3_000;

function validation(message: string, errors?: unknown[]): HttpFailure {
  return new HttpFailure(400, errorBody(message, 'VALIDATION_ERROR', errors ? { errors } : {}));
}

interface Filter {
  propertyName?: unknown;
  operator?: unknown;
  value?: unknown;
  values?: unknown;
  highValue?: unknown;
}

/**
 * Starts a fake HubSpot on 127.0.0.1 (port 0) that `@hubspot/api-client` 13.5 talks to unmodified
 * (`basePath: fake.url`): contact, company, call and task search with filterGroups semantics and
 * limits, `hs_searchable_calculated_*` numbers, call creation (single and batch) with validation of
 * properties, outcomes, owners and association types, owners, account details, OAuth refresh with
 * expiring tokens, HubSpot's error bodies, the per-app 10-second and per-second search limits with
 * their headers, injectable faults and search index lag.
 */
export async function startFakeHubSpot(options: FakeHubSpotOptions = {}): Promise<FakeHubSpot> {
  const now = options.clock ?? Date.now;
  const accessToken = options.accessToken ?? 'pat-na1-fake-0000';
  const portalId = options.portalId ?? 4_242_424;
  const defaultCountry = options.defaultCountry ?? 'FR';
  const limits =
    options.rateLimit === false
      ? undefined
      : {
          max: options.rateLimit?.max ?? 190,
          intervalMs: options.rateLimit?.intervalMs ?? 10_000,
          daily: options.rateLimit?.daily ?? 1_000_000,
          searchPerSecond: options.rateLimit?.searchPerSecond ?? 5,
        };
  let indexLagMs = options.indexLagMs ?? DEFAULT_INDEX_LAG_MS;
  /** When the account's day starts again: the next midnight in the account's time zone. */
  const dailyResetsAt = () => {
    const offsetMs = (options.accountUtcOffsetMinutes ?? -300) * 60_000;
    const local = now() + offsetMs;
    return Math.floor(local / 86_400_000 + 1) * 86_400_000 - offsetMs;
  };
  let nextId = 1001;
  const store: Record<FakeObjectType, Map<string, FakeRecord>> = {
    contacts: new Map(),
    companies: new Map(),
    calls: new Map(),
    tasks: new Map(),
  };
  const owners = new Map<string, FakeOwner>();
  let oauthTokens = new Map<string, number>();
  const faults = new FaultQueue<FakeFault>();
  const recorded = new RequestLog<RecordedRequest>();
  let windowGrants: number[] = [];
  let searchGrants: number[] = [];
  let dayCount = 0;
  let stats = { maxInWindow: 0, rejected: 0, accepted: 0 };

  const calculated = (value: string | undefined): string | undefined => {
    if (!value || value.trim() === '') return undefined;
    const parsed = parsePhone(value, { defaultCountry });
    return parsed.nationalNumber ?? (digitsOf(value).replace(/^0+/, '') || undefined);
  };

  const stamp = (record: FakeRecord) => {
    const p = record.properties;
    p.hs_object_id = record.id;
    const created = new Date(record.createdAt).toISOString();
    const updated = new Date(record.updatedAt).toISOString();
    if (record.type === 'contacts') {
      p.createdate ??= created;
      p.lastmodifieddate = updated;
    } else if (record.type === 'companies') {
      p.createdate ??= created;
      p.hs_lastmodifieddate = updated;
    } else {
      p.hs_createdate ??= created;
      p.hs_lastmodifieddate = updated;
    }
    // The searchable calculated numbers are documented for contacts only (companies: no evidence).
    if (record.type === 'contacts') {
      const phone = calculated(p.phone);
      if (phone) p.hs_searchable_calculated_phone_number = phone;
      else delete p.hs_searchable_calculated_phone_number;
      const mobile = calculated(p.mobilephone);
      if (mobile) p.hs_searchable_calculated_mobile_number = mobile;
      else delete p.hs_searchable_calculated_mobile_number;
    }
  };

  const insert = (
    type: FakeObjectType,
    properties: Record<string, string>,
    associations: FakeRecord['associations'] = [],
    indexed = false,
  ): FakeRecord => {
    const at = now();
    const record: FakeRecord = {
      id: String(nextId++),
      type,
      properties: { ...properties },
      createdAt: at,
      updatedAt: at,
      indexedAt: indexed ? 0 : at + indexLagMs,
      associations: [...associations],
    };
    stamp(record);
    store[type].set(record.id, record);
    return record;
  };

  const view = (record: FakeRecord, requested?: readonly string[]) => {
    const names =
      requested && requested.length > 0 ? [...requested, ...DEFAULT_PROPERTIES[record.type]] : undefined;
    const properties: Record<string, string | null> = {};
    if (names) for (const name of new Set(names)) properties[name] = record.properties[name] ?? null;
    else Object.assign(properties, record.properties);
    return {
      id: record.id,
      properties,
      createdAt: new Date(record.createdAt).toISOString(),
      updatedAt: new Date(record.updatedAt).toISOString(),
      archived: false,
    };
  };

  // ------------------------------------------------------------ search

  const comparable = (property: string, value: string): number | string => {
    if (DATE_PROPERTIES.has(property)) {
      const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
      if (!Number.isNaN(ms)) return ms;
    }
    if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
    return value.toLowerCase();
  };

  const inValue = (property: string, value: string): number | string => {
    const c = comparable(property, value);
    return typeof c === 'number' ? c : value;
  };

  const tokens = (value: string) =>
    value
      .toLowerCase()
      .split(/[^\p{L}\p{N}@._+-]+/u)
      .filter(Boolean);

  const tokenMatches = (stored: string, pattern: string) => {
    const regex = new RegExp(
      `^${pattern
        .toLowerCase()
        .split('*')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
    return tokens(stored).some((token) => regex.test(token)) || regex.test(stored.toLowerCase());
  };

  const filterMatches = (record: FakeRecord, filter: Filter): boolean => {
    const property = String(filter.propertyName);
    const stored = record.properties[property];
    const has = stored !== undefined && stored !== '';
    const value =
      typeof filter.value === 'string' || typeof filter.value === 'number' ? String(filter.value) : undefined;
    const values = Array.isArray(filter.values) ? filter.values.map(String) : [];
    const cmp = (a: number | string, b: number | string) => (a < b ? -1 : a > b ? 1 : 0);
    switch (filter.operator) {
      case 'HAS_PROPERTY':
        return has;
      case 'NOT_HAS_PROPERTY':
        return !has;
      case 'EQ':
        return has && comparable(property, stored) === comparable(property, value ?? '');
      case 'NEQ':
        return !has || comparable(property, stored) !== comparable(property, value ?? '');
      // IN / NOT_IN on a string property compare the stored value, lowercased, with the values as
      // sent: HubSpot documents that they must be lowercase (a mixed-case value matches nothing).
      case 'IN':
        return has && values.some((v) => comparable(property, stored) === inValue(property, v));
      case 'NOT_IN':
        return !has || values.every((v) => comparable(property, stored) !== inValue(property, v));
      case 'CONTAINS_TOKEN':
        return has && tokenMatches(stored, value ?? '');
      case 'NOT_CONTAINS_TOKEN':
        return !has || !tokenMatches(stored, value ?? '');
      case 'LT':
        return has && cmp(comparable(property, stored), comparable(property, value ?? '')) < 0;
      case 'LTE':
        return has && cmp(comparable(property, stored), comparable(property, value ?? '')) <= 0;
      case 'GT':
        return has && cmp(comparable(property, stored), comparable(property, value ?? '')) > 0;
      case 'GTE':
        return has && cmp(comparable(property, stored), comparable(property, value ?? '')) >= 0;
      case 'BETWEEN': {
        const high = String(filter.highValue ?? '');
        const c = comparable(property, stored ?? '');
        return (
          has && cmp(c, comparable(property, value ?? '')) >= 0 && cmp(c, comparable(property, high)) <= 0
        );
      }
      default:
        return false;
    }
  };

  const search = (type: FakeObjectType, body: unknown) => {
    if (typeof body !== 'object' || body === null) throw validation('Invalid input JSON on line 1');
    const request = body as {
      filterGroups?: unknown;
      limit?: unknown;
      after?: unknown;
      properties?: unknown;
      query?: unknown;
      sorts?: unknown;
    };
    const groups = (Array.isArray(request.filterGroups) ? request.filterGroups : []) as Array<{
      filters?: unknown;
    }>;
    if (groups.length > 5) {
      throw validation(
        `There was a problem with the request. Too many filter groups (${groups.length}); the maximum is 5.`,
      );
    }
    let total = 0;
    for (const group of groups) {
      const filters = Array.isArray(group?.filters) ? (group.filters as Filter[]) : [];
      if (filters.length > 6) {
        throw validation(`Too many filters in a filter group (${filters.length}); the maximum is 6.`);
      }
      total += filters.length;
      for (const filter of filters) {
        if (typeof filter.propertyName !== 'string' || !OPERATORS.has(String(filter.operator))) {
          throw validation(`Invalid filter: ${JSON.stringify(filter)}`);
        }
        if (!propertyExists(type, filter.propertyName)) {
          throw validation(
            `There was a problem with the request. Unable to find property ${filter.propertyName} on ${type}.`,
          );
        }
        if (['IN', 'NOT_IN'].includes(String(filter.operator)) && !Array.isArray(filter.values)) {
          throw validation(`Operator ${String(filter.operator)} requires "values".`);
        }
        if (
          ['EQ', 'NEQ', 'LT', 'LTE', 'GT', 'GTE', 'BETWEEN', 'CONTAINS_TOKEN', 'NOT_CONTAINS_TOKEN'].includes(
            String(filter.operator),
          ) &&
          filter.value === undefined
        ) {
          throw validation(`Operator ${String(filter.operator)} requires "value".`);
        }
      }
    }
    if (total > 18)
      throw validation(`Too many filters (${total}); the maximum across all filter groups is 18.`);
    const limit = request.limit === undefined ? 10 : Number(request.limit);
    if (!Number.isInteger(limit) || limit < 0 || limit > 200) {
      throw validation(`limit must be between 0 and 200 (was ${String(request.limit)}).`);
    }
    const offset = request.after === undefined ? 0 : Number(request.after);
    if (!Number.isInteger(offset) || offset < 0) throw validation('Invalid "after" paging token.');
    if (offset >= 10_000) throw validation('Paging is limited to 10,000 results.');
    const query = typeof request.query === 'string' ? request.query.trim().toLowerCase() : '';
    const at = now();
    const matched = [...store[type].values()].filter((record) => {
      if (record.indexedAt > at) return false;
      if (query) {
        const text = ['firstname', 'lastname', 'email', 'phone', 'mobilephone', 'company', 'name', 'domain']
          .map((name) => record.properties[name] ?? '')
          .join(' ');
        if (!tokens(text).some((token) => token.startsWith(query))) return false;
      }
      if (groups.length === 0) return true;
      return groups.some((group) =>
        ((group.filters as Filter[]) ?? []).every((f) => filterMatches(record, f)),
      );
    });
    const sorts = Array.isArray(request.sorts) ? request.sorts : [];
    const sort = sorts[0] as string | { propertyName?: string; direction?: string } | undefined;
    if (sort) {
      const name = typeof sort === 'string' ? sort.replace(/^-/, '') : String(sort.propertyName);
      const descending = typeof sort === 'string' ? sort.startsWith('-') : sort.direction === 'DESCENDING';
      matched.sort((a, b) => {
        const x = comparable(name, a.properties[name] ?? '');
        const y = comparable(name, b.properties[name] ?? '');
        return (x < y ? -1 : x > y ? 1 : 0) * (descending ? -1 : 1);
      });
    } else {
      matched.sort((a, b) => Number(a.id) - Number(b.id));
    }
    const properties = Array.isArray(request.properties) ? request.properties.map(String) : undefined;
    const page = matched.slice(offset, offset + limit);
    return {
      total: matched.length,
      results: page.map((record) => view(record, properties)),
      ...(offset + limit < matched.length ? { paging: { next: { after: String(offset + limit) } } } : {}),
    };
  };

  // ------------------------------------------------------------ writes

  const validateInput = (type: FakeObjectType, input: unknown, index?: number) => {
    const where = index === undefined ? '' : ` (input ${index})`;
    if (typeof input !== 'object' || input === null) throw validation(`Invalid input${where}.`);
    const { properties, associations } = input as { properties?: unknown; associations?: unknown };
    if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) {
      throw validation(`"properties" is required${where}.`);
    }
    const props: Record<string, string> = {};
    const errors: Array<Record<string, unknown>> = [];
    for (const [name, raw] of Object.entries(properties as Record<string, unknown>)) {
      if (raw === null || raw === undefined) continue;
      if (typeof raw === 'object') {
        errors.push({ message: `Property values must be scalars: ${name}`, code: 'INVALID_OPTION' });
        continue;
      }
      const value = String(raw);
      const allowed = WRITABLE[type];
      if (allowed && !allowed.has(name)) {
        errors.push({
          message: `Property "${name}" does not exist`,
          code: 'PROPERTY_DOESNT_EXIST',
          context: { propertyName: [name] },
        });
        continue;
      }
      const options = ENUMS[name];
      if (options && !options.includes(value)) {
        errors.push({
          message: `${value} was not one of the allowed options: ${options.join(', ')}`,
          code: 'INVALID_OPTION',
          context: { propertyName: [name] },
        });
      }
      if (name === 'hs_call_duration' && !/^\d+$/.test(value)) {
        errors.push({
          message: `${value} is not a valid integer`,
          code: 'INVALID_INTEGER',
          context: { propertyName: [name] },
        });
      }
      if (name === 'hs_call_disposition' && !DEFAULT_DISPOSITIONS.some((d) => d.id === value)) {
        errors.push({
          message: `${value} is not a valid call outcome`,
          code: 'INVALID_OPTION',
          context: { propertyName: [name] },
        });
      }
      if (name === 'hubspot_owner_id' && !owners.has(value)) {
        errors.push({
          message: `${value} is not a valid owner id`,
          code: 'INVALID_OWNER_ID',
          context: { propertyName: [name] },
        });
      }
      if (
        DATE_PROPERTIES.has(name) &&
        Number.isNaN(/^\d+$/.test(value) ? Number(value) : Date.parse(value))
      ) {
        errors.push({
          message: `${value} is not a valid datetime`,
          code: 'INVALID_DATE',
          context: { propertyName: [name] },
        });
      }
      props[name] = value;
    }
    if ((type === 'calls' || type === 'tasks') && !props.hs_timestamp) {
      errors.push({
        message: 'Property "hs_timestamp" is required',
        code: 'REQUIRED_PROPERTY',
        context: { propertyName: ['hs_timestamp'] },
      });
    }
    if (errors.length > 0) {
      // HubSpot puts the property errors as a JSON document inside the message string
      const detail = errors.map((e) => ({
        isValid: false,
        message: e.message,
        error: e.code,
        name: (e.context as { propertyName?: string[] } | undefined)?.propertyName?.[0] ?? '',
      }));
      throw validation(`Property values were not valid${where}: ${JSON.stringify(detail)}`, errors);
    }
    const links: FakeRecord['associations'] = [];
    if (associations !== undefined) {
      if (!Array.isArray(associations)) throw validation(`"associations" must be an array${where}.`);
      for (const association of associations as Array<{ to?: { id?: unknown }; types?: unknown }>) {
        const toId = String(association?.to?.id ?? '');
        const types = Array.isArray(association?.types)
          ? (association.types as Array<Record<string, unknown>>)
          : [];
        if (!toId || types.length === 0)
          throw validation(`Invalid association${where}: "to.id" and "types" are required.`);
        for (const spec of types) {
          const typeId = Number(spec.associationTypeId);
          const category = spec.associationCategory;
          const toType = ASSOCIATION_TYPES[type]?.[typeId];
          if (category !== 'HUBSPOT_DEFINED' || !toType) {
            throw validation(
              `${String(category)} ${typeId} is not a valid association type from ${type}${where}.`,
            );
          }
          if (!store[toType].has(toId)) {
            throw validation(`Association target ${toType} ${toId} does not exist${where}.`);
          }
          links.push({ toType, toId, typeId });
        }
      }
    }
    if (type === 'contacts' && props.email) {
      const existing = [...store.contacts.values()].find(
        (record) => record.properties.email?.toLowerCase() === props.email?.toLowerCase(),
      );
      if (existing) {
        throw new HttpFailure(
          409,
          errorBody(`Contact already exists. Existing ID: ${existing.id}`, 'CONFLICT'),
        );
      }
    }
    return { props, links };
  };

  // ------------------------------------------------------------ HTTP plumbing

  const familyOf = (method: string, path: string): RecordedRequest['family'] => {
    if (path.startsWith('/oauth/')) return 'auth';
    if (method === 'POST' && path.endsWith('/search')) return 'search';
    if (method === 'GET') return 'read';
    return 'write';
  };

  const takeFault = (family: RecordedRequest['family'], path: string): FakeFault | undefined =>
    faults.take(
      (f) =>
        ((f.on ?? 'any') === 'any' || f.on === family) &&
        (!('path' in f) || f.path === undefined || path.includes(f.path)),
    );

  const rateHeaders = (oauth: boolean): Record<string, string> => {
    if (!limits) return {};
    const at = now();
    const inWindow = windowGrants.filter((t) => at - t < limits.intervalMs).length;
    return {
      'X-HubSpot-RateLimit-Interval-Milliseconds': String(limits.intervalMs),
      'X-HubSpot-RateLimit-Max': String(limits.max),
      'X-HubSpot-RateLimit-Remaining': String(Math.max(0, limits.max - inWindow)),
      ...(oauth
        ? {}
        : {
            'X-HubSpot-RateLimit-Daily': String(limits.daily),
            'X-HubSpot-RateLimit-Daily-Remaining': String(Math.max(0, limits.daily - dayCount)),
          }),
    };
  };

  const rateLimitBody = (policy: 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY') => ({
    status: 'error',
    message:
      policy === 'DAILY'
        ? 'You have reached your daily limit.'
        : policy === 'SECONDLY'
          ? 'You have reached your secondly limit.'
          : 'You have reached your ten_secondly_rolling limit.',
    errorType: 'RATE_LIMIT',
    correlationId: randomUUID(),
    policyName: policy,
    requestId: randomUUID(),
  });

  const authenticate = (req: IncomingMessage): { oauth: boolean } => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer (.+)$/i.exec(header);
    if (!match) {
      throw new HttpFailure(
        401,
        errorBody(
          'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
          'INVALID_AUTHENTICATION',
        ),
      );
    }
    const token = match[1] ?? '';
    if (token === accessToken) return { oauth: false };
    const expiresAt = oauthTokens.get(token);
    if (expiresAt === undefined) {
      throw new HttpFailure(
        401,
        errorBody(
          'Authentication credentials not found or the access token is invalid.',
          'INVALID_AUTHENTICATION',
        ),
      );
    }
    if (expiresAt <= now()) {
      const minutes = Math.max(1, Math.round((now() - expiresAt) / 60_000));
      throw new HttpFailure(
        401,
        errorBody(
          `The OAuth token used to make this call expired ${minutes} minute(s) ago.`,
          'EXPIRED_AUTHENTICATION',
        ),
      );
    }
    return { oauth: true };
  };

  const countRate = (family: RecordedRequest['family']) => {
    if (!limits) return;
    const at = now();
    if (family === 'search') {
      searchGrants = searchGrants.filter((t) => at - t < 1000);
      if (searchGrants.length >= limits.searchPerSecond) {
        stats.rejected++;
        // the body recorded from a real search 429: a category, no policyName
        throw new HttpFailure(429, {
          status: 'error',
          message: 'You have reached your secondly limit.',
          category: 'RATE_LIMITS',
          correlationId: randomUUID(),
        });
      }
      searchGrants.push(at);
      // searches are exempt from the ten-secondly window (x-hubspot-rate-limit-exemptions)
      dayCount++;
      stats.accepted++;
      return;
    }
    windowGrants = windowGrants.filter((t) => at - t < limits.intervalMs);
    if (dayCount >= limits.daily) {
      stats.rejected++;
      throw new HttpFailure(429, rateLimitBody('DAILY'), rateHeaders(false));
    }
    if (windowGrants.length >= limits.max) {
      stats.rejected++;
      throw new HttpFailure(429, rateLimitBody('TEN_SECONDLY_ROLLING'), rateHeaders(false));
    }
    windowGrants.push(at);
    dayCount++;
    stats.accepted++;
    stats.maxInWindow = Math.max(stats.maxInWindow, windowGrants.length);
  };

  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const parseJson = (text: string): unknown => {
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw validation('Invalid input JSON on line 1');
    }
  };

  const summarize = (path: string, body: unknown): string => {
    if (typeof body !== 'object' || body === null) return '';
    const record = body as Record<string, unknown>;
    if (Array.isArray(record.filterGroups)) {
      const filters = (record.filterGroups as Array<{ filters?: Filter[] }>).map((group) =>
        (group.filters ?? []).map((f) => `${String(f.propertyName)} ${String(f.operator)}`).join(' AND '),
      );
      return `filterGroups=${filters.length}: ${filters.join(' | ')}`;
    }
    if (Array.isArray(record.inputs)) return `inputs=${record.inputs.length}`;
    if (typeof record.properties === 'object' && record.properties !== null) {
      return `properties=${Object.keys(record.properties).sort().join(',')}`;
    }
    return path.startsWith('/oauth/') ? 'form' : '';
  };

  type Answer = { status: number; body: unknown; headers?: Record<string, string> };

  const route = async (
    req: IncomingMessage,
    url: URL,
    text: string,
    partial?: Extract<FakeFault, { kind: 'partial' }>,
  ): Promise<Answer> => {
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '') || '/';

    if (method === 'POST' && path === '/oauth/v1/token') {
      const form = new URLSearchParams(text);
      const app = options.oauth;
      if (!app || form.get('client_id') !== app.clientId || form.get('client_secret') !== app.clientSecret) {
        throw new HttpFailure(400, {
          status: 'BAD_CLIENT_ID',
          message: 'missing or invalid client_id / client_secret',
          correlationId: randomUUID(),
        });
      }
      if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== app.refreshToken) {
        throw new HttpFailure(400, {
          status: 'BAD_REFRESH_TOKEN',
          message: 'missing or unknown refresh token',
          correlationId: randomUUID(),
        });
      }
      const ttl = app.accessTokenTtlSeconds ?? 1800;
      const token = `fake-oauth-${randomUUID()}`;
      oauthTokens.set(token, now() + ttl * 1000);
      return {
        status: 200,
        body: { token_type: 'bearer', refresh_token: app.refreshToken, access_token: token, expires_in: ttl },
      };
    }

    const auth = authenticate(req);
    // the usage endpoint answers even when the daily quota is spent (it says when it resets)
    if (path === '/account-info/v3/api-usage/daily/private-apps' && method === 'GET') {
      return {
        status: 200,
        body: {
          results: [
            {
              name: 'private-apps-api-calls-daily',
              usageLimit: limits ? limits.daily : 0,
              currentUsage: dayCount,
              collectedAt: new Date(now()).toISOString(),
              fetchStatus: 'SUCCESS',
              resetsAt: new Date(dailyResetsAt()).toISOString(),
            },
          ],
        },
      };
    }
    const family = familyOf(method, path);
    countRate(family);
    const headers = family === 'search' ? {} : rateHeaders(auth.oauth);
    const body = parseJson(text);

    let m = /^\/crm\/v3\/objects\/(contacts|companies|calls|tasks)\/search$/.exec(path);
    if (m && method === 'POST') {
      // HubSpot refuses a search request body over 3,000 characters
      if (text.length > MAX_SEARCH_BODY) {
        throw validation(
          `There was a problem with the request. The request body has ${text.length} characters; the maximum for a search is ${MAX_SEARCH_BODY}.`,
        );
      }
      return { status: 200, body: search(m[1] as FakeObjectType, body) };
    }

    m = /^\/crm\/v3\/properties\/(contacts|companies|calls|tasks)\/([^/?]+)$/.exec(path);
    if (m && method === 'GET') {
      const name = decodeURIComponent(m[2] as string);
      if (!propertyExists(m[1] as string, name)) {
        return { status: 404, body: errorBody(`Unable to find property ${name}`, 'OBJECT_NOT_FOUND') };
      }
      return { status: 200, headers, body: { name, label: name, type: 'string', fieldType: 'text' } };
    }

    m = /^\/crm\/v3\/objects\/(contacts|companies|calls|tasks)\/batch\/create$/.exec(path);
    if (m && method === 'POST') {
      const type = m[1] as FakeObjectType;
      const inputs = (body as { inputs?: unknown } | undefined)?.inputs;
      if (!Array.isArray(inputs) || inputs.length === 0) throw validation('"inputs" is required.');
      if (inputs.length > 100)
        throw validation(`Batch size ${inputs.length} exceeds the limit of 100 inputs.`);
      const checked = inputs.map((input, index) => validateInput(type, input, index));
      const startedAt = new Date(now()).toISOString();
      const failing = new Set(partial?.inputs ?? []);
      const created = checked
        .filter((_, i) => !failing.has(i))
        .map(({ props, links }) => insert(type, props, links));
      // HubSpot does not return batch results in input order.
      const results = created.map((record) => view(record)).reverse();
      const completedAt = new Date(now()).toISOString();
      if (failing.size > 0) {
        // 207: some inputs failed, each with its own error; the others were created
        const errors = [...failing].map((i) => ({
          status: 'error',
          category: partial?.category ?? 'VALIDATION_ERROR',
          message: `Input ${i} could not be created`,
          context: { index: [String(i)] },
        }));
        return {
          status: 207,
          headers,
          body: { status: 'COMPLETE', results, numErrors: errors.length, errors, startedAt, completedAt },
        };
      }
      return { status: 201, headers, body: { status: 'COMPLETE', results, startedAt, completedAt } };
    }

    m = /^\/crm\/v3\/objects\/(contacts|companies|calls|tasks)$/.exec(path);
    if (m && method === 'POST') {
      const type = m[1] as FakeObjectType;
      const { props, links } = validateInput(type, body);
      return { status: 201, headers, body: view(insert(type, props, links)) };
    }

    m = /^\/crm\/v3\/objects\/(contacts|companies|calls|tasks)\/(\d+)$/.exec(path);
    if (m && method === 'GET') {
      const record = store[m[1] as FakeObjectType].get(m[2] as string);
      if (!record) throw new HttpFailure(404, errorBody('resource not found', 'OBJECT_NOT_FOUND'));
      const properties = url.searchParams.get('properties')?.split(',');
      return { status: 200, headers, body: view(record, properties) };
    }

    m =
      /^\/crm\/v3\/objects\/(contacts|companies|calls|tasks)\/(\d+)\/associations\/(contacts|companies)\/(\d+)\/(\d+)$/.exec(
        path,
      );
    if (m && method === 'PUT') {
      const type = m[1] as FakeObjectType;
      const record = store[type].get(m[2] as string);
      const toType = m[3] as FakeObjectType;
      const typeId = Number(m[5]);
      if (!record || !store[toType].has(m[4] as string)) {
        throw new HttpFailure(404, errorBody('resource not found', 'OBJECT_NOT_FOUND'));
      }
      if (ASSOCIATION_TYPES[type]?.[typeId] !== toType) {
        throw validation(`${typeId} is not a valid association type from ${type} to ${toType}.`);
      }
      record.associations.push({ toType, toId: m[4] as string, typeId });
      record.updatedAt = now();
      stamp(record);
      return { status: 200, headers, body: view(record) };
    }

    if (method === 'GET' && path === '/crm/v3/owners') {
      const limit = Number(url.searchParams.get('limit') ?? 100);
      const list = [...owners.values()].slice(0, Math.min(500, limit));
      const at = new Date(now()).toISOString();
      return {
        status: 200,
        headers,
        body: {
          results: list.map((owner) => ({
            id: owner.id,
            email: owner.email,
            firstName: owner.firstName ?? '',
            lastName: owner.lastName ?? '',
            userId: Number(owner.id) + 1000,
            createdAt: at,
            updatedAt: at,
            archived: false,
          })),
        },
      };
    }
    m = /^\/crm\/v3\/owners\/(\d+)$/.exec(path);
    if (m && method === 'GET') {
      const owner = owners.get(m[1] as string);
      if (!owner) throw new HttpFailure(404, errorBody('resource not found', 'OBJECT_NOT_FOUND'));
      return { status: 200, headers, body: { ...owner, archived: false } };
    }

    if (method === 'GET' && path === '/account-info/v3/details') {
      return {
        status: 200,
        headers,
        body: {
          portalId,
          accountType: 'STANDARD',
          timeZone: 'Europe/Paris',
          companyCurrency: 'EUR',
          additionalCurrencies: [],
          utcOffset: '+01:00',
          utcOffsetMilliseconds: 3_600_000,
          uiDomain: options.uiDomain ?? 'app.hubspot.com',
          dataHostingLocation: 'eu1',
        },
      };
    }

    if (method === 'GET' && path === '/calling/v1/dispositions') {
      return { status: 200, headers, body: DEFAULT_DISPOSITIONS };
    }

    throw new HttpFailure(404, errorBody(`No route for ${method} ${path}`, 'OBJECT_NOT_FOUND'));
  };

  const send = (res: ServerResponse, answer: Answer) => {
    const payload = JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      'Content-Type': 'application/json;charset=utf-8',
      'Content-Length': Buffer.byteLength(payload),
      ...answer.headers,
    });
    res.end(payload);
  };

  const http = await listenFakeServer(async (req, res) => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const family = familyOf(method, path);
    let text = '';
    let status = 500;
    let body: unknown;
    try {
      text = await readBody(req);
      try {
        body = path.startsWith('/oauth/') ? undefined : text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      const fault = takeFault(family, path);
      if (fault?.kind === 'hang') {
        status = 0;
        // the request stays unanswered; when the client gives up, the connection goes with it
        // (the HTTP server pauses a socket with a request in progress: read on to see the client's FIN)
        req.socket.once('end', () => req.socket.destroy());
        req.socket.resume();
        return;
      }
      if (fault?.kind === 'late-commit') {
        await (fault.until ?? new Promise((resolve) => setTimeout(resolve, fault.ms ?? 0)));
      }
      if (
        fault &&
        fault.kind !== 'drop-after-commit' &&
        fault.kind !== 'delay' &&
        fault.kind !== 'partial' &&
        fault.kind !== 'late-commit'
      ) {
        status = fault.status;
        const headers: Record<string, string> =
          fault.retryAfterSeconds !== undefined ? { 'Retry-After': String(fault.retryAfterSeconds) } : {};
        let faultBody: Record<string, unknown>;
        if (fault.status === 429) {
          faultBody = rateLimitBody(fault.policy ?? 'TEN_SECONDLY_ROLLING');
          Object.assign(headers, rateHeaders(false));
        } else if (fault.status === 401) {
          faultBody = errorBody('The access token is invalid or has been revoked.', 'INVALID_AUTHENTICATION');
        } else if (fault.status === 403) {
          faultBody = errorBody(
            "This app hasn't been granted all required scopes to make this call.",
            'MISSING_SCOPES',
          );
        } else if (fault.status === 400) {
          faultBody = errorBody('Property values were not valid', 'VALIDATION_ERROR');
        } else if (fault.status === 404) {
          faultBody = errorBody('resource not found', 'OBJECT_NOT_FOUND');
        } else {
          faultBody = errorBody('internal error', 'INTERNAL_ERROR');
        }
        stats.rejected += fault.status === 429 ? 1 : 0;
        send(res, { status, body: faultBody, headers });
        return;
      }
      const answer = await route(req, url, text, fault?.kind === 'partial' ? fault : undefined);
      status = answer.status;
      if (fault?.kind === 'drop-after-commit') {
        status = 0;
        res.socket?.destroy();
        return;
      }
      if (res.destroyed) return; // the client gave up (a late commit): nobody to answer
      if (fault?.kind === 'delay') {
        const timer = setTimeout(() => {
          if (!res.destroyed) send(res, answer);
        }, fault.ms);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      send(res, answer);
    } catch (error) {
      if (error instanceof HttpFailure) {
        status = error.status;
        send(res, { status: error.status, body: error.body, headers: error.headers });
      } else {
        status = 500;
        send(res, { status: 500, body: errorBody('internal error', 'INTERNAL_ERROR') });
      }
    } finally {
      recorded.record({ method, path, family, status, summary: summarize(path, body), at: now() });
    }
  });

  const fake: FakeHubSpot = {
    url: http.url,
    openConnections: () => http.openConnections(),
    accessToken,
    portalId,
    seed(type, properties, seedOptions) {
      return insert(type, properties, [], seedOptions?.indexed ?? false);
    },
    seedOwner(owner) {
      const id = owner.id ?? String(70_000 + owners.size + 1);
      owners.set(id, { ...owner, id });
      return id;
    },
    records(type) {
      return [...store[type].values()];
    },
    requests() {
      return recorded.list();
    },
    clearRequests() {
      recorded.clear();
    },
    inject(fault) {
      faults.inject(fault);
    },
    flushIndex() {
      for (const records of Object.values(store)) for (const record of records.values()) record.indexedAt = 0;
    },
    setIndexLag(ms) {
      indexLagMs = ms;
    },
    expireTokens() {
      const at = now();
      oauthTokens = new Map([...oauthTokens.keys()].map((token) => [token, at - 1]));
    },
    rateStats() {
      return { ...stats };
    },
    reset() {
      for (const records of Object.values(store)) records.clear();
      faults.clear();
      recorded.clear();
      windowGrants = [];
      searchGrants = [];
      dayCount = 0;
      stats = { maxInWindow: 0, rejected: 0, accepted: 0 };
    },
    close: () => http.close(),
  };
  return fake;
}
