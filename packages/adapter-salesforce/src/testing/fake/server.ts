import { createHmac, createPublicKey, createVerify, type KeyObject, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultQueue, Latency, listenFakeServer, RequestLog } from '@cti-bridge/core/testing';
import { XMLParser } from 'fast-xml-parser';
import { FakeOrg, SfError, type StoredRecord } from './org.js';

/** Request families, for fault injection and request counting. */
export type FakeRequestFamily = 'token' | 'search' | 'query' | 'write' | 'read';

/** Options of {@link startFakeSalesforce}. Every credential has a default; read them back from `credentials`. */
export interface FakeSalesforceOptions {
  /** A pre-issued access token the fake accepts (token mode). */
  readonly accessToken?: string;
  /** Connected app consumer key. */
  readonly clientId?: string;
  /** Connected app consumer secret. */
  readonly clientSecret?: string;
  /** A refresh token the fake accepts for the `refresh_token` grant. */
  readonly refreshToken?: string;
  readonly username?: string;
  readonly password?: string;
  /** Appended to the password by password logins (SOAP and OAuth). Empty string: none needed. */
  readonly securityToken?: string;
  /** PEM public key (or KeyObject) verifying JWT bearer assertions (RS256). Without it, JWT grants fail. */
  readonly jwtPublicKey?: string | KeyObject;
  /** Lifetime of issued access tokens; default: they never expire (use `expireTokens()`). */
  readonly tokenTtlMs?: number;
  /** Clock of token expiry and record dates (ms since epoch); default `Date.now`. */
  readonly clock?: () => number;
  /** Refresh token rotation: every refresh answers a new refresh token and revokes the old one. */
  readonly rotateRefreshTokens?: boolean;
  /** Adds an External ID + Unique text field on Task with this API name (e.g. `Call_Id__c`). */
  readonly taskExternalIdField?: string;
  /**
   * False makes that field External ID but not Unique (default true): an upsert on it then needs
   * "View All Data" and does not prevent duplicates; `check` must refuse it.
   */
  readonly taskExternalIdUnique?: boolean;
  /** Daily API request limit reported in `Sforce-Limit-Info` (default 15000); beyond it: 403 REQUEST_LIMIT_EXCEEDED. */
  readonly apiLimit?: number;
  /**
   * Requests the org handles at once; beyond it: 403 REQUEST_LIMIT_EXCEEDED with the concurrent
   * limit's message (Salesforce answers both limits with the same 403 and code). Default: none.
   */
  readonly concurrentLimit?: number;
  /**
   * SOSL (search) does not see a record until this long after its creation, as Salesforce's
   * search index is eventually consistent; SOQL sees it at once. Default 0.
   */
  readonly searchIndexLagMs?: number;
  /**
   * How SOSL matches phone fields (undocumented by Salesforce): `digits` (default) compares the
   * digit-only forms; `tokens` compares digit groups as stored, so `33612345678` does not find
   * `+33 6 12 34 56 78`. The adapter must find callers either way.
   */
  readonly phoneTokenisation?: 'digits' | 'tokens';
  /** Delay before every answer, in milliseconds. */
  readonly latencyMs?: number;
  /** Query page size before `nextRecordsUrl` paging (default 2000). */
  readonly queryBatchSize?: number;
}

/** A fault the fake answers with instead of serving the request. */
export interface FakeSalesforceFault {
  /** HTTP status: 400, 401, 403, 429, 500, 503, … */
  readonly status: number;
  /** Which requests (default `data`: every REST request, not the token endpoint). */
  readonly on?: FakeRequestFamily | 'data' | 'any';
  /** How many requests to fail (default 1). */
  readonly times?: number;
  /** Sets `Retry-After` (seconds). */
  readonly retryAfterSeconds?: number | undefined;
  /** Overrides the error code of the body. */
  readonly errorCode?: string;
  readonly message?: string;
}

