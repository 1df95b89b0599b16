import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header names of a webhook request (lower case, as Node reads them). */
export const WEBHOOK_HEADERS = {
  id: 'cti-webhook-id',
  timestamp: 'cti-webhook-timestamp',
  signature: 'cti-webhook-signature',
} as const;

/** `v1=<hex HMAC-SHA256 of "${timestamp}.${body}" keyed with the secret>`. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Options of {@link verifyWebhook}. */
export interface VerifyOptions {
  /** Oldest accepted timestamp, in seconds from now (default 300): older requests are replays. */
  readonly toleranceSeconds?: number;
  /** Unix seconds now (default: the clock). */
  readonly now?: number;
}

/**
 * Checks a webhook request as a receiver should: the signature header (one or more `v1=` values,
 * comma separated, for secret rotation) matches the body and timestamp, in constant time, and the
 * timestamp is recent. `body` must be the raw request body, unparsed.
 */
export function verifyWebhook(
  secret: string,
  headers: { readonly timestamp: string | undefined; readonly signature: string | undefined },
  body: string,
  options: VerifyOptions = {},
): boolean {
  const timestamp = Number(headers.timestamp);
  if (!Number.isInteger(timestamp) || headers.signature === undefined) return false;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  return headers.signature
    .split(',')
    .map((s) => Buffer.from(s.trim()))
    .some((given) => given.length === expected.length && timingSafeEqual(given, expected));
}
