import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenFakeServer, RequestLog } from '../fake-server/index.js';
import { parisWall } from '../scenario/scenario.js';

/** An access rule of a consumer key: a method and a path pattern where `*` matches one or more characters. */
export interface FakeOvhAccessRule {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
}

/** Options of {@link startFakeOvhApi}. */
export interface FakeOvhApiOptions {
  readonly applicationKey?: string;
  readonly applicationSecret?: string;
  readonly consumerKey?: string;
  /** Server clock minus local clock, seconds (to test the `/auth/time` offset). Default 0. */
  readonly clockSkewSeconds?: number;
  /** Accepted distance between `X-Ovh-Timestamp` and the server clock, seconds. Default 180. */
  readonly maxTimestampDriftSeconds?: number;
  /** The consumer key's access rules. Default: every method on `/*`. */
  readonly accessRules?: readonly FakeOvhAccessRule[];
  /** Billing accounts that exist (others answer 404). Default: any. */
  readonly billingAccounts?: readonly string[];
  /** Clock of the call records' visibility (epoch ms). Default `Date.now`. */
  readonly clock?: () => number;
  /** A call record is listed this long after its call ended, as OVH's are (default 5 minutes). */
  readonly recordDelayMs?: number;
}

/** A call record to serve (`telephony.VoiceConsumption`). */
export interface FakeCallRecordInput {
  readonly calling: string;
  readonly called: string;
  readonly dialed?: string;
  readonly startedAt: Date;
  readonly durationSeconds: number;
  readonly wayType: 'incoming' | 'outgoing' | 'transfer';
  readonly hangupNature?: string;
}

/** A request the fake API received. */
export interface FakeOvhApiRequest {
  readonly method: string;
  /** Path under `/1.0`, with the query string. */
  readonly path: string;
  /** True when it carried a signature (whether valid or not). */
  readonly signed: boolean;
  readonly status: number;
}

/** A running fake of the OVH API v1 (the event-token routes), verifying signatures. */
export interface FakeOvhApi {
  /** Base URL to use as the client's `endpoint` (`http://127.0.0.1:PORT/1.0`). */
  readonly url: string;
  readonly applicationKey: string;
  readonly applicationSecret: string;
  readonly consumerKey: string;
  /** Event tokens held, by route path (`/telephony/ba/eventToken`). */
  tokens(): Record<string, string>;
  /**
   * Adds a call record to a line: listed by `GET /telephony/{ba}/service/{sn}/voiceConsumption`
   * (ids, or whole objects in pages with `X-Pagination-Mode: CachedObjectList-Pages`) once
   * `recordDelayMs` has passed since the call ended. Returns its `consumptionId`.
   */
  addCallRecord(
    line: { readonly billingAccount: string; readonly serviceName: string },
    record: FakeCallRecordInput,
  ): number;
  requests(): FakeOvhApiRequest[];
  close(): Promise<void>;
}

const EXPIRATIONS = new Set(['5 minutes', '1 hour', '1 day', '30 days', 'unlimited']);

const TOKEN_ROUTE = /^\/1\.0\/telephony\/([^/]+)(?:\/service\/([^/]+))?\/eventToken$/;
const CONSUMPTION_ROUTE = /^\/1\.0\/telephony\/([^/]+)\/service\/([^/]+)\/voiceConsumption(?:\/(\d+))?$/;

/**
 * Starts a fake OVH API on 127.0.0.1 (random port). It serves the unsigned `GET /1.0/auth/time` and
 * `GET|POST|DELETE /1.0/telephony/{ba}/eventToken` and `/1.0/telephony/{ba}/service/{sn}/eventToken`,
 * and checks every other request the way OVH does: application key (403 `INVALID_KEY`), consumer key
 * (403 `INVALID_CREDENTIAL`), timestamp (400 `QUERY_TIME_OUT`), signature over the full URL and the
 * body (400 `INVALID_SIGNATURE`), access rules (403 `NOT_GRANTED_CALL`). A missing token answers 404
 * `{"class":"Client::NotFound","message":"The requested object (eventToken) does not exist"}`. POST
 * replaces an existing token (real behaviour unknown) and answers the token as a JSON string.
 */