/** One request the fake received. Secrets are not recorded. */
export interface RecordedRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly family: FakeRequestFamily;
  /** `62.0` for `/services/data/v62.0/…`. */
  readonly apiVersion?: string;
  /** Decoded `q` parameter of search and query. */
  readonly q?: string;
  /** Parsed JSON body of writes; `grant_type` only for the token endpoint. */
  readonly body?: unknown;
  readonly status: number;
}

/** A running fake Salesforce org on 127.0.0.1. */
export interface FakeSalesforce {
  /** `http://127.0.0.1:PORT`: both the login URL and the instance URL. */
  readonly url: string;
  /** The credentials the fake accepts. */
  readonly credentials: {
    readonly accessToken: string;
    readonly clientId: string;
    readonly clientSecret: string;
    readonly refreshToken: string;
    readonly username: string;
    readonly password: string;
    readonly securityToken: string;
  };
  /** Id of the API user (the default owner of records). */
  readonly apiUserId: string;
  /** Inserts a record directly (validated like the API unless `system`). Returns its id. */
  insert(type: string, fields: Record<string, unknown>, options?: { system?: boolean }): string;
  /** Copies of every record of a type. */
  records(type: string): StoredRecord[];
  /** Queues a fault. */
  inject(fault: FakeSalesforceFault): void;
  /** Sets or clears a delay before every answer. */
  setLatency(ms: number): void;
  /** Invalidates every access token issued so far (the next REST call gets a 401). */
  expireTokens(): void;
  /** Requests received so far, in order. */
  requests(): readonly RecordedRequest[];
  clearRequests(): void;
  /** Removes records, faults, recorded requests and API usage. Credentials stay valid. */
  reset(): void;
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json;charset=UTF-8';
const XML_TYPE = 'text/xml;charset=UTF-8';

function base64url(input: string): Buffer {
  return Buffer.from(input.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/**
 * Starts a fake Salesforce that jsforce 3.10.16 talks to unmodified: the OAuth token endpoint
 * (refresh token, password, JWT bearer, client credentials), SOAP partner login, REST `search`
 * (SOSL subset, strict about reserved characters), `query` (SOQL subset, with paging), sObject
 * create/update/upsert, collections and composite, describe; Salesforce's error arrays and
 * status codes, `Sforce-Limit-Info`, expiring tokens and injectable faults and latency. It
 * returns its own URL as the instance URL.
 */
export async function startFakeSalesforce(options: FakeSalesforceOptions = {}): Promise<FakeSalesforce> {
  let currentVersion = '62.0';
  const now = options.clock ?? Date.now;
  const org = new FakeOrg(() => currentVersion, {
    ...(options.taskExternalIdField ? { taskExternalIdField: options.taskExternalIdField } : {}),
    taskExternalIdUnique: options.taskExternalIdUnique,
    clock: () => new Date(now()),
    searchIndexLagMs: options.searchIndexLagMs,
    phoneTokenisation: options.phoneTokenisation,
  });
  /** Data requests being answered, for the concurrent-request limit. */
  let inFlight = 0;
  const orgId = '00DFk0000000001AAA';
  const credentials = {
    accessToken: options.accessToken ?? `${orgId}!${randomBytes(24).toString('base64url')}`,
    clientId: options.clientId ?? `3MVG9fake${randomBytes(12).toString('hex')}`,
    clientSecret: options.clientSecret ?? randomBytes(16).toString('hex'),
    refreshToken: options.refreshToken ?? `5Aep861${randomBytes(24).toString('base64url')}`,
    username: options.username ?? 'integration@example.com',
    password: options.password ?? 'p4ssw0rd',
    securityToken: options.securityToken ?? 'SECTOKEN',
  };
  const jwtKey =
    options.jwtPublicKey === undefined
      ? undefined
      : typeof options.jwtPublicKey === 'string'
        ? createPublicKey(options.jwtPublicKey)
        : options.jwtPublicKey;
  /** access token → expiry (ms epoch, Infinity = never). */
  const tokens = new Map<string, number>([[credentials.accessToken, Number.POSITIVE_INFINITY]]);
  const refreshTokens = new Set([credentials.refreshToken]);
  const apiLimit = options.apiLimit ?? 15000;
  const batchSize = options.queryBatchSize ?? 2000;
  let apiUsed = 0;
  const latency = new Latency(options.latencyMs ?? 0);
  const faults = new FaultQueue<FakeSalesforceFault>();
  const recorded = new RequestLog<RecordedRequest>();
  const cursors = new Map<string, { records: Record<string, unknown>[]; offset: number }>();
  let cursorCounter = 0;
  let baseUrl = '';
  const xml = new XMLParser({ removeNSPrefix: true, parseTagValue: false });

  function issueToken(): Record<string, unknown> {
    const token = `${orgId}!${randomBytes(24).toString('base64url')}`;
    tokens.set(token, options.tokenTtlMs ? now() + options.tokenTtlMs : Number.POSITIVE_INFINITY);
    const issuedAt = String(now());
    return {
      access_token: token,
      instance_url: baseUrl,
      id: `${baseUrl}/id/${orgId}/${org.apiUserId}`,
      token_type: 'Bearer',
      issued_at: issuedAt,
      signature: createHmac('sha256', credentials.clientSecret)
        .update(`${baseUrl}/id/${orgId}/${org.apiUserId}${issuedAt}`)
        .digest('base64'),
      scope: 'api refresh_token',
    };
  }

  function family(method: string, path: string): FakeRequestFamily {
    if (path.startsWith('/services/oauth2/') || path.startsWith('/services/Soap/')) return 'token';
    if (/\/search\/?$/.test(path)) return 'search';
    if (/\/query(All)?(\/|$)/.test(path)) return 'query';
    return method === 'GET' ? 'read' : 'write';
  }

  function takeFault(fam: FakeRequestFamily): FakeSalesforceFault | undefined {
    return faults.take((f) => {
      const on = f.on ?? 'data';
      return on === 'any' || on === fam || (on === 'data' && fam !== 'token');
    });
  }

  function send(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    const isData = !headers['content-type'];
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      ...(isData && body !== undefined ? { 'content-type': JSON_TYPE } : {}),
      ...(isData ? { 'sforce-limit-info': `api-usage=${apiUsed}/${apiLimit}` } : {}),
      ...headers,
    });
    res.end(text);
  }

  function faultBody(fault: FakeSalesforceFault, fam: FakeRequestFamily): unknown[] {
    const byStatus: Record<number, [string, string]> = {
      400:
        fam === 'search'
          ? ['MALFORMED_SEARCH', 'No search term found. The search term must be enclosed in braces.']
          : fam === 'query'
            ? ['MALFORMED_QUERY', 'unexpected token: end of query']
            : ['REQUIRED_FIELD_MISSING', 'Required fields are missing: [Subject]'],
      401: ['INVALID_SESSION_ID', 'Session expired or invalid'],
      403: ['REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'],
      404: ['NOT_FOUND', 'The requested resource does not exist'],
      429: ['REQUEST_LIMIT_EXCEEDED', 'ConcurrentPerOrgLongTxn Limit exceeded.'],
      500: [
        'UNKNOWN_EXCEPTION',
        'An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)',
      ],
      503: ['SERVER_UNAVAILABLE', 'Server temporarily unavailable. Try again later.'],
    };
    const [code, message] = byStatus[fault.status] ?? [`ERROR_${fault.status}`, 'Injected failure'];
    return [{ message: fault.message ?? message, errorCode: fault.errorCode ?? code }];
  }

  function authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    const match = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(header);
    if (!match) return false;
    const expiry = tokens.get(match[1] as string);
    return expiry !== undefined && expiry > now();
  }

