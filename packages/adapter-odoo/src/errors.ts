import { AdapterError, isAdapterError } from '@cti-bridge/core';
import { classifyHttpFailure, classifyNetworkError, redactSecrets } from '@cti-bridge/core/adapter';

/** What a failure was doing, for messages: `looking up +33…`, `logging call 123`. */
export interface FaultContext {
  /** Short description of the operation (`search res.partner`). */
  readonly operation: string;
  /** Login and database, named in auth messages. Never the key. */
  readonly login: string;
  readonly database: string;
  /** Secrets to scrub from any text that ends up in a message. */
  readonly secrets: readonly string[];
}

/** Exceptions in a fault-1 traceback that mean "try again later". */
const TRANSIENT_TEXT =
  /(SerializationFailure|could not serialize access|deadlock detected|LockNotAvailable|could not obtain lock|OperationalError: (server closed|terminating connection|could not connect)|too many connections|TimeoutError|MemoryError|ConnectionError|Service Unavailable|PoolError|psycopg2\.errors\.QueryCanceled)/i;

/** Exceptions in a fault-1 traceback that mean the request itself is wrong. */
const INVALID_TEXT =
  /(ValueError|KeyError|TypeError|AttributeError|Invalid field|Invalid leaf|Invalid domain|NotNullViolation|CheckViolation|UniqueViolation|ForeignKeyViolation|InvalidTextRepresentation|MissingError|ValidationError|UserError|cannot marshal)/;

/** Observed when two writes on one record add the same follower at once (a unique constraint). */
const FOLLOWER_RACE = /cannot follow twice the same object/i;

/**
 * An AccessError (fault 4) in Odoo's own words, the groups that would grant it kept:
 * `You are not allowed to access 'Models' (ir.model) records. This operation is allowed for the
 * following groups: Administration/Access Rights.`
 */
export function accessDeniedText(faultString: string, login: string): string {
  const lines = faultString
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const groups = lines.filter((line) => line.startsWith('- ')).map((line) => line.slice(2));
  const what =
    lines.find((line) => /not allowed|access|private methods/i.test(line) && !line.startsWith('- ')) ??
    lastTracebackLine(faultString);
  const needs = groups.length > 0 ? ` Odoo says it is allowed for: ${groups.join(', ')}.` : '';
  return trim(
    `the Odoo user "${login}" lacks a right: ${what}${needs} Give the user that right, or see the adapter README for the rights it needs.`,
    600,
  );
}

/** The toolkit's redaction rule; credentials of 3+ characters never reach a message. */
function scrub(text: string, secrets: readonly string[]): string {
  return redactSecrets(text, secrets, { minLength: 3 });
}

/** The line of a Python traceback that names the exception (the last non-empty one). */
export function lastTracebackLine(text: string): string {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return lines[lines.length - 1] ?? text;
}

