import { AdapterError, isAdapterError, parseRetryAfter } from '@cti-bridge/core';
import { classifyHttpFailure, classifyNetworkError } from '@cti-bridge/core/adapter';

/** What @hubspot/api-client throws for a non-2xx answer (`ApiException`), read structurally. */
interface ApiExceptionLike {
  readonly code: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** The fields of a HubSpot error body the adapter reads. All optional, as HubSpot documents. */
interface HubSpotErrorBody {
  readonly message?: string;
  readonly category?: string;
  readonly correlationId?: string;
  readonly status?: string;
  readonly policyName?: string;
  readonly errorType?: string;
}

function isApiException(error: unknown): error is ApiExceptionLike {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'number' &&
    'body' in error
  );
}

function readBody(body: unknown): HubSpotErrorBody {
  if (typeof body !== 'object' || body === null) return {};
  const record = body as Record<string, unknown>;
  const text = (key: string) => (typeof record[key] === 'string' ? (record[key] as string) : undefined);
  const result: { -readonly [K in keyof HubSpotErrorBody]: HubSpotErrorBody[K] } = {};
  for (const key of ['message', 'category', 'correlationId', 'status', 'policyName', 'errorType'] as const) {
    const value = text(key);
    if (value !== undefined) result[key] = value;
  }
  return result;
}

function header(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

/** Which HubSpot rate limit a 429 hit. The SDK drops `policyName` from error bodies, so the message counts too. */
export type RateLimitPolicy = 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY' | 'UNKNOWN';

/** Reads the rate-limit policy of a 429 from its body (policyName when present, else the message). */
export function rateLimitPolicy(body: unknown): RateLimitPolicy {
  const { policyName, message = '' } = readBody(body);
  if (policyName === 'TEN_SECONDLY_ROLLING' || /ten_secondly/i.test(message)) return 'TEN_SECONDLY_ROLLING';
  if (policyName === 'DAILY' || /daily limit/i.test(message)) return 'DAILY';
  if (policyName === 'SECONDLY' || /secondly limit/i.test(message)) return 'SECONDLY';
  return 'UNKNOWN';
}

/** Milliseconds until the next UTC midnight: when HubSpot's daily quota is reset at the latest. */
function untilNextUtcMidnight(now: number): number {
  const date = new Date(now);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1) - now;
}

/** How long to wait after a 429: Retry-After when sent, else what the policy implies. */
export function retryAfterFor(error: ApiExceptionLike, now: number = Date.now()): number {
  const fromHeader = parseRetryAfter(header(error.headers, 'retry-after'), now);
  if (fromHeader !== undefined) return fromHeader;
  switch (rateLimitPolicy(error.body)) {
    case 'DAILY':
      return untilNextUtcMidnight(now);
    case 'SECONDLY':
      return 1000;
    default: {
      const interval = Number(header(error.headers, 'x-hubspot-ratelimit-interval-milliseconds'));
      return Number.isFinite(interval) && interval > 0 ? interval : 10_000;
    }
  }
}

/**
 * Maps anything the HubSpot client threw into an {@link AdapterError} a user can act on.
 * `action` names what was attempted ("search contacts", "create call engagements").
 *
 * - 401 → `auth` (token wrong or expired), 403 → `auth` (missing scope);
 * - 429 → `rate-limit`, `retryAfterMs` from Retry-After or the policy (10 s window, 1 s search, daily);
 * - otherwise the common HTTP rule of `classifyHttpFailure` (400/422 → `invalid`, 404/410 →
 *   `not-found`, 409/412 → `conflict`, 408/425/5xx and network errors → `transient`).
 *
 * The message carries HubSpot's own message and category; the correlationId goes in its field.
 */
export function toHubSpotError(error: unknown, action: string, now: number = Date.now()): AdapterError {
  if (isAdapterError(error)) return error;
  if (isApiException(error)) {
    const status = error.code;
    const body = readBody(error.body);
    const category = body.category ?? body.errorType ?? body.status;
    const detail = body.message ? `: ${body.message}` : '';
    const options = {
      status,
      ...(category ? { code: category } : {}),
      ...(body.correlationId ? { correlationId: body.correlationId } : {}),
      cause: error,
    };
    const prefix = `HubSpot could not ${action} (HTTP ${status}${category ? ` ${category}` : ''})${detail}`;
    // the kind follows the common HTTP rule; the words are HubSpot's
    const { kind } = classifyHttpFailure({ status });
    switch (kind) {
      case 'auth':
        return new AdapterError(
          'auth',
          status === 401
            ? `${prefix}. Check the private app access token, or re-authorise the OAuth app if the refresh token was revoked.`
            : `${prefix}. Give the app the scopes it needs: crm.objects.contacts.read, crm.objects.contacts.write, crm.objects.companies.read, crm.objects.owners.read (calls and tasks are written with the contacts scopes).`,
          options,
        );
      case 'rate-limit': {
        const policy = rateLimitPolicy(error.body);
        return new AdapterError(
          'rate-limit',
          `${prefix}. HubSpot rate limit reached (${policy === 'UNKNOWN' ? 'unspecified policy' : policy}); slowing down.`,
          {
            ...options,
            retryAfterMs: retryAfterFor(error, now),
            ...(policy === 'DAILY' ? { quota: 'daily' as const } : {}),
          },
        );
      }
      case 'transient':
        return new AdapterError(
          'transient',
          status >= 500 && status < 600
            ? `${prefix}. HubSpot is having trouble.`
            : `${prefix}. Unexpected answer.`,
          options,
        );
      default:
        return new AdapterError(kind, `${prefix}.`, options);
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  const network =
    classifyNetworkError(error) !== undefined || (error instanceof Error && error.name === 'FetchError');
  return new AdapterError(
    'transient',
    network
      ? `HubSpot could not ${action}: network error (${message}).`
      : `HubSpot could not ${action}: ${message}.`,
    { cause: error },
  );
}
