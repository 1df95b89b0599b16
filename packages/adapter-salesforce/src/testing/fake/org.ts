import {
  type Condition,
  type Literal,
  type OrderBy,
  parseSoql,
  parseSosl,
  type ReturningSpec,
  type SearchTerm,
  type SoslQuery,
} from './query-language.js';
import { buildSchema, type FieldDef, type ObjectDef } from './schema.js';

/** A stored record: field name (canonical case) to value. */
export type StoredRecord = Record<string, unknown> & { Id: string };

/** A Salesforce REST error: status plus one `{message, errorCode, fields}` element. */
export class SfError extends Error {
  override readonly name = 'SfError';
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly fields?: readonly string[],
  ) {
    super(message);
  }
  /** The element of the error array Salesforce answers with. */
  toElement(): Record<string, unknown> {
    return {
      message: this.message,
      errorCode: this.errorCode,
      ...(this.fields ? { fields: [...this.fields] } : {}),
    };
  }
}

/** Salesforce's datetime format: `2026-11-25T10:39:00.000+0000`. */
export function sfDateTime(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}

const ID_RE = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

function digits(value: string): string {
  return value.replace(/\D+/g, '');
}

/**
 * The data of the fake org: schema, records, SOQL and SOSL evaluation and DML validation, with
 * Salesforce's error codes. Transport-free, so the HTTP layer and composite requests share it.
 */
export class FakeOrg {
  readonly schema: Record<string, ObjectDef>;
  private readonly data = new Map<string, Map<string, StoredRecord>>();
  private counter = 0;
  /** `Type.Field` → value → ids, for unique and External ID fields. */
  private readonly uniqueIndex = new Map<string, Map<unknown, Set<string>>>();
  /** Id of the API user every token acts as. */
  readonly apiUserId: string;

  constructor(
    readonly apiVersion: () => string,
    readonly options: {
      readonly taskExternalIdField?: string;
      readonly taskExternalIdUnique?: boolean | undefined;
      readonly clock?: () => Date;
      /** SOSL does not see records created less than this long ago (SOQL does, at once). */
      readonly searchIndexLagMs?: number | undefined;
      /**
       * How SOSL matches phone fields: `digits` (default) compares digit-only forms; `tokens`
       * compares the number's tokens as stored (`+33 6 12 34 56 78` is 33·6·12·34·56·78), so a
       * digit-only term does not find a number stored with spaces. Salesforce documents neither.
       */
      readonly phoneTokenisation?: 'digits' | 'tokens' | undefined;
    } = {},
  ) {
    this.schema = buildSchema(options.taskExternalIdField, options.taskExternalIdUnique ?? true);
    for (const type of Object.keys(this.schema)) this.data.set(type, new Map());
    this.apiUserId = this.insert('User', {
      FirstName: 'Integration',
      LastName: 'User',
      Username: 'integration@example.com',
    }).Id;
  }

  private now(): Date {
    return this.options.clock?.() ?? new Date();
  }

  /** Removes every record except the API user. */
  reset(): void {
    for (const [type, records] of this.data) {
      for (const id of [...records.keys()])
        if (!(type === 'User' && id === this.apiUserId)) records.delete(id);
    }
    this.uniqueIndex.clear();
  }

  private indexed(type: string): string[] {
    return Object.entries(this.def(type).fields)
      .filter(([, field]) => field.unique || field.externalId)
      .map(([name]) => name);
  }

  private index(type: string, record: StoredRecord, add: boolean): void {
    for (const name of this.indexed(type)) {
      const value = record[name];
      if (value === undefined || value === null || value === '') continue;
      const key = `${type}.${name}`;
      let byValue = this.uniqueIndex.get(key);
      if (!byValue) {
        byValue = new Map();
        this.uniqueIndex.set(key, byValue);
      }
      let ids = byValue.get(value);
      if (!ids) {
        ids = new Set();
        byValue.set(value, ids);
      }
      if (add) ids.add(record.Id);
      else ids.delete(record.Id);
    }
  }