function trim(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Maps whatever odoo-await (and the `xmlrpc` library under it) rejected with to an
 * {@link AdapterError}:
 * - the string odoo-await rejects with when `authenticate` returns false → `auth`;
 * - fault 2 (UserError, ValidationError) → `invalid`; fault 3 (AccessDenied) and 4 (AccessError) → `auth`;
 * - fault 1 (any other exception, with a traceback) → `transient` or `invalid` by the exception's text;
 * - HTTP 429 → `rate-limit` (with Retry-After), 5xx → `transient`, 404 → `invalid` (wrong URL);
 * - socket errors and timeouts → `transient`.
 *
 * Messages say what to fix; secrets are scrubbed; the cause is a plain copy without the request.
 */
export function mapOdooError(error: unknown, context: FaultContext): AdapterError {
  if (isAdapterError(error)) return error;
  const where = `Odoo ${context.operation}`;
  if (typeof error === 'string') {
    // odoo-await's connect(): authenticate answered false
    return new AdapterError(
      'auth',
      `Odoo refused the login "${context.login}" on database "${context.database}": check the login and ` +
        'the API key (Odoo: avatar › My Profile/Preferences › Account Security › New API Key).',
      { code: 'AUTHENTICATE_FALSE' },
    );
  }
  const err = (error ?? {}) as {
    message?: unknown;
    faultCode?: unknown;
    faultString?: unknown;
    code?: unknown;
    res?: { statusCode?: number; headers?: Record<string, string | string[] | undefined> };
  };
  const rawMessage = typeof err.message === 'string' ? err.message : String(error);
  const cause = new Error(trim(scrub(rawMessage, context.secrets), 2000));

  if (err.faultCode !== undefined) return faultError(err, rawMessage, where, cause, context);

  const status = err.res?.statusCode;
  if (rawMessage === 'Not Found' || status === 404) {
    return new AdapterError(
      'invalid',
      `${where}: no XML-RPC endpoint at /xmlrpc/2 (HTTP 404): check the \`url\` option (the Odoo base URL).`,
      { cause, status: 404 },
    );
  }
  if (typeof status === 'number' && status >= 400) return httpError(where, status, err.res?.headers, cause);
  const code = classifyNetworkError(error)?.code;
  if (code || /socket hang up|network|timed out/i.test(rawMessage)) {
    return new AdapterError('transient', `${where}: cannot reach Odoo (${code ?? trim(rawMessage, 120)}).`, {
      cause,
      ...(code ? { code } : {}),
    });
  }
  return new AdapterError('transient', `${where} failed: ${trim(scrub(rawMessage, context.secrets))}`, {
    cause,
  });
}

/** An XML-RPC fault: Odoo's exception, mapped by its code and text. */
function faultError(
  err: { faultCode?: unknown; faultString?: unknown },
  rawMessage: string,
  where: string,
  cause: Error,
  context: FaultContext,
): AdapterError {
  const faultString = scrub(
    typeof err.faultString === 'string' ? err.faultString : rawMessage,
    context.secrets,
  );
  const code = err.faultCode;
  const status = typeof code === 'number' ? code : undefined;
  const options = { cause, code: `FAULT_${String(code)}`, status };
  if (code === 3 || code === 'AccessDenied') {
    return new AdapterError(
      'auth',
      `${where}: access denied for "${context.login}" on "${context.database}": the API key was revoked or the password changed.`,
      options,
    );
  }
  if (code === 4) {
    return new AdapterError('auth', `${where}: ${accessDeniedText(faultString, context.login)}`, options);
  }
  if (code === 2 || (typeof code === 'string' && code.startsWith('warning'))) {
    const text = trim(faultString.replace(/^warning -- \w+\s*/, ''));
    if (FOLLOWER_RACE.test(text)) {
      // Two writes on one record raced on the followers' unique constraint: retry, never dead-letter.
      return new AdapterError('transient', `${where}: Odoo refused a concurrent write (${text}).`, options);
    }
    const missingModel = /^Object (\S+) doesn't exist/.exec(text);
    if (missingModel) {
      return new AdapterError(
        'not-found',
        `${where}: model ${missingModel[1]} does not exist on this Odoo: install its module.`,
        options,
      );
    }
    return new AdapterError('invalid', `${where}: Odoo rejected the request: ${text}`, options);
  }
  const last = trim(lastTracebackLine(faultString));
  const missingDb = /database "([^"]+)" does not exist/.exec(faultString);
  if (missingDb) {
    return new AdapterError(
      'invalid',
      `${where}: the database "${missingDb[1]}" does not exist on this Odoo server: check the \`database\` option.`,
      options,
    );
  }
  if (TRANSIENT_TEXT.test(faultString)) {
    return new AdapterError('transient', `${where}: Odoo failed temporarily: ${last}`, options);
  }
  if (INVALID_TEXT.test(last)) {
    return new AdapterError('invalid', `${where}: Odoo rejected the request: ${last}`, options);
  }
  return new AdapterError('transient', `${where}: Odoo failed: ${last}`, options);
}

/** An HTTP error from Odoo or the server in front of it: the toolkit's rule, Odoo's words. */
function httpError(
  where: string,
  status: number,
  headers: Readonly<Record<string, string | readonly string[] | undefined>> | undefined,
  cause: Error,
): AdapterError {
  const { kind, retryAfterMs } = classifyHttpFailure({ status, ...(headers ? { headers } : {}) });
  switch (kind) {
    case 'rate-limit':
      return new AdapterError('rate-limit', `${where}: Odoo asked to slow down (HTTP 429).`, {
        cause,
        status,
        retryAfterMs,
      });
    case 'auth':
      return new AdapterError(
        'auth',
        `${where}: HTTP ${status} from the server in front of Odoo: check the URL's basic-auth credentials or proxy.`,
        { cause, status },
      );
    case 'transient':
      return new AdapterError('transient', `${where}: Odoo is unavailable (HTTP ${status}).`, {
        cause,
        status,
        retryAfterMs,
      });
    default:
      return new AdapterError(kind, `${where}: HTTP ${status} from Odoo.`, { cause, status });
  }
}