  function soapLogin(body: string): { status: number; body: string } {
    let username: unknown;
    let password: unknown;
    try {
      const doc = xml.parse(body) as {
        Envelope?: { Body?: { login?: { username?: unknown; password?: unknown } } };
      };
      username = doc.Envelope?.Body?.login?.username;
      password = doc.Envelope?.Body?.login?.password;
    } catch {
      // handled below
    }
    const fault = (code: string, text: string) => ({
      status: 500,
      body: `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body><soapenv:Fault><faultcode>sf:${code}</faultcode><faultstring>${text}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>`,
    });
    if (typeof username !== 'string' || typeof password !== 'string') {
      return fault(
        'INVALID_LOGIN',
        'INVALID_LOGIN: Invalid username, password, security token; or user locked out.',
      );
    }
    if (username !== credentials.username || password !== credentials.password + credentials.securityToken) {
      return fault(
        'INVALID_LOGIN',
        'INVALID_LOGIN: Invalid username, password, security token; or user locked out.',
      );
    }
    const session = issueToken().access_token as string;
    return {
      status: 200,
      body: `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result><metadataServerUrl>${baseUrl}/services/Soap/m/${currentVersion}/${orgId}</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>false</sandbox><serverUrl>${baseUrl}/services/Soap/u/${currentVersion}/${orgId}</serverUrl><sessionId>${session}</sessionId><userId>${org.apiUserId}</userId><userInfo><organizationId>${orgId}</organizationId><userName>${credentials.username}</userName></userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>`,
    };
  }