  private idsWith(type: string, field: string, value: unknown): string[] {
    return [...(this.uniqueIndex.get(`${type}.${field}`)?.get(value) ?? [])];
  }

  /** Canonical object name, or a `NOT_FOUND`/`INVALID_TYPE` error. */
  objectName(name: string, errorStatus = 404): string {
    const found = Object.keys(this.schema).find((type) => type.toLowerCase() === name.toLowerCase());
    if (!found) {
      throw errorStatus === 404
        ? new SfError(404, 'NOT_FOUND', 'The requested resource does not exist')
        : new SfError(
            400,
            'INVALID_TYPE',
            `sObject type '${name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name.`,
          );
    }
    return found;
  }

  private def(type: string): ObjectDef {
    return this.schema[type] as ObjectDef;
  }

  private fieldName(type: string, name: string): string | undefined {
    return Object.keys(this.def(type).fields).find((field) => field.toLowerCase() === name.toLowerCase());
  }

  private table(type: string): Map<string, StoredRecord> {
    return this.data.get(type) as Map<string, StoredRecord>;
  }

  /** Every record of a type (copies). */
  records(type: string): StoredRecord[] {
    return [...this.table(this.objectName(type))].map(([, record]) => ({ ...record }));
  }

  /** Finds a record by 15- or 18-character id, in any type. */
  findById(id: string): { type: string; record: StoredRecord } | undefined {
    for (const [type, records] of this.data) {
      const direct = records.get(id);
      if (direct) return { type, record: direct };
      if (id.length === 15) {
        for (const record of records.values()) if (record.Id.startsWith(id)) return { type, record };
      }
    }
    return undefined;
  }

  private newId(type: string): string {
    this.counter++;
    return `${this.def(type).keyPrefix}Fk${String(this.counter).padStart(10, '0')}AAA`;
  }

  private computed(type: string, record: StoredRecord): void {
    if (type === 'Contact' || type === 'Lead' || type === 'User') {
      record.Name = [record.FirstName, record.LastName].filter((part) => part).join(' ');
    }
    if (type === 'Task') record.IsClosed = record.Status === 'Completed';
  }

