/**
 * What went wrong in a CRM call, in terms the pipeline acts on without knowing the CRM:
 * - `auth`: credentials missing, wrong, expired beyond refresh, or lacking a permission — a person must act;
 * - `rate-limit`: the CRM asked us to slow down; `retryAfterMs` says for how long when it said so;
 * - `transient`: network error, timeout, 5xx — retry later;
 * - `invalid`: the CRM rejected the data (validation, malformed query) — retrying the same request will not help;
 * - `conflict`: the record already exists or changed under us;
 * - `not-found`: the record or object type does not exist.
 */
export type AdapterErrorKind = 'auth' | 'rate-limit' | 'transient' | 'invalid' | 'conflict' | 'not-found';

/** Options of {@link AdapterError}: an `undefined` option is the same as an absent one. */
export interface AdapterErrorOptions {
  /** For `rate-limit` (and optionally `transient`): how long the CRM asked us to wait. */
  readonly retryAfterMs?: number | undefined;
  /**
   * For `rate-limit`: `daily` when the CRM's daily (or other long-window) quota is spent. The
   * pipeline caps ordinary `retryAfterMs` waits and probes again; a daily-quota wait is kept whole.
   */
  readonly quota?: 'daily' | undefined;
  /** HTTP status or fault code of the CRM's answer, when there was one. */
  readonly status?: number | undefined;
  /** The CRM's own error code (`INVALID_SESSION_ID`, `VALIDATION_ERROR`, …). */
  readonly code?: string | undefined;
  /** The CRM's request/correlation id, for support tickets. */
  readonly correlationId?: string | undefined;
  /** The underlying error. Never put credentials in it. */
  readonly cause?: unknown;
}

/** Kinds worth retrying: the same request may succeed later. */
const RETRYABLE: ReadonlySet<AdapterErrorKind> = new Set(['rate-limit', 'transient']);

/**
 * The one error type adapters throw. The message must tell a user what to do
 * ("HubSpot rejected the access token: create a private app token with crm.objects.calls.write").
 */
export class AdapterError extends Error {
  override readonly name = 'AdapterError';
  readonly kind: AdapterErrorKind;
  readonly retryAfterMs?: number;
  readonly quota?: 'daily';
  readonly status?: number;
  readonly code?: string;
  readonly correlationId?: string;

  constructor(kind: AdapterErrorKind, message: string, options: AdapterErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.quota !== undefined) this.quota = options.quota;
    if (options.status !== undefined) this.status = options.status;
    if (options.code !== undefined) this.code = options.code;
    if (options.correlationId !== undefined) this.correlationId = options.correlationId;
  }

  /** True when retrying the same request later may succeed. */
  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }

  /** A plain object for logs and the outbox (no stack, no cause). */
  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind,
      message: this.message,
      retryAfterMs: this.retryAfterMs,
      quota: this.quota,
      status: this.status,
      code: this.code,
      correlationId: this.correlationId,
    };
  }
}

/** Type guard that also recognises AdapterErrors from another copy of this package. */
export function isAdapterError(error: unknown): error is AdapterError {
  return (
    error instanceof AdapterError ||
    (error instanceof Error &&
      error.name === 'AdapterError' &&
      typeof (error as { kind?: unknown }).kind === 'string')
  );
}

/**
 * Wraps anything thrown into an AdapterError: AdapterErrors pass through, anything else is
 * `transient` (an unknown failure is retried a bounded number of times, then dead-lettered).
 */
export function toAdapterError(error: unknown, context = 'CRM call failed'): AdapterError {
  if (isAdapterError(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new AdapterError('transient', `${context}: ${detail}`, { cause: error });
}

/**
 * Reads an HTTP `Retry-After` header (seconds or an HTTP date) into milliseconds.
 * Returns undefined when absent or unreadable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