  function verifyJwt(assertion: string): string | undefined {
    const parts = assertion.split('.');
    if (parts.length !== 3 || !jwtKey) return 'invalid assertion';
    const [head, payload, signature] = parts as [string, string, string];
    let header: { alg?: string };
    let claims: { iss?: string; sub?: string; aud?: string; exp?: number };
    try {
      header = JSON.parse(base64url(head).toString('utf8')) as typeof header;
      claims = JSON.parse(base64url(payload).toString('utf8')) as typeof claims;
    } catch {
      return 'invalid assertion';
    }
    if (header.alg !== 'RS256') return 'invalid assertion';
    const ok = createVerify('RSA-SHA256').update(`${head}.${payload}`).verify(jwtKey, base64url(signature));
    if (!ok) return 'invalid assertion';
    if (claims.iss !== credentials.clientId) return 'invalid_client_id';
    if (typeof claims.exp !== 'number' || claims.exp * 1000 < now()) return 'expired authorization code';
    // Salesforce: the assertion's exp must be at most 3 minutes ahead
    if (claims.exp * 1000 > now() + 180_000) return 'invalid assertion';
    const audiences = ['https://login.salesforce.com', 'https://test.salesforce.com', baseUrl];
    if (!claims.aud || !audiences.includes(claims.aud.replace(/\/$/, ''))) return 'audience is invalid';
    if (claims.sub !== credentials.username) return "user hasn't approved this consumer";
    return undefined;
  }