  /** Validates and normalises a write payload; returns the canonical fields. */
  private validate(type: string, input: Record<string, unknown>, insert: boolean): Record<string, unknown> {
    const def = this.def(type);
    const out: Record<string, unknown> = {};
    for (const [rawName, value] of Object.entries(input)) {
      if (rawName === 'attributes') continue;
      const name = this.fieldName(type, rawName);
      if (!name) {
        throw new SfError(400, 'INVALID_FIELD', `No such column '${rawName}' on sobject of type ${type}`);
      }
      const field = def.fields[name] as FieldDef;
      if (field.readOnly || (field.createOnly && !insert)) {
        throw new SfError(
          400,
          'INVALID_FIELD_FOR_INSERT_UPDATE',
          `Unable to create/update fields: ${name}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
          [name],
        );
      }
      out[name] = this.checkValue(type, name, field, value);
    }
    if (insert) {
      for (const [name, field] of Object.entries(def.fields)) {
        if (out[name] === undefined && field.defaultValue !== undefined) out[name] = field.defaultValue;
      }
      const missing = Object.entries(def.fields)
        .filter(
          ([name, field]) =>
            field.required && (out[name] === undefined || out[name] === null || out[name] === ''),
        )
        .map(([name]) => name);
      if (missing.length > 0) {
        throw new SfError(
          400,
          'REQUIRED_FIELD_MISSING',
          `Required fields are missing: [${missing.join(', ')}]`,
          missing,
        );
      }
    }
    return out;
  }

  private checkValue(type: string, name: string, field: FieldDef, value: unknown): unknown {
    if (value === null) return null;
    const label = `${type}.${name}`;
    switch (field.type) {
      case 'int':
        if (typeof value !== 'number' || !Number.isInteger(value)) {
          throw new SfError(
            400,
            'JSON_PARSER_ERROR',
            `Cannot deserialize instance of int from ${JSON.stringify(value)} for field ${label}`,
          );
        }
        return value;
      case 'boolean':
        if (typeof value !== 'boolean') {
          throw new SfError(
            400,
            'JSON_PARSER_ERROR',
            `Cannot deserialize instance of boolean for field ${label}`,
          );
        }
        return value;
      case 'date':
        if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
          throw new SfError(
            400,
            'JSON_PARSER_ERROR',
            `Cannot deserialize instance of date from VALUE_STRING value ${String(value)} or request may be missing a required field`,
          );
        }
        return value;
      case 'reference': {
        if (typeof value !== 'string' || !ID_RE.test(value)) {
          throw new SfError(400, 'MALFORMED_ID', `${name}: id value of incorrect type: ${String(value)}`, [
            name,
          ]);
        }
        const target = this.findById(value);
        if (!target || !(field.referenceTo ?? []).includes(target.type)) {
          throw new SfError(400, 'INVALID_CROSS_REFERENCE_KEY', `${name}: invalid cross reference id`, [
            name,
          ]);
        }
        return target.record.Id;
      }
      default: {
        if (typeof value !== 'string') {
          throw new SfError(
            400,
            'JSON_PARSER_ERROR',
            `Cannot deserialize instance of string for field ${label}`,
          );
        }
        if (field.values && !field.values.includes(value)) {
          throw new SfError(
            400,
            'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
            `${name}: bad value for restricted picklist field: ${value}`,
            [name],
          );
        }
        if (field.length !== undefined && value.length > field.length) {
          throw new SfError(
            400,
            'STRING_TOO_LONG',
            `${name}: data value too large: ${value.slice(0, 40)}... (max length=${field.length})`,
            [name],
          );
        }
        return value;
      }
    }
  }

  private checkIntegrity(type: string, record: Record<string, unknown>, selfId?: string): void {
    if (
      type === 'Task' &&
      typeof record.WhoId === 'string' &&
      record.WhoId.startsWith('00Q') &&
      record.WhatId
    ) {
      throw new SfError(
        400,
        'FIELD_INTEGRITY_EXCEPTION',
        'Related To ID: You can\'t associate a lead with a "Related To" record.',
        ['WhatId'],
      );
    }
    for (const [name, field] of Object.entries(this.def(type).fields)) {
      if (!field.unique) continue;
      const value = record[name];
      if (value === undefined || value === null || value === '') continue;
      const other = this.idsWith(type, name, value).find((id) => id !== selfId);
      if (other) {
        throw new SfError(
          400,
          'DUPLICATE_VALUE',
          `duplicate value found: ${name} duplicates value on record with id: ${other}`,
          [],
        );
      }
    }
  }

  private touchActivity(task: StoredRecord): void {
    const date = typeof task.ActivityDate === 'string' ? task.ActivityDate : undefined;
    if (!date) return;
    for (const key of ['WhoId', 'WhatId']) {
      const id = task[key];
      if (typeof id !== 'string') continue;
      const target = this.findById(id);
      if (!target) continue;
      const current = target.record.LastActivityDate;
      if (typeof current !== 'string' || current < date) target.record.LastActivityDate = date;
    }
  }

  /**
   * Inserts a record through the same validation as the API. `system: true` bypasses validation
   * (seeding read-only fields such as `LastActivityDate`, or duplicates to provoke a 300).
   */
  insert(type: string, input: Record<string, unknown>, options: { system?: boolean } = {}): StoredRecord {
    const canonical = this.objectName(type, 400);
    let fields: Record<string, unknown>;
    if (options.system) {
      fields = {};
      for (const [key, value] of Object.entries(input)) fields[this.fieldName(canonical, key) ?? key] = value;
      for (const [name, field] of Object.entries(this.def(canonical).fields)) {
        if (fields[name] === undefined && field.defaultValue !== undefined) fields[name] = field.defaultValue;
      }
    } else {
      fields = this.validate(canonical, input, true);
      this.checkIntegrity(canonical, fields);
    }
    const now = sfDateTime(this.now());
    const record: StoredRecord = {
      ...(this.def(canonical).fields.OwnerId && !fields.OwnerId ? { OwnerId: this.apiUserId } : {}),
      ...fields,
      Id: typeof fields.Id === 'string' && options.system ? fields.Id : this.newId(canonical),
      CreatedDate: now,
      LastModifiedDate: now,
      SystemModstamp: now,
      IsDeleted: false,
    };
    this.computed(canonical, record);
    this.table(canonical).set(record.Id, record);
    this.index(canonical, record, true);
    if (canonical === 'Task') this.touchActivity(record);
    return record;
  }

  /** Updates a record by id (PATCH semantics). */
  update(type: string, id: string, input: Record<string, unknown>): StoredRecord {
    const canonical = this.objectName(type);
    const found = this.findById(id);
    if (!found || found.type !== canonical) {
      throw new SfError(404, 'NOT_FOUND', 'The requested resource does not exist');
    }
    const fields = this.validate(canonical, input, false);
    const merged = { ...found.record, ...fields };
    this.checkIntegrity(canonical, merged, found.record.Id);
    this.index(canonical, found.record, false);
    Object.assign(found.record, fields, { LastModifiedDate: sfDateTime(this.now()) });
    this.index(canonical, found.record, true);
    this.computed(canonical, found.record);
    if (canonical === 'Task') this.touchActivity(found.record);
    return found.record;
  }

  /** Upsert on an External ID field: `{record, created}`; 300 when several records match. */
  upsert(
    type: string,
    fieldName: string,
    value: string,
    input: Record<string, unknown>,
  ): { record: StoredRecord; created: boolean } {
    const canonical = this.objectName(type);
    const field = this.fieldName(canonical, fieldName);
    const def = field ? this.def(canonical).fields[field] : undefined;
    if (!field || !def || !(def.externalId || def.type === 'id')) {
      throw new SfError(
        404,
        'NOT_FOUND',
        `Provided external ID field does not exist or is not accessible: ${fieldName}`,
      );
    }
    const body = { ...input };
    for (const key of Object.keys(body)) if (key.toLowerCase() === field.toLowerCase()) delete body[key];
    const matches =
      field === 'Id'
        ? [this.findById(value)?.record].filter((record): record is StoredRecord => record !== undefined)
        : this.idsWith(canonical, field, value).map((id) => this.table(canonical).get(id) as StoredRecord);
    if (matches.length > 1) {
      const error = new SfError(300, 'MULTIPLE_CHOICES', 'Multiple records found');
      (error as SfError & { urls?: string[] }).urls = matches.map(
        (record) => `/services/data/v${this.apiVersion()}/sobjects/${canonical}/${record.Id}`,
      );
      throw error;
    }
    const existing = matches[0];
    if (existing) return { record: this.update(canonical, existing.Id, body), created: false };
    return { record: this.insert(canonical, { ...body, [field]: value }), created: true };
  }

  private resolvePath(type: string, record: StoredRecord, path: string): { value: unknown; known: boolean } {
    const parts = path.split('.');
    if (parts.length === 1) {
      const name = this.fieldName(type, path);
      return name ? { value: record[name] ?? null, known: true } : { value: undefined, known: false };
    }
    if (parts.length !== 2) return { value: undefined, known: false };
    const [relationship, sub] = parts as [string, string];
    const reference = Object.entries(this.def(type).fields).find(
      ([, field]) => field.relationshipName?.toLowerCase() === relationship.toLowerCase(),
    );
    if (!reference) return { value: undefined, known: false };
    const id = record[reference[0]];
    const target = typeof id === 'string' ? this.findById(id) : undefined;
    if (!target) return { value: null, known: true };
    return this.resolvePath(target.type, target.record, sub);
  }

  private checkFields(type: string, fields: readonly string[]): void {
    for (const path of fields) {
      const parts = path.split('.');
      let ok: boolean;
      if (parts.length === 1) ok = this.fieldName(type, path) !== undefined;
      else {
        const reference = Object.values(this.def(type).fields).find(
          (field) => field.relationshipName?.toLowerCase() === (parts[0] ?? '').toLowerCase(),
        );
        ok =
          parts.length === 2 &&
          reference !== undefined &&
          (reference.referenceTo ?? []).some(
            (target) => this.fieldName(target, parts[1] ?? '') !== undefined,
          );
      }
      if (!ok) {
        throw new SfError(
          400,
          'INVALID_FIELD',
          `No such column '${path}' on entity '${type}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.`,
        );
      }
    }
  }

