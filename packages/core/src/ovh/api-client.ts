import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { request } from './http.js';

/** OVH API regions this client knows by name; any `http(s)://…/1.0` URL works too. */
export const OVH_API_ENDPOINTS = {
  'ovh-eu': 'https://eu.api.ovh.com/1.0',
  'ovh-ca': 'https://ca.api.ovh.com/1.0',
  'ovh-us': 'https://api.us.ovhcloud.com/1.0',
} as const;

/** A named region or a base URL (including `/1.0`). */
export type OvhApiEndpoint = keyof typeof OVH_API_ENDPOINTS | (string & {});

/** Options of {@link createOvhApiClient}. */
export interface OvhApiClientOptions {
  /** `ovh-eu` (default), `ovh-ca`, `ovh-us`, or a base URL such as `https://eu.api.ovh.com/1.0`. */
  readonly endpoint?: OvhApiEndpoint;
  /** Application key (AK). */
  readonly applicationKey: string;
  /** Application secret (AS). Never logged, never put in an error. */
  readonly applicationSecret: string;
  /** Consumer key (CK). Never logged, never put in an error. */
  readonly consumerKey: string;
  /** An undici dispatcher (tests, proxies). Default: undici's global dispatcher. */
  readonly dispatcher?: Dispatcher;
  /** Local clock, epoch ms. Default `Date.now`. */
  readonly now?: () => number;
  /** Timeout of one request. Default 30,000 ms. */
  readonly timeoutMs?: number;
}

const optionsSchema = z.object({
  endpoint: z.string().min(1).optional(),
  applicationKey: z.string().min(1, 'applicationKey is required'),
  applicationSecret: z.string().min(1, 'applicationSecret is required'),
  consumerKey: z.string().min(1, 'consumerKey is required'),
  timeoutMs: z.number().int().positive().optional(),
});

/** Lifetime of a new event token (the API's `telephony.TokenExpirationEnum`). */
export type EventTokenExpiration = '5 minutes' | '1 hour' | '1 day' | '30 days' | 'unlimited';

/** Whose events a token streams: a whole billing account, or one line/number (`serviceName`). */
export interface EventTokenTarget {
  /** Billing account (`ab12345-ovh-1`). */
  readonly billingAccount: string;
  /** A number of the billing account (`0033972123456`); omit for the billing account token. */
  readonly serviceName?: string;
}

/** What went wrong calling the OVH API, in terms a caller acts on. */
export type OvhApiErrorKind = 'auth' | 'not-found' | 'invalid' | 'rate-limit' | 'transient';

/** An OVH API failure. The message says what to fix; it never contains a secret. */
export class OvhApiError extends Error {
  override readonly name = 'OvhApiError';
  readonly kind: OvhApiErrorKind;
  /** HTTP status, when the API answered. */
  readonly status?: number;
  /** OVH's `errorCode` (`INVALID_SIGNATURE`, `NOT_GRANTED_CALL`, …) or `class` (`Client::NotFound`). */
  readonly code?: string;
  /** `X-Ovh-QueryId` of the answer, for OVH support. */
  readonly queryId?: string;

