import { AdapterError, type AdapterErrorKind, isAdapterError, parseRetryAfter } from '@cti-bridge/core';
import { classifyHttpFailure, redactSecrets, TRANSIENT_NETWORK_CODES } from '@cti-bridge/core/adapter';

/** The last HTTP answer seen during an operation (jsforce errors carry no status or headers). */
export interface ObservedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
}

const INVALID_CODES = new Set([
  'MALFORMED_SEARCH',
  'MALFORMED_QUERY',
  'INVALID_SEARCH',
  'INVALID_QUERY_FILTER_OPERATOR',
  'REQUIRED_FIELD_MISSING',
  'INVALID_FIELD',
  'INVALID_FIELD_FOR_INSERT_UPDATE',
  'INVALID_TYPE',
  'STRING_TOO_LONG',
  'JSON_PARSER_ERROR',
  'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
  'FIELD_INTEGRITY_EXCEPTION',
  'FIELD_CUSTOM_VALIDATION_EXCEPTION',
  'MALFORMED_ID',
  'INVALID_CROSS_REFERENCE_KEY',
  'INVALID_ID_FIELD',
  'EXCEEDED_ID_LIMIT',
  'LIMIT_EXCEEDED',
  'INVALID_EMAIL_ADDRESS',
  'NUMBER_OUTSIDE_VALID_RANGE',
]);

const AUTH_CODES = new Set([
  'INVALID_SESSION_ID',
  'INVALID_LOGIN',
  'INVALID_AUTH_HEADER',
  'INSUFFICIENT_ACCESS',
  'INSUFFICIENT_ACCESS_OR_READONLY',
  'INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY',
  'API_DISABLED_FOR_ORG',
  'API_CURRENTLY_DISABLED',
  'invalid_grant',
  'invalid_client_id',
  'invalid_client',
  'unsupported_grant_type',
  'inactive_user',
  'inactive_org',
]);

/** What to tell the user for each kind, in addition to Salesforce's own message. */
const ADVICE: Record<AdapterErrorKind, string> = {
  auth: 'check the connected app, the integration user (API Enabled, active) and the credentials in the config',
  'rate-limit': 'Salesforce asked to slow down; the call will be retried later',
  transient: 'Salesforce is unavailable or the network failed; the call will be retried',
  invalid:
    'Salesforce rejected the data; check field-level security, required fields and validation rules on the object',
  conflict: 'the record already exists or matched several records',
  'not-found': 'the object, record or field does not exist or is not visible to the integration user',
};

function codeOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const withCode = error as Error & { errorCode?: unknown; code?: unknown };
  if (typeof withCode.errorCode === 'string') return withCode.errorCode;
  if (typeof withCode.code === 'string') return withCode.code;
  if (error.name && error.name !== 'Error') return error.name;
  const soap = /^([A-Z_]{4,}):/.exec(error.message);
  return soap?.[1];
}

/** Salesforce's error codes first (they say more than the status), then the common HTTP rule. */
function kindOf(code: string | undefined, status: number | undefined, message: string): AdapterErrorKind {
  if (message.startsWith('Unable to refresh session due to')) return 'auth';
  if (code === 'REQUEST_LIMIT_EXCEEDED' || status === 429) return 'rate-limit';
  if (code && AUTH_CODES.has(code)) return 'auth';
  if (code && INVALID_CODES.has(code)) return 'invalid';
  if (code === 'DUPLICATE_VALUE' || code === 'MULTIPLE_CHOICES' || status === 300) return 'conflict';
  if (code === 'NOT_FOUND' || code === 'ENTITY_IS_DELETED') return 'not-found';
  if (code && TRANSIENT_NETWORK_CODES.has(code)) return 'transient';
  if (code === 'UNABLE_TO_LOCK_ROW' || code === 'SERVER_UNAVAILABLE' || code === 'UNKNOWN_EXCEPTION')
    return 'transient';
  return status === undefined ? 'transient' : classifyHttpFailure({ status }).kind;
}

