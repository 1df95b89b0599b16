import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { OvhClockOffset } from './api-clock.js';
import { OvhApiError, ovhAnswerError, readOvhErrorBody } from './api-errors.js';
import { createOvhSender, parseOvhJson } from './api-transport.js';
import { eventTokensApi } from './event-token-api.js';

export { OvhApiError, type OvhApiErrorKind } from './api-errors.js';

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

/**
 * Creates an OVH API client signing requests with AK/AS/CK (no OVH SDK). The clock offset comes from
 * the unsigned `GET /auth/time`, fetched once; a `QUERY_TIME_OUT` answer re-syncs it and retries once.
 * Errors are {@link OvhApiError}s whose message says what to fix.
 */
export function createOvhApiClient(options: OvhApiClientOptions): OvhApiClient {
  const baseUrl = checkedBaseUrl(options);
  const now = options.now ?? Date.now;
  const send = createOvhSender(baseUrl, options.timeoutMs ?? 30_000, options.dispatcher);
  const clock = new OvhClockOffset(send, now);

  async function signed(method: string, path: string, payload?: unknown, retried = false): Promise<unknown> {
    return (await signedWithHeaders(method, path, payload, {}, retried)).json;
  }

  async function signedWithHeaders(
    method: string,
    path: string,
    payload: unknown,
    extraHeaders: Record<string, string>,
    retried = false,
  ): Promise<SignedAnswer> {
    const body = payload === undefined ? '' : ovhJsonBody(payload);
    const timestamp = Math.round(now() / 1000) + (await clock.get());
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
    const json = parseOvhJson(answer.text);
    if (answer.status >= 200 && answer.status < 300) return { json, nextCursor: answer.nextCursor };
    const errorBody = readOvhErrorBody(json);
    if (errorBody.code === 'QUERY_TIME_OUT' && !retried) {
      clock.forget();
      return signedWithHeaders(method, path, payload, extraHeaders, true);
    }
    throw ovhAnswerError(method, path, answer, errorBody);
  }

  return {
    baseUrl,
    request: (method, path, body) => signed(method, path, body),
    listObjects: (path, pageSize = 500) => listAllObjects(signedWithHeaders, path, pageSize),
    timeDelta: () => clock.get(),
    eventTokens: eventTokensApi(signed),
  };
}

/** A signed answer: its JSON, and the cursor of the next page of a paged listing. */
interface SignedAnswer {
  readonly json: unknown;
  readonly nextCursor: string | undefined;
}

/** The API base URL the options name, after checking them (an {@link OvhApiError} `invalid` when wrong). */
function checkedBaseUrl(options: OvhApiClientOptions): string {
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
  return (named ?? endpoint).replace(/\/+$/, '');
}

/** Every object of a paged listing (OVH's `CachedObjectList-Pages` mode), at most 1,000 pages. */
async function listAllObjects(
  signedWithHeaders: (
    method: string,
    path: string,
    payload: unknown,
    extraHeaders: Record<string, string>,
  ) => Promise<SignedAnswer>,
  path: string,
  pageSize: number,
): Promise<unknown[]> {
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
}