  /** The JSON shape of a record in query and search results, with `attributes` and nested relationships. */
  project(type: string, record: StoredRecord, fields: readonly string[]): Record<string, unknown> {
    const version = this.apiVersion();
    const out: Record<string, unknown> = {
      attributes: { type, url: `/services/data/v${version}/sobjects/${type}/${record.Id}` },
    };
    for (const path of fields) {
      const parts = path.split('.');
      if (parts.length === 1) {
        out[this.fieldName(type, path) ?? path] = this.resolvePath(type, record, path).value;
        continue;
      }
      const [relationship, sub] = parts as [string, string];
      const reference = Object.entries(this.def(type).fields).find(
        ([, field]) => field.relationshipName?.toLowerCase() === relationship.toLowerCase(),
      );
      if (!reference) continue;
      const relName = reference[1].relationshipName as string;
      const id = record[reference[0]];
      const target = typeof id === 'string' ? this.findById(id) : undefined;
      if (!target) {
        out[relName] = null;
        continue;
      }
      const nested = (out[relName] as Record<string, unknown> | undefined) ?? {
        attributes: {
          type: target.type,
          url: `/services/data/v${version}/sobjects/${target.type}/${target.record.Id}`,
        },
      };
      nested[this.fieldName(target.type, sub) ?? sub] =
        target.record[this.fieldName(target.type, sub) ?? sub] ?? null;
      out[relName] = nested;
    }
    return out;
  }