  constructor(
    kind: OvhApiErrorKind,
    message: string,
    details: {
      status?: number | undefined;
      code?: string | undefined;
      queryId?: string | undefined;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = kind;
    if (details.status !== undefined) this.status = details.status;
    if (details.code !== undefined) this.code = details.code;
    if (details.queryId !== undefined) this.queryId = details.queryId;
  }
}

/** A client of the OVH API (v1), signing its requests. */
export interface OvhApiClient {
  /** The API base URL in use (`https://eu.api.ovh.com/1.0`). */
  readonly baseUrl: string;
  /** A signed request; `path` starts with `/` (`/telephony`). Returns the parsed JSON answer. */
  request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<unknown>;
  /**
   * Every object of a listing, through OVH's paged object mode (`X-Pagination-Mode:
   * CachedObjectList-Pages`: whole objects, `pageSize` per request, following
   * `X-Pagination-Cursor-Next`), instead of a list of ids and one request per object.
   */
  listObjects(path: string, pageSize?: number): Promise<unknown[]>;
  /** Server time minus local time, in seconds (from the unsigned `GET /auth/time`, fetched once). */
  timeDelta(): Promise<number>;
  /** Event tokens for the CTI stream (`/telephony/{ba}/eventToken`, `/telephony/{ba}/service/{sn}/eventToken`). */
  readonly eventTokens: {
    /** Creates a token (default lifetime `unlimited`) and returns it. */
    create(target: EventTokenTarget & { readonly expiration?: EventTokenExpiration }): Promise<string>;
    /** The current token, or undefined when none exists. */
    get(target: EventTokenTarget): Promise<string | undefined>;
    /** Deletes the token; throws `not-found` when there is none. */
    delete(target: EventTokenTarget): Promise<void>;
  };
}

/**
 * OVH's signature: `$1$` + SHA-1 hex of `AS+CK+METHOD+URL+BODY+TIMESTAMP` joined with `+`, where
 * URL is the full URL (with `/1.0` and the query string) and BODY the exact JSON text sent.
 */
export function signOvhRequest(input: {
  readonly applicationSecret: string;
  readonly consumerKey: string;
  readonly method: string;
  readonly url: string;
  readonly body: string;
  readonly timestamp: number;
}): string {
  const text = [
    input.applicationSecret,
    input.consumerKey,
    input.method,
    input.url,
    input.body,
    input.timestamp,
  ].join('+');
  return `$1$${createHash('sha1').update(text).digest('hex')}`;
}

/** JSON with non-ASCII characters escaped as `\uXXXX`, as OVH's own clients send (and sign) it. */
export function ovhJsonBody(body: unknown): string {
  return JSON.stringify(body).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const errorBodySchema = z.looseObject({
  errorCode: z.string().optional(),
  class: z.string().optional(),
  message: z.string().optional(),
});

const eventTokenSchema = z.looseObject({ token: z.string().min(1) });

/** What to tell the user for each OVH auth error code. */
const AUTH_HINTS: Readonly<Record<string, string>> = {
  INVALID_SIGNATURE:
    'OVH rejected the request signature: the application secret does not match the application key, or the consumer key is wrong. Check applicationSecret and consumerKey',
  INVALID_KEY:
    'OVH does not know this application key: check applicationKey (create an application at /createApp)',
  INVALID_CREDENTIAL:
    'OVH does not know this consumer key (revoked, expired or for another application): request a new consumer key',
  NOT_CREDENTIAL: 'OVH received no consumer key: set consumerKey',
  NOT_CREDENTIAL_VALIDATED:
    'this consumer key was never validated: open the validation URL returned when it was requested, and log in',
  NOT_GRANTED_CALL:
    'the consumer key lacks an access rule for this call: request a consumer key with GET, POST and DELETE on /telephony/*/eventToken and /telephony/*/service/*/eventToken',
  FORBIDDEN: 'OVH forbids this call for this account',
  QUERY_TIME_OUT: 'OVH rejected the request timestamp (clock drift): check the system clock',
};

/**
 * Creates an OVH API client signing requests with AK/AS/CK (no OVH SDK). The clock offset comes from
 * the unsigned `GET /auth/time`, fetched once; a `QUERY_TIME_OUT` answer re-syncs it and retries once.
 * Errors are {@link OvhApiError}s whose message says what to fix.
 */
export function createOvhApiClient(options: OvhApiClientOptions): OvhApiClient {
  const checked = optionsSchema.safeParse(options);
  if (!checked.success) {
    throw new OvhApiError(
      'invalid',
      `invalid OVH API options: ${checked.error.issues.map((i) => i.message).join('; ')}`,
    );
  }
  const endpoint = options.endpoint ?? 'ovh-eu';
  const named = (OVH_API_ENDPOINTS as Record<string, string>)[endpoint];
  if (!named && !/^https?:\/\//.test(endpoint)) {
    throw new OvhApiError(
      'invalid',
      `unknown OVH endpoint "${endpoint}": use ovh-eu, ovh-ca, ovh-us or a URL such as https://eu.api.ovh.com/1.0`,
    );
  }
  const baseUrl = (named ?? endpoint).replace(/\/+$/, '');
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 30_000;
  let delta: Promise<number> | undefined;

  async function send(
    method: string,
    path: string,
    body: string | undefined,
    headers: Record<string, string>,
  ) {
    try {
      const response = await request(`${baseUrl}${path}`, {
        method: method as Dispatcher.HttpMethod,
        headers: { accept: 'application/json', ...headers },
        ...(body !== undefined ? { body } : {}),
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const text = await response.body.text();
      const queryId = response.headers['x-ovh-queryid'];
      const cursor = response.headers['x-pagination-cursor-next'];
      return {
        status: response.statusCode,
        text,
        queryId: typeof queryId === 'string' ? queryId : undefined,
        nextCursor: typeof cursor === 'string' && cursor !== '' ? cursor : undefined,
      };
    } catch (error) {
      throw new OvhApiError(
        'transient',
        `could not reach the OVH API at ${baseUrl}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }

  function parseJson(text: string): unknown {
    if (text === '') return null;
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }

  function timeDelta(): Promise<number> {
    delta ??= (async () => {
      const answer = await send('GET', '/auth/time', undefined, {});
      const time = Number(parseJson(answer.text));
      if (answer.status !== 200 || !Number.isFinite(time)) {
        delta = undefined;
        throw new OvhApiError('transient', `OVH API /auth/time answered HTTP ${answer.status}`, {
          status: answer.status,
        });
      }
      return time - Math.round(now() / 1000);
    })();
    const pending = delta;
    pending.catch(() => {
      if (delta === pending) delta = undefined;
    });
    return pending;
  }

  async function signed(method: string, path: string, payload?: unknown, retried = false): Promise<unknown> {
    return (await signedWithHeaders(method, path, payload, {}, retried)).json;
  }

  async function signedWithHeaders(
    method: string,
    path: string,
    payload: unknown,
    extraHeaders: Record<string, string>,
    retried = false,
  ): Promise<{ json: unknown; nextCursor: string | undefined }> {
    const body = payload === undefined ? '' : ovhJsonBody(payload);
    const timestamp = Math.round(now() / 1000) + (await timeDelta());
    const signature = signOvhRequest({
      applicationSecret: options.applicationSecret,
      consumerKey: options.consumerKey,
      method,
      url: `${baseUrl}${path}`,
      body,
      timestamp,
    });
    const answer = await send(method, path, payload === undefined ? undefined : body, {
      'content-type': 'application/json',
      'x-ovh-application': options.applicationKey,
      'x-ovh-consumer': options.consumerKey,
      'x-ovh-timestamp': String(timestamp),
      'x-ovh-signature': signature,
      ...extraHeaders,
    });
    const json = parseJson(answer.text);
    if (answer.status >= 200 && answer.status < 300) return { json, nextCursor: answer.nextCursor };
    const parsed = errorBodySchema.safeParse(json);
    const code = parsed.success ? (parsed.data.errorCode ?? parsed.data.class) : undefined;
    const serverMessage = parsed.success
      ? parsed.data.message
      : typeof json === 'string'
        ? json.slice(0, 200)
        : undefined;
    if (code === 'QUERY_TIME_OUT' && !retried) {
      delta = undefined;
      return signedWithHeaders(method, path, payload, extraHeaders, true);
    }
    const details = { status: answer.status, code, queryId: answer.queryId };
    const what = `${method} ${path}`;
    const said = serverMessage ? ` (OVH said: ${serverMessage})` : '';
    const hint = code ? AUTH_HINTS[code] : undefined;
    if (hint || answer.status === 401 || answer.status === 403) {
      throw new OvhApiError(
        'auth',
        `${what} failed: ${hint ?? `HTTP ${answer.status}: check the API credentials and access rules`}${said}`,
        details,
      );
    }
    if (answer.status === 404) throw new OvhApiError('not-found', `${what}: not found${said}`, details);
    if (answer.status === 429)
      throw new OvhApiError('rate-limit', `${what}: rate limited by OVH${said}`, details);
    if (answer.status >= 500)
      throw new OvhApiError('transient', `${what}: OVH API error HTTP ${answer.status}${said}`, details);
    throw new OvhApiError('invalid', `${what}: rejected with HTTP ${answer.status}${said}`, details);
  }

  const tokenPath = (target: EventTokenTarget): string => {
    if (!target.billingAccount) throw new OvhApiError('invalid', 'billingAccount is required');
    const ba = encodeURIComponent(target.billingAccount);
    return target.serviceName
      ? `/telephony/${ba}/service/${encodeURIComponent(target.serviceName)}/eventToken`
      : `/telephony/${ba}/eventToken`;
  };
  const describe = (target: EventTokenTarget) =>
    target.serviceName
      ? `line ${target.serviceName} of billing account ${target.billingAccount}`
      : `billing account ${target.billingAccount}`;

  return {
    baseUrl,
    request: (method, path, body) => signed(method, path, body),
    async listObjects(path, pageSize = 500) {
      const objects: unknown[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 1_000; page++) {
        const answer = await signedWithHeaders('GET', path, undefined, {
          'x-pagination-mode': 'CachedObjectList-Pages',
          'x-pagination-size': String(pageSize),
          ...(cursor === undefined ? {} : { 'x-pagination-cursor': cursor }),
        });
        if (!Array.isArray(answer.json)) {
          throw new OvhApiError('invalid', `GET ${path}: expected a list of objects in paged mode`);
        }
        objects.push(...answer.json);
        cursor = answer.nextCursor;
        if (cursor === undefined) return objects;
      }
      throw new OvhApiError('invalid', `GET ${path}: more than 1000 pages`);
    },
    timeDelta,
    eventTokens: {
      async create(target) {
        const answer = await signed('POST', tokenPath(target), {
          expiration: target.expiration ?? 'unlimited',
        });
        const token = typeof answer === 'string' ? answer : eventTokenSchema.safeParse(answer).data?.token;
        if (!token) {
          throw new OvhApiError(
            'invalid',
            `OVH answered the token creation for ${describe(target)} with no token`,
          );
        }
        return token;
      },
      async get(target) {
        try {
          const answer = await signed('GET', tokenPath(target));
          const parsed = eventTokenSchema.safeParse(answer);
          if (!parsed.success) {
            throw new OvhApiError(
              'invalid',
              `OVH answered GET eventToken for ${describe(target)} without a token`,
            );
          }
          return parsed.data.token;
        } catch (error) {
          // 404 "The requested object (eventToken) does not exist": no token yet. Any other 404
          // (unknown billing account or line) is an error the user must see.
          if (
            error instanceof OvhApiError &&
            error.kind === 'not-found' &&
            /\(eventToken\)/.test(error.message)
          ) {
            return undefined;
          }
          throw error;
        }
      },
      async delete(target) {
        await signed('DELETE', tokenPath(target));
      },
    },
  };
}