export async function startFakeOvhApi(options: FakeOvhApiOptions = {}): Promise<FakeOvhApi> {
  const applicationKey = options.applicationKey ?? randomBytes(8).toString('hex');
  const applicationSecret = options.applicationSecret ?? randomBytes(16).toString('hex');
  const consumerKey = options.consumerKey ?? randomBytes(16).toString('hex');
  const skew = options.clockSkewSeconds ?? 0;
  const maxDrift = options.maxTimestampDriftSeconds ?? 180;
  const rules = options.accessRules ?? [
    { method: 'GET', path: '/*' },
    { method: 'POST', path: '/*' },
    { method: 'PUT', path: '/*' },
    { method: 'DELETE', path: '/*' },
  ];
  const ruleRegexes = rules.map((rule) => ({
    method: rule.method,
    regex: new RegExp(`^${rule.path.split('*').map(escapeRegex).join('.+')}$`),
  }));
  const tokens = new Map<string, string>();
  const clock = options.clock ?? Date.now;
  const recordDelayMs = options.recordDelayMs ?? 5 * 60_000;
  const callRecords = new Map<
    string,
    Array<{ id: number; visibleAt: number; body: Record<string, unknown> }>
  >();
  let nextConsumptionId = 8_000_000_000;
  const pageCursors = new Map<string, unknown[]>();
  const log = new RequestLog<FakeOvhApiRequest>();
  const serverTime = () => Math.round(Date.now() / 1000) + skew;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const rawPath = req.url ?? '/';
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const signature = header(req, 'x-ovh-signature');
    const reply = (status: number, value: unknown) => {
      log.record({ method, path: rawPath.replace(/^\/1\.0/, ''), signed: signature !== undefined, status });
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'x-ovh-queryid': `FR.fake.${randomUUID()}`,
      });
      res.end(JSON.stringify(value));
    };
    const error = (status: number, errorCode: string, message: string) =>
      reply(status, {
        errorCode,
        httpCode: `${status} ${status === 400 ? 'Bad Request' : 'Forbidden'}`,
        message,
      });

    if (method === 'GET' && rawPath === '/1.0/auth/time') return reply(200, serverTime());

    if (header(req, 'x-ovh-application') !== applicationKey) {
      return error(403, 'INVALID_KEY', 'This application key is invalid');
    }
    const consumer = header(req, 'x-ovh-consumer');
    if (!consumer) return error(403, 'NOT_CREDENTIAL', 'You must login first');
    if (consumer !== consumerKey) return error(403, 'INVALID_CREDENTIAL', 'This credential does not exist');
    const timestamp = Number(header(req, 'x-ovh-timestamp'));
    if (!Number.isInteger(timestamp) || Math.abs(timestamp - serverTime()) > maxDrift) {
      return error(400, 'QUERY_TIME_OUT', 'Query out of time');
    }
    const url = `http://${req.headers.host ?? ''}${rawPath}`;
    const expected = `$1$${createHash('sha1')
      .update([applicationSecret, consumerKey, method, url, body, String(timestamp)].join('+'))
      .digest('hex')}`;
    if (signature !== expected) return error(400, 'INVALID_SIGNATURE', 'Invalid signature');

    const path = rawPath.replace(/^\/1\.0/, '').split('?')[0] ?? '';
    if (!ruleRegexes.some((rule) => rule.method === method && rule.regex.test(path))) {
      return error(403, 'NOT_GRANTED_CALL', 'This call has not been granted');
    }

    const consumption = CONSUMPTION_ROUTE.exec(rawPath.split('?')[0] ?? '');
    if (consumption && method === 'GET') {
      const lineKey = `${decodeURIComponent(consumption[1] ?? '')}/${decodeURIComponent(consumption[2] ?? '')}`;
      const visible = (callRecords.get(lineKey) ?? []).filter((r) => r.visibleAt <= clock());
      if (consumption[3] !== undefined) {
        const found = visible.find((r) => String(r.id) === consumption[3]);
        return found
          ? reply(200, found.body)
          : reply(404, {
              class: 'Client::NotFound',
              message: 'The requested object (consumptionId) does not exist',
            });
      }
      const query = new URL(rawPath, 'http://x').searchParams;
      const from = Date.parse(query.get('creationDatetime.from') ?? '');
      const to = Date.parse(query.get('creationDatetime.to') ?? '');
      const inWindow = visible.filter((r) => {
        const at = Date.parse(String(r.body.creationDatetime));
        return (Number.isNaN(from) || at >= from) && (Number.isNaN(to) || at <= to);
      });
      if (header(req, 'x-pagination-mode') !== 'CachedObjectList-Pages') {
        return reply(
          200,
          inWindow.map((r) => r.id),
        );
      }
      const size = Math.min(1000, Math.max(1, Number(header(req, 'x-pagination-size') ?? 100) || 100));
      const cursor = header(req, 'x-pagination-cursor');
      const rest = cursor === undefined ? inWindow.map((r) => r.body) : pageCursors.get(cursor);
      if (rest === undefined) return reply(400, { class: 'Client::BadRequest', message: 'Invalid cursor' });
      if (cursor !== undefined) pageCursors.delete(cursor);
      const page = rest.slice(0, size);
      if (rest.length > size) {
        const next = randomUUID();
        pageCursors.set(next, rest.slice(size));
        res.setHeader('x-pagination-cursor-next', next);
      }
      return reply(200, page);
    }
    const route = TOKEN_ROUTE.exec(rawPath.split('?')[0] ?? '');
    if (!route)
      return reply(404, {
        errorCode: 'NOT_FOUND',
        httpCode: '404 Not Found',
        message: 'Got an invalid (or empty) URL',
      });
    const billingAccount = decodeURIComponent(route[1] ?? '');
    if (options.billingAccounts && !options.billingAccounts.includes(billingAccount)) {
      return reply(404, {
        class: 'Client::NotFound',
        message: `The requested object (billingAccount) does not exist`,
      });
    }
    const key = path;
    if (method === 'GET') {
      const token = tokens.get(key);
      return token
        ? reply(200, { token })
        : reply(404, {
            class: 'Client::NotFound',
            message: 'The requested object (eventToken) does not exist',
          });
    }
    if (method === 'POST') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return reply(400, { class: 'Client::BadRequest', message: 'Invalid JSON received' });
      }
      const expiration = (parsed as { expiration?: unknown } | null)?.expiration;
      if (typeof expiration !== 'string' || !EXPIRATIONS.has(expiration)) {
        return reply(400, {
          class: 'Client::BadRequest',
          message: `Invalid value for property expiration: ${JSON.stringify(expiration)}`,
        });
      }
      const token = randomUUID().toUpperCase();
      tokens.set(key, token);
      return reply(200, token);
    }
    if (method === 'DELETE') {
      if (!tokens.delete(key)) {
        return reply(404, {
          class: 'Client::NotFound',
          message: 'The requested object (eventToken) does not exist',
        });
      }
      return reply(200, null);
    }
    return reply(405, { class: 'Client::MethodNotAllowed', message: `Method ${method} not allowed` });
  };

  const http = await listenFakeServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  return {
    url: `${http.url}/1.0`,
    applicationKey,
    applicationSecret,
    consumerKey,
    tokens: () => Object.fromEntries(tokens),
    addCallRecord(line, record) {
      const id = nextConsumptionId++;
      const key = `${line.billingAccount}/${line.serviceName}`;
      const list = callRecords.get(key) ?? [];
      list.push({
        id,
        visibleAt: record.startedAt.getTime() + record.durationSeconds * 1000 + recordDelayMs,
        body: {
          consumptionId: id,
          creationDatetime: parisIso(record.startedAt),
          calling: record.calling,
          called: record.called,
          dialed: record.dialed ?? record.called,
          duration: record.durationSeconds,
          wayType: record.wayType,
          hangupNature: record.hangupNature ?? '',
          destinationType: 'landline',
          planType: 'priceplan',
          designation: 'OVH VoIP',
          countrySuffix: 'ovh',
          priceWithoutTax: { currencyCode: 'EUR', value: 0, text: '0.00 €' },
        },
      });
      callRecords.set(key, list);
      return id;
    },
    requests: () => log.list(),
    close: () => http.close(),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** ISO 8601 with the Paris offset, as OVH's API writes times (`2026-12-05T10:00:00+01:00`). */
function parisIso(date: Date): string {
  const wall = parisWall(date.getTime());
  return `${wall.day}T${wall.time}${wall.label === 'CEST' ? '+02:00' : '+01:00'}`;
}