  function tokenEndpoint(body: string): { status: number; body: unknown } {
    const params = new URLSearchParams(body);
    const grant = params.get('grant_type');
    const invalidGrant = (description: string) => ({
      status: 400,
      body: { error: 'invalid_grant', error_description: description },
    });
    const clientId = params.get('client_id');
    const clientSecret = params.get('client_secret');
    const checkClient = (secretRequired: boolean) => {
      if (clientId !== credentials.clientId) {
        return {
          status: 400,
          body: { error: 'invalid_client_id', error_description: 'client identifier invalid' },
        };
      }
      if ((secretRequired || clientSecret !== null) && clientSecret !== credentials.clientSecret) {
        return {
          status: 400,
          body: { error: 'invalid_client', error_description: 'invalid client credentials' },
        };
      }
      return undefined;
    };
    switch (grant) {
      case 'refresh_token': {
        const bad = checkClient(false);
        if (bad) return bad;
        const presented = params.get('refresh_token') ?? '';
        if (!refreshTokens.has(presented)) return invalidGrant('expired access/refresh token');
        const answer = issueToken();
        if (options.rotateRefreshTokens) {
          refreshTokens.delete(presented);
          const next = `5Aep861${randomBytes(24).toString('base64url')}`;
          refreshTokens.add(next);
          answer.refresh_token = next;
        }
        return { status: 200, body: answer };
      }
      case 'password': {
        const bad = checkClient(true);
        if (bad) return bad;
        if (
          params.get('username') !== credentials.username ||
          params.get('password') !== credentials.password + credentials.securityToken
        ) {
          return invalidGrant('authentication failure');
        }
        return { status: 200, body: issueToken() };
      }
      case 'urn:ietf:params:oauth:grant-type:jwt-bearer': {
        const problem = verifyJwt(params.get('assertion') ?? '');
        if (problem === 'invalid_client_id') {
          return {
            status: 400,
            body: { error: 'invalid_client_id', error_description: 'client identifier invalid' },
          };
        }
        if (problem) return invalidGrant(problem);
        const answer = issueToken();
        answer.scope = 'api';
        return { status: 200, body: answer };
      }
      case 'client_credentials': {
        const bad = checkClient(true);
        if (bad) return bad;
        return { status: 200, body: issueToken() };
      }
      default:
        return {
          status: 400,
          body: { error: 'unsupported_grant_type', error_description: 'grant type not supported' },
        };
    }
  }

  function queryPage(records: Record<string, unknown>[], offset: number, locator?: string) {
    const page = records.slice(offset, offset + batchSize);
    const done = offset + batchSize >= records.length;
    let nextLocator = locator;
    if (!done) {
      nextLocator = nextLocator ?? `01gFk${String(++cursorCounter).padStart(13, '0')}`;
      cursors.set(nextLocator, { records, offset: offset + batchSize });
    } else if (locator) cursors.delete(locator);
    return {
      totalSize: records.length,
      done,
      ...(done
        ? {}
        : { nextRecordsUrl: `/services/data/v${currentVersion}/query/${nextLocator}-${offset + batchSize}` }),
      records: page,
    };
  }

  function saveResult(record: StoredRecord, created?: boolean) {
    return { id: record.Id, success: true, errors: [], ...(created === undefined ? {} : { created }) };
  }

  function collectionError(error: unknown) {
    const sf = error instanceof SfError ? error : new SfError(500, 'UNKNOWN_EXCEPTION', String(error));
    return {
      success: false,
      errors: [{ statusCode: sf.errorCode, message: sf.message, fields: [...(sf.fields ?? [])] }],
    };
  }

