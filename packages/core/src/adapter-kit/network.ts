import { type AdapterErrorKind, parseRetryAfter } from '../adapter/errors.js';

/** Network error codes (Node and undici) that mean "the request may succeed if retried later". */
export const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** Reads `code` from an error or from its `cause` chain (undici wraps the socket error in `cause`). */
export function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_NETWORK_CODES.has(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Classifies a thrown value as a network failure: returns `transient` and the code when the error
 * (or its cause chain) carries a known network code, or is an abort/timeout; undefined otherwise.
 */
export function classifyNetworkError(
  error: unknown,
): { readonly kind: 'transient'; readonly code: string } | undefined {
  const code = networkErrorCode(error);
  if (code) return { kind: 'transient', code };
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return { kind: 'transient', code: error.name };
  }
  return undefined;
}

/** What is known about a failed HTTP call. */
export interface HttpFailure {
  /** HTTP status, when an answer came back. */
  readonly status?: number;
  /** Response headers (a `Headers`, or a plain record); `retry-after` is read from them. */
  readonly headers?: Headers | Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The raw `Retry-After` value, when the caller already has it (wins over `headers`). */
  readonly retryAfter?: string | null;
  /** A network error code (`ECONNRESET`, `UND_ERR_SOCKET`, …) when no answer came back. */
  readonly code?: string;
  /** The error message, for timeout detection when there is neither status nor code. */
  readonly message?: string;
}

/** The result of {@link classifyHttpFailure}. */
export interface HttpFailureClass {
  readonly kind: AdapterErrorKind;
  /** For `rate-limit` and 503: how long the server asked us to wait. */
  readonly retryAfterMs?: number;
}

function headerValue(headers: HttpFailure['headers'], name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : (value as string | undefined);
}

/**
 * The common HTTP failure rule, for adapters to build their messages on:
 * 401/403 → `auth`; 429 → `rate-limit`; 400/405/413/414/415/422 → `invalid`; 404/410 → `not-found`;
 * 409/412 → `conflict`; 408, 425, 5xx, known network codes and timeouts → `transient`; anything
 * else (other 4xx, nothing known) → `transient` for an unknown network failure, `invalid` for a 4xx.
 * `retryAfterMs` comes from `retryAfter` or the `Retry-After` header.
 */
export function classifyHttpFailure(failure: HttpFailure, now: number = Date.now()): HttpFailureClass {
  const retryAfterMs = parseRetryAfter(
    failure.retryAfter ?? headerValue(failure.headers, 'retry-after'),
    now,
  );
  const withWait = (kind: AdapterErrorKind): HttpFailureClass =>
    retryAfterMs === undefined ? { kind } : { kind, retryAfterMs };
  const { status } = failure;
  if (status === undefined) return withWait('transient');
  if (status === 401 || status === 403) return { kind: 'auth' };
  if (status === 429) return withWait('rate-limit');
  if (status === 404 || status === 410) return { kind: 'not-found' };
  if (status === 409 || status === 412) return { kind: 'conflict' };
  if (status === 408 || status === 425 || status >= 500) return withWait('transient');
  if (status >= 400) return { kind: 'invalid' };
  return withWait('transient');
}