/** Wait after the concurrent long-request limit: it clears as soon as a request finishes. */
const CONCURRENT_LIMIT_WAIT_MS = 5_000;
/** Wait after the daily limit before probing again: the rolling 24-hour window frees gradually. */
const DAILY_LIMIT_PROBE_MS = 60 * 60_000;

/** Redacts anything that looks like a session id or bearer token from a message. */
export function redact(text: string, secrets: readonly string[] = []): string {
  return redactSecrets(text, secrets, { minLength: 4 })
    .replace(/00D[A-Za-z0-9]{12,15}![A-Za-z0-9._-]+/g, '[redacted session]')
    .replace(/Bearer\s+\S+/gi, 'Bearer [redacted]');
}

/**
 * Maps anything jsforce (or the network) threw into an {@link AdapterError}:
 * INVALID_SESSION_ID (after the one refresh allowed) and OAuth failures → auth;
 * REQUEST_LIMIT_EXCEEDED and 429 → rate-limit (with Retry-After when sent); 5xx, network errors →
 * transient; MALFORMED_SEARCH, REQUIRED_FIELD_MISSING and other validation codes → invalid;
 * DUPLICATE_VALUE / 300 → conflict; NOT_FOUND → not-found. The cause is dropped when it could
 * carry credentials; messages are redacted.
 */
export function toSalesforceError(
  error: unknown,
  what: string,
  observed: ObservedResponse | undefined,
  secrets: readonly string[] = [],
): AdapterError {
  if (isAdapterError(error)) return error;
  const code = codeOf(error);
  const status = observed && observed.status >= 300 ? observed.status : undefined;
  const rawMessage = error instanceof Error ? error.message : String(error);
  const message = redact(rawMessage, secrets).trim().slice(0, 500);
  const kind = kindOf(code, status, rawMessage);
  // Both limits answer 403 REQUEST_LIMIT_EXCEEDED; the message says which. The concurrent one
  // clears in seconds; the daily one as the rolling 24-hour window moves (probed hourly).
  const limit =
    code === 'REQUEST_LIMIT_EXCEEDED'
      ? /Concurrent/i.test(rawMessage)
        ? 'concurrent'
        : /TotalRequests/i.test(rawMessage)
          ? 'daily'
          : undefined
      : undefined;
  const retryAfterMs =
    parseRetryAfter(observed?.headers['retry-after']) ??
    (limit === 'concurrent'
      ? CONCURRENT_LIMIT_WAIT_MS
      : limit === 'daily'
        ? DAILY_LIMIT_PROBE_MS
        : kind === 'rate-limit' && status === 403
          ? 15 * 60_000
          : undefined);
  const detail = code ? `${code}: ${message}` : message;
  return new AdapterError(kind, `Salesforce ${what} failed (${detail}); ${ADVICE[kind]}.`, {
    ...(limit === 'daily' ? { quota: 'daily' as const } : {}),
    status,
    code,
    retryAfterMs,
    ...(observed?.headers['x-request-id'] ? { correlationId: observed.headers['x-request-id'] } : {}),
  });
}

/** Maps one failed item of a collection answer (`{statusCode, message, fields}`). */
export function collectionItemError(
  errors: readonly {
    statusCode?: string | undefined;
    errorCode?: string | undefined;
    message?: string | undefined;
    fields?: readonly string[] | undefined;
  }[],
  what: string,
): AdapterError {
  const first = errors[0] ?? {};
  const code = first.statusCode ?? first.errorCode ?? 'UNKNOWN_EXCEPTION';
  const fields = first.fields && first.fields.length > 0 ? ` [${first.fields.join(', ')}]` : '';
  const failure = new Error(`${first.message ?? 'no message'}${fields}`);
  (failure as Error & { errorCode?: string }).errorCode = code;
  return toSalesforceError(failure, what, undefined);
}