  private evaluate(type: string, record: StoredRecord, condition: Condition): boolean {
    switch (condition.op) {
      case 'and':
        return this.evaluate(type, record, condition.left) && this.evaluate(type, record, condition.right);
      case 'or':
        return this.evaluate(type, record, condition.left) || this.evaluate(type, record, condition.right);
      case 'not':
        return !this.evaluate(type, record, condition.inner);
      case 'in': {
        const value = this.resolvePath(type, record, condition.field).value;
        const hit = condition.values.some((candidate) => equals(value, candidate));
        return condition.negate ? !hit : hit;
      }
      case 'cmp': {
        const value = this.resolvePath(type, record, condition.field).value;
        return compareValues(value, condition.cmp, condition.value);
      }
    }
  }

  private conditionFields(condition: Condition | undefined, into: string[] = []): string[] {
    if (!condition) return into;
    if (condition.op === 'and' || condition.op === 'or') {
      this.conditionFields(condition.left, into);
      this.conditionFields(condition.right, into);
    } else if (condition.op === 'not') this.conditionFields(condition.inner, into);
    else if (condition.op === 'cmp' || condition.op === 'in') into.push(condition.field);
    return into;
  }

  private sortAndLimit(
    type: string,
    records: StoredRecord[],
    orderBy: readonly OrderBy[],
    limit: number | undefined,
  ): StoredRecord[] {
    const sorted = [...records];
    if (orderBy.length > 0) {
      sorted.sort((a, b) => {
        for (const order of orderBy) {
          const left = this.resolvePath(type, a, order.field).value;
          const right = this.resolvePath(type, b, order.field).value;
          if (left === right) continue;
          if (left === null || left === undefined) return order.nullsLast ? 1 : -1;
          if (right === null || right === undefined) return order.nullsLast ? -1 : 1;
          const cmp = String(left) < String(right) ? -1 : 1;
          return order.descending ? -cmp : cmp;
        }
        return 0;
      });
    }
    return limit === undefined ? sorted : sorted.slice(0, limit);
  }

