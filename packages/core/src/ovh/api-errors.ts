import { z } from 'zod';

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

const errorBodySchema = z.looseObject({
  errorCode: z.string().optional(),
  class: z.string().optional(),
  message: z.string().optional(),
});

/** What {@link ovhAnswerError} reads of a failed answer. */
export interface FailedAnswer {
  readonly status: number;
  readonly queryId: string | undefined;
}

/** What an error answer's body says: OVH's error code (`errorCode`, else `class`) and message. */
export interface OvhErrorBody {
  readonly code: string | undefined;
  readonly serverMessage: string | undefined;
}

/** Reads an error answer's parsed body (a JSON error object, or text of which 200 characters are kept). */
export function readOvhErrorBody(json: unknown): OvhErrorBody {
  const parsed = errorBodySchema.safeParse(json);
  const code = parsed.success ? (parsed.data.errorCode ?? parsed.data.class) : undefined;
  const serverMessage = parsed.success
    ? parsed.data.message
    : typeof json === 'string'
      ? json.slice(0, 200)
      : undefined;
  return { code, serverMessage };
}

/** The {@link OvhApiError} that tells what to fix after `method path` failed with `answer`. */
export function ovhAnswerError(
  method: string,
  path: string,
  answer: FailedAnswer,
  { code, serverMessage }: OvhErrorBody,
): OvhApiError {
  const details = { status: answer.status, code, queryId: answer.queryId };
  const what = `${method} ${path}`;
  const said = serverMessage ? ` (OVH said: ${serverMessage})` : '';
  const hint = code ? AUTH_HINTS[code] : undefined;
  if (hint || answer.status === 401 || answer.status === 403) {
    return new OvhApiError(
      'auth',
      `${what} failed: ${hint ?? `HTTP ${answer.status}: check the API credentials and access rules`}${said}`,
      details,
    );
  }
  if (answer.status === 404) return new OvhApiError('not-found', `${what}: not found${said}`, details);
  if (answer.status === 429)
    return new OvhApiError('rate-limit', `${what}: rate limited by OVH${said}`, details);
  if (answer.status >= 500)
    return new OvhApiError('transient', `${what}: OVH API error HTTP ${answer.status}${said}`, details);
  return new OvhApiError('invalid', `${what}: rejected with HTTP ${answer.status}${said}`, details);
}
