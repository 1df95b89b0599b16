import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Name of the cookie that carries the board token after a `?token=` visit. */
export const BOARD_COOKIE = 'cti_board';

/** True for an address or host name that only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || h.startsWith('127.') || h === '::ffff:127.0.0.1';
}

/** Compares two strings in time independent of where they differ (and of their lengths). */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** How a request presented the board secret, if it did. */
export type Presented = { readonly via: 'bearer' | 'basic' | 'cookie' | 'query'; readonly value: string };

/**
 * The secrets a request presents: `Authorization: Bearer <token>`, `Authorization: Basic` (the
 * password is the token, any user name), the `cti_board` cookie, or `?token=` in the URL.
 */
export function presentedSecrets(req: IncomingMessage, url: URL): Presented[] {
  const out: Presented[] = [];
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const [scheme, value = ''] = auth.split(/\s+/, 2);
    if (scheme?.toLowerCase() === 'bearer') out.push({ via: 'bearer', value });
    if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon >= 0) out.push({ via: 'basic', value: decoded.slice(colon + 1) });
    }
  }
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === BOARD_COOKIE) {
      out.push({ via: 'cookie', value: decodeURIComponent(part.slice(eq + 1).trim()) });
    }
  }
  const query = url.searchParams.get('token');
  if (query !== null) out.push({ via: 'query', value: query });
  return out;
}

/**
 * Whether a request may see the board. Without a configured token every request may (the config
 * only allows that on a loopback address); with one, one of the presented secrets must equal it.
 * Every presented secret is compared, in constant time.
 */
export function authorise(
  req: IncomingMessage,
  url: URL,
  token: string | undefined,
): { ok: boolean; via?: Presented['via'] } {
  if (token === undefined) return { ok: true };
  let via: Presented['via'] | undefined;
  for (const presented of presentedSecrets(req, url)) {
    if (safeEqual(presented.value, token) && via === undefined) via = presented.via;
  }
  return via === undefined ? { ok: false } : { ok: true, via };
}