  /** Runs a SOQL SELECT: the matching records, projected. */
  query(soql: string): { type: string; records: Record<string, unknown>[] } {
    let parsed: ReturnType<typeof parseSoql>;
    try {
      parsed = parseSoql(soql);
    } catch (error) {
      throw new SfError(400, 'MALFORMED_QUERY', (error as Error).message);
    }
    const type = this.objectName(parsed.object, 400);
    this.checkFields(type, [
      ...parsed.fields,
      ...this.conditionFields(parsed.where),
      ...parsed.orderBy.map((o) => o.field),
    ]);
    const where = parsed.where;
    const hits = [...this.table(type).values()].filter(
      (record) => !where || this.evaluate(type, record, where),
    );
    return {
      type,
      records: this.sortAndLimit(type, hits, parsed.orderBy, parsed.limit).map((record) =>
        this.project(type, record, parsed.fields),
      ),
    };
  }

  /** Runs a SOSL FIND: `{searchRecords}` mixing the RETURNING objects. */
  search(sosl: string): { searchRecords: Record<string, unknown>[]; parsed: SoslQuery } {
    let parsed: SoslQuery;
    try {
      parsed = parseSosl(sosl);
    } catch (error) {
      throw new SfError(400, 'MALFORMED_SEARCH', (error as Error).message);
    }
    const specs: readonly ReturningSpec[] =
      parsed.returning.length > 0
        ? parsed.returning
        : ['Account', 'Contact', 'Lead'].map((object) => ({ object, fields: ['Id'], orderBy: [] }));
    const out: Record<string, unknown>[] = [];
    for (const spec of specs) {
      const type = this.objectName(spec.object, 400);
      this.checkFields(type, [
        ...spec.fields,
        ...this.conditionFields(spec.where),
        ...spec.orderBy.map((o) => o.field),
      ]);
      const where = spec.where;
      const lag = this.options.searchIndexLagMs ?? 0;
      const indexedBefore = (this.options.clock?.() ?? new Date()).getTime() - lag;
      const hits = [...this.table(type).values()].filter(
        (record) =>
          (lag === 0 || Date.parse(String(record.CreatedDate).replace('+0000', 'Z')) <= indexedBefore) &&
          this.searchMatches(type, record, parsed) &&
          (!where || this.evaluate(type, record, where)),
      );
      for (const record of this.sortAndLimit(type, hits, spec.orderBy, spec.limit)) {
        out.push(this.project(type, record, spec.fields));
      }
    }
    return { searchRecords: out.slice(0, parsed.limit ?? 2000), parsed };
  }

