import type { Dispatcher } from 'undici';
import { maskToken } from '../adapter-kit/redact.js';
import { request } from './http.js';
import { parseEnvelope } from './wire.js';

/** What one poll needs. */
export interface PollRequest {
  /** The events server, without a trailing slash. */
  readonly baseUrl: string;
  readonly token: string;
  /** The `Session` cursor to echo; empty for the first poll. */
  readonly session: string;
  readonly dispatcher: Dispatcher;
  /** Aborts the poll in flight. */
  readonly signal: AbortSignal;
  /** Client timeout: a poll held longer is a normal empty answer. */
  readonly timeoutMs: number;
  /** Largest answer read, in bytes. */
  readonly maxResponseBytes: number;
}

/** What one poll gave. Never a thrown error: every failure is a value the loop backs off on. */
export type PollOutcome =
  /** A valid envelope (possibly empty); `session` is the cursor it carried ('' when none). */
  | {
      readonly kind: 'answer';
      readonly events: readonly unknown[];
      readonly session: string;
      readonly chars: number;
    }
  /** An HTTP error, a body that is not an envelope, a cut answer or a network error. */
  | { readonly kind: 'failure'; readonly error: string; readonly status?: number }
  /** The signal was aborted: the stream is closing. */
  | { readonly kind: 'aborted' };

/**
 * One long poll: `GET {baseUrl}/?token=T&session=S`, its answer read (at most `maxResponseBytes`)
 * and parsed. A client timeout is an empty answer (the server held the poll longer than we wait).
 * The token is a credential: it never appears in an outcome's error text.
 */
export async function pollOnce(poll: PollRequest): Promise<PollOutcome> {
  const { token, session } = poll;
  const url = `${poll.baseUrl}/?token=${encodeURIComponent(token)}${session ? `&session=${encodeURIComponent(session)}` : ''}`;
  try {
    const response = await request(url, {
      method: 'GET',
      dispatcher: poll.dispatcher,
      signal: poll.signal,
      headersTimeout: poll.timeoutMs,
      bodyTimeout: poll.timeoutMs,
      headers: { accept: 'application/json', 'user-agent': 'cti-bridge' },
    });
    const text = await readCapped(response.body, poll.maxResponseBytes);
    if (response.statusCode !== 200) return httpFailure(response.statusCode);
    const parsed = parseEnvelope(text);
    if (!parsed.ok) return { kind: 'failure', error: parsed.error, status: 200 };
    return {
      kind: 'answer',
      events: parsed.envelope.events,
      session: parsed.envelope.session,
      chars: text.length,
    };
  } catch (error) {
    if (poll.signal.aborted) return { kind: 'aborted' };
    if (error instanceof ResponseTooLarge) return { kind: 'failure', error: error.message, status: 200 };
    const code = errorCode(error);
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      return { kind: 'answer', events: [], session: '', chars: 0 };
    }
    const message = (error instanceof Error ? error.message : String(error))
      .split(token)
      .join(maskToken(token));
    return {
      kind: 'failure',
      error: `network error polling the OVH events server: ${message}${code ? ` (${code})` : ''}`,
    };
  }
}

function httpFailure(status: number): PollOutcome {
  const hint =
    status === 401 || status === 403 || status === 404
      ? ' (the token may be invalid, expired or deleted: check it through the OVH API, GET /telephony/{billingAccount}/eventToken)'
      : '';
  return { kind: 'failure', error: `HTTP ${status} from the OVH events server${hint}`, status };
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A poll answer longer than the cap: cut, never parsed. */
class ResponseTooLarge extends Error {}

/**
 * Reads a response body as UTF-8 text, at most `maxBytes`: past it, the body is destroyed (the
 * connection closed) and {@link ResponseTooLarge} is thrown.
 */
async function readCapped(
  body: AsyncIterable<Uint8Array> & { destroy(): unknown },
  maxBytes: number,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw new ResponseTooLarge(
        `the OVH events server sent an answer over ${maxBytes} bytes (maxResponseBytes): it was cut and skipped`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}