  /** Serves one REST request below `/services/data/vXX.X`. Throws SfError for error answers. */
  function dataRequest(
    method: string,
    rest: string,
    search: URLSearchParams,
    body: unknown,
  ): { status: number; body?: unknown } {
    const segments = rest
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    const [head, ...tail] = segments;
    const asObject = (value: unknown): Record<string, unknown> => {
      if (!value || typeof value !== 'object' || Array.isArray(value)) {
        throw new SfError(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object');
      }
      return value as Record<string, unknown>;
    };
    if (head === 'search' && method === 'GET' && tail.length === 0) {
      const q = search.get('q');
      if (!q)
        throw new SfError(
          400,
          'MALFORMED_SEARCH',
          'No search term found. The search term must be enclosed in braces.',
        );
      return { status: 200, body: { searchRecords: org.search(q).searchRecords } };
    }
    if ((head === 'query' || head === 'queryAll') && method === 'GET') {
      if (tail.length === 1) {
        const [locator, offsetText] = (tail[0] as string).split('-');
        const cursor = locator ? cursors.get(locator) : undefined;
        if (!cursor || Number(offsetText) !== cursor.offset) {
          throw new SfError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
        }
        return { status: 200, body: queryPage(cursor.records, cursor.offset, locator) };
      }
      const q = search.get('q');
      if (!q) throw new SfError(400, 'MALFORMED_QUERY', 'unexpected token: <EOF>');
      return { status: 200, body: queryPage(org.query(q).records, 0) };
    }
    if (head === 'limits' && method === 'GET') {
      return {
        status: 200,
        body: { DailyApiRequests: { Max: apiLimit, Remaining: Math.max(0, apiLimit - apiUsed) } },
      };
    }
    if (head === 'sobjects') {
      const [typeName, a, b, ...more] = tail;
      if (!typeName) throw new SfError(404, 'NOT_FOUND', 'The requested resource does not exist');
      const type = org.objectName(typeName);
      if (more.length > 0) throw new SfError(404, 'NOT_FOUND', 'The requested resource does not exist');
      if (a === 'describe' && b === undefined && method === 'GET') {
        const def = org.schema[type];
        return {
          status: 200,
          body: {
            name: type,
            keyPrefix: def?.keyPrefix,
            fields: Object.entries(def?.fields ?? {}).map(([name, field]) => ({
              name,
              type: field.type,
              length: field.length ?? 0,
              externalId: field.externalId ?? false,
              unique: field.unique ?? false,
              nillable: !field.required,
              createable: !field.readOnly,
              updateable: !field.readOnly && !field.createOnly,
              referenceTo: [...(field.referenceTo ?? [])],
              relationshipName: field.relationshipName ?? null,
              picklistValues: (field.values ?? []).map((value) => ({ value, label: value, active: true })),
            })),
          },
        };
      }
      if (a === undefined && method === 'POST') {
        return { status: 201, body: saveResult(org.insert(type, asObject(body))) };
      }
      if (a !== undefined && b === undefined) {
        if (method === 'GET') {
          const found = org.findById(a);
          if (!found || found.type !== type)
            throw new SfError(404, 'NOT_FOUND', 'The requested resource does not exist');
          const fields = search.get('fields')?.split(',') ?? Object.keys(org.schema[type]?.fields ?? {});
          return { status: 200, body: org.project(type, found.record, fields) };
        }
        if (method === 'PATCH') {
          org.update(type, a, asObject(body));
          return { status: 204 };
        }
      }
      if (a !== undefined && b !== undefined && method === 'PATCH') {
        const { record, created } = org.upsert(type, a, b, asObject(body));
        return { status: created ? 201 : 200, body: saveResult(record, created) };
      }
      throw new SfError(
        405,
        'METHOD_NOT_ALLOWED',
        `HTTP Method '${method}' not allowed. Allowed are GET,PATCH,POST`,
      );
    }
    if (head === 'composite' && tail[0] === 'sobjects') {
      const payload = asObject(body);
      const records = payload.records;
      if (!Array.isArray(records)) throw new SfError(400, 'JSON_PARSER_ERROR', 'records is required');
      if (records.length > 200) {
        throw new SfError(
          400,
          'EXCEEDED_ID_LIMIT',
          'record limit reached. cannot submit more than 200 records into this call',
        );
      }
      const allOrNone = payload.allOrNone === true;
      if (method === 'POST' && tail.length === 1) {
        const results: unknown[] = [];
        let failed = false;
        for (const item of records) {
          const record = asObject(item);
          const attributes = record.attributes as { type?: string } | undefined;
          if (failed && allOrNone) {
            results.push({
              success: false,
              errors: [
                {
                  statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
                  message:
                    'Record rolled back because not all records were valid and the request was using AllOrNone header',
                  fields: [],
                },
              ],
            });
            continue;
          }
          try {
            if (!attributes?.type)
              throw new SfError(400, 'INVALID_TYPE', 'No SObject Type defined in record');
            results.push(saveResult(org.insert(attributes.type, record)));
          } catch (error) {
            failed = true;
            results.push(collectionError(error));
          }
        }
        return { status: 200, body: results };
      }
      if (method === 'PATCH' && tail.length === 3) {
        const [, typeName, field] = tail as [string, string, string];
        const results: unknown[] = [];
        for (const item of records) {
          const record = asObject(item);
          try {
            const key = Object.keys(record).find((k) => k.toLowerCase() === field.toLowerCase());
            const value = key ? record[key] : undefined;
            if (typeof value !== 'string' || value === '') {
              throw new SfError(400, 'INVALID_FIELD', `${field}: External ID is missing on this record`);
            }
            const { record: saved, created } = org.upsert(typeName, field, value, record);
            results.push(saveResult(saved, created));
          } catch (error) {
            if (error instanceof SfError && error.status === 404) throw error;
            results.push(collectionError(error));
          }
        }
        return { status: 200, body: results };
      }
    }
    if (head === 'composite' && tail.length === 0 && method === 'POST') {
      const payload = asObject(body);
      const subrequests = payload.compositeRequest;
      if (!Array.isArray(subrequests))
        throw new SfError(400, 'JSON_PARSER_ERROR', 'compositeRequest is required');
      if (subrequests.length > 25) {
        throw new SfError(
          400,
          'LIMIT_EXCEEDED',
          'Composite request limit exceeded: no more than 25 subrequests.',
        );
      }
      const refs = new Map<string, Record<string, unknown>>();
      const substitute = (value: unknown): unknown => {
        if (typeof value === 'string') {
          return value.replace(/@\{([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)\}/g, (_, ref: string, field: string) =>
            String(refs.get(ref)?.[field] ?? ''),
          );
        }
        if (Array.isArray(value)) return value.map(substitute);
        if (value && typeof value === 'object') {
          return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v)]));
        }
        return value;
      };
      const out: unknown[] = [];
      let halted = false;
      for (const raw of subrequests) {
        const sub = asObject(raw);
        const referenceId = String(sub.referenceId ?? '');
        if (halted) {
          out.push({
            body: [
              {
                errorCode: 'PROCESSING_HALTED',
                message:
                  'The transaction was rolled back since another operation in the same transaction failed.',
              },
            ],
            httpHeaders: {},
            httpStatusCode: 400,
            referenceId,
          });
          continue;
        }
        const url = new URL(String(substitute(sub.url)), baseUrl);
        const match = /^\/services\/data\/v(\d+\.\d)(\/.*)$/.exec(url.pathname);
        try {
          if (!match) throw new SfError(404, 'NOT_FOUND', 'The requested resource does not exist');
          const answer = dataRequest(
            String(sub.method ?? 'GET').toUpperCase(),
            match[2] as string,
            url.searchParams,
            substitute(sub.body),
          );
          if (answer.body && typeof answer.body === 'object' && !Array.isArray(answer.body)) {
            refs.set(referenceId, answer.body as Record<string, unknown>);
          }
          out.push({
            body: answer.body ?? null,
            httpHeaders: {},
            httpStatusCode: answer.status,
            referenceId,
          });
        } catch (error) {
          const sf = error instanceof SfError ? error : new SfError(500, 'UNKNOWN_EXCEPTION', String(error));
          out.push({ body: [sf.toElement()], httpHeaders: {}, httpStatusCode: sf.status, referenceId });
          if (payload.allOrNone === true) halted = true;
        }
      }
      return { status: 200, body: { compositeResponse: out } };
    }
    throw new SfError(404, 'NOT_FOUND', 'The requested resource does not exist');
  }

  async function handle(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', baseUrl);
    const path = url.pathname;
    const fam = family(method, path);
    const versionMatch = /^\/services\/(?:data\/v|Soap\/u\/)(\d+\.\d)/.exec(path);
    if (versionMatch) currentVersion = versionMatch[1] as string;
    let parsedBody: unknown;
    const record = (status: number) => {
      recorded.record({
        method,
        path,
        family: fam,
        ...(versionMatch ? { apiVersion: versionMatch[1] as string } : {}),
        ...(url.searchParams.has('q') ? { q: url.searchParams.get('q') as string } : {}),
        ...(fam === 'token'
          ? { body: { grant_type: new URLSearchParams(raw).get('grant_type') ?? 'soap-login' } }
          : parsedBody !== undefined
            ? { body: parsedBody }
            : {}),
        status,
      });
    };
    // a request holds its place from arrival to answer (the latency is its processing time)
    const busy =
      fam !== 'token' && options.concurrentLimit !== undefined && inFlight >= options.concurrentLimit;
    if (!busy && fam !== 'token') {
      inFlight++;
      res.once('close', () => {
        inFlight--;
      });
    }
    if (latency.ms > 0) await latency.wait();
    if (busy) {
      record(403);
      send(res, 403, [
        { message: 'ConcurrentPerOrgLongTxn Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' },
      ]);
      return;
    }

    const fault = takeFault(fam);
    if (fault) {
      record(fault.status);
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      if (fam === 'token') {
        send(
          res,
          fault.status,
          {
            error: fault.errorCode ?? 'invalid_grant',
            error_description: fault.message ?? 'injected failure',
          },
          { 'content-type': JSON_TYPE, ...headers },
        );
        return;
      }
      if (fault.status !== 401) apiUsed++;
      send(res, fault.status, faultBody(fault, fam), headers);
      return;
    }

    if (path === '/services/oauth2/token' && method === 'POST') {
      const answer = tokenEndpoint(raw);
      record(answer.status);
      send(res, answer.status, answer.body, { 'content-type': JSON_TYPE });
      return;
    }
    if (path === '/services/oauth2/revoke' && method === 'POST') {
      const token = new URLSearchParams(raw).get('token') ?? '';
      tokens.delete(token);
      refreshTokens.delete(token);
      record(200);
      send(res, 200, '', { 'content-type': 'text/plain' });
      return;
    }
    if (/^\/services\/Soap\/u\/\d+\.\d$/.test(path) && method === 'POST') {
      const answer = soapLogin(raw);
      record(answer.status);
      send(res, answer.status, answer.body, { 'content-type': XML_TYPE });
      return;
    }
    const data = /^\/services\/data\/v\d+\.\d(\/.*)?$/.exec(path);
    if (!data) {
      record(404);
      send(res, 404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
      return;
    }
    if (!authorized(req)) {
      record(401);
      send(res, 401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
      return;
    }
    apiUsed++;
    if (apiUsed > apiLimit) {
      record(403);
      send(res, 403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
      return;
    }

    if (raw !== '') {
      try {
        parsedBody = JSON.parse(raw);
      } catch {
        record(400);
        send(res, 400, [
          { message: 'Unexpected character in the JSON body', errorCode: 'JSON_PARSER_ERROR' },
        ]);
        return;
      }
    }
    try {
      const answer = dataRequest(method, data[1] ?? '/', url.searchParams, parsedBody);
      record(answer.status);
      send(res, answer.status, answer.body);
    } catch (error) {
      if (error instanceof SfError) {
        record(error.status);
        const urls = (error as SfError & { urls?: string[] }).urls;
        send(res, error.status, urls ?? [error.toElement()]);
        return;
      }
      record(500);
      send(res, 500, [
        { message: `An unexpected error occurred: ${String(error)}`, errorCode: 'UNKNOWN_EXCEPTION' },
      ]);
    }
  }

  const http = await listenFakeServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((error: unknown) => {
        if (!res.headersSent) send(res, 500, [{ message: String(error), errorCode: 'UNKNOWN_EXCEPTION' }]);
        else res.end();
      });
    });
  });
  baseUrl = http.url;

  return {
    url: baseUrl,
    credentials,
    apiUserId: org.apiUserId,
    insert: (type, fields, insertOptions) => org.insert(type, fields, insertOptions).Id,
    records: (type) => org.records(type),
    inject(fault) {
      faults.inject(fault);
    },
    setLatency(ms) {
      latency.set(ms);
    },
    expireTokens() {
      for (const token of tokens.keys()) tokens.set(token, 0);
    },
    requests: () => recorded.list(),
    clearRequests() {
      recorded.clear();
    },
    reset() {
      org.reset();
      faults.clear();
      recorded.clear();
      apiUsed = 0;
      cursors.clear();
    },
    close: () => http.close(),
  };
}