  private searchMatches(type: string, record: StoredRecord, query: SoslQuery): boolean {
    const fields = Object.entries(this.def(type).fields);
    const phoneValues = fields
      .filter(([, field]) => field.type === 'phone')
      .map(([name]) => record[name])
      .filter((value): value is string => typeof value === 'string' && value !== '');
    const textFieldNames =
      query.scope === 'PHONE'
        ? []
        : query.scope === 'NAME'
          ? ['Name', 'FirstName', 'LastName', 'Company']
          : query.scope === 'EMAIL'
            ? fields.filter(([, field]) => field.type === 'email').map(([name]) => name)
            : fields
                .filter(([, field]) =>
                  ['string', 'email', 'textarea', 'phone', 'picklist'].includes(field.type),
                )
                .map(([name]) => name);
    const texts = textFieldNames
      .map((name) => record[name])
      .filter((value): value is string => typeof value === 'string' && value !== '');
    const usePhones = query.scope === 'PHONE' || query.scope === 'ALL' || query.scope === 'SIDEBAR';
    const termMatches = (term: SearchTerm): boolean => {
      const hit =
        (usePhones &&
          phoneValues.some((stored) =>
            this.options.phoneTokenisation === 'tokens'
              ? phoneTokensMatch(term.text, stored)
              : phoneMatches(term.text, stored),
          )) ||
        texts.some((text) => textMatches(term, text));
      return term.negate ? !hit : hit;
    };
    return query.terms.some((group) => group.every(termMatches));
  }
}

/**
 * The fake's approximation of Salesforce phone search (no official description exists): the
 * digit-only forms are equal, or one ends with the other and the shorter has at least 7 digits.
 */
export function phoneMatches(term: string, stored: string): boolean {
  if (/[a-z]/i.test(term)) return false;
  const a = digits(term);
  const b = digits(stored);
  if (a.length < 2 || b.length === 0) return false;
  if (a === b) return true;
  const [shorter, longer] = a.length <= b.length ? [a, b] : [b, a];
  return shorter.length >= 7 && longer.endsWith(shorter);
}

/** Strict phone search: the term's digit groups equal the stored number's digit groups. */
export function phoneTokensMatch(term: string, stored: string): boolean {
  if (/[a-z]/i.test(term)) return false;
  const groups = (value: string) => value.split(/\D+/).filter((group) => group !== '');
  const a = groups(term);
  const b = groups(stored);
  return a.length > 0 && a.length === b.length && a.every((group, i) => group === b[i]);
}

function tokensOf(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((token) => token !== '');
}

function textMatches(term: SearchTerm, text: string): boolean {
  const wanted = tokensOf(term.text);
  if (wanted.length === 0) return false;
  const have = tokensOf(text);
  for (let start = 0; start + wanted.length <= have.length; start++) {
    let ok = true;
    for (let k = 0; k < wanted.length; k++) {
      const token = have[start + k] as string;
      const want = wanted[k] as string;
      const last = k === wanted.length - 1;
      if (!(token === want || (last && term.prefix && token.startsWith(want)))) {
        ok = false;
        break;
      }
    }
    if (ok) return true;
  }
  return false;
}

function equals(value: unknown, literal: Literal): boolean {
  if (literal === null) return value === null || value === undefined;
  if (typeof literal === 'string' && typeof value === 'string') {
    return value.toLowerCase() === literal.toLowerCase();
  }
  return value === literal;
}

function compareValues(value: unknown, cmp: string, literal: Literal): boolean {
  if (cmp === '=') return equals(value, literal);
  if (cmp === '!=') return !equals(value, literal);
  if (cmp === 'like') {
    if (typeof value !== 'string' || typeof literal !== 'string') return false;
    let pattern = '';
    for (let i = 0; i < literal.length; i++) {
      const c = literal[i] as string;
      if (c === '\\' && (literal[i + 1] === '_' || literal[i + 1] === '%')) {
        pattern += `\\${literal[i + 1]}`;
        i++;
      } else if (c === '%') pattern += '.*';
      else if (c === '_') pattern += '.';
      else pattern += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
    return new RegExp(`^${pattern}$`, 'is').test(value);
  }
  if (value === null || value === undefined || literal === null) return false;
  const left = typeof value === 'number' ? value : String(value);
  const right = typeof literal === 'number' ? literal : String(literal);
  switch (cmp) {
    case '<':
      return left < right;
    case '>':
      return left > right;
    case '<=':
      return left <= right;
    default:
      return left >= right;
  }
}
