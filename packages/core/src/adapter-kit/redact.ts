/** What replaces a secret in text by default. */
export const REDACTED = '[REDACTED]';

/**
 * Default minimum length of a secret for {@link redactSecrets}: shorter values would mangle
 * ordinary words of a log line. Error messages built from a few known credentials may pass a
 * lower `minLength` (a short password must still never show).
 */
export const MIN_SECRET_LENGTH = 6;

/** Options of {@link redactSecrets}. */
export interface RedactOptions {
  /** What replaces a secret; default `[REDACTED]`. */
  readonly replacement?: string;
  /** Secrets shorter than this are left alone; default {@link MIN_SECRET_LENGTH}. */
  readonly minLength?: number;
}

/**
 * The one redaction rule: replaces every occurrence of every secret in `text` with
 * `[REDACTED]` (or `options.replacement`). Longer secrets are replaced first (a secret that
 * contains another is removed whole); empty, missing and too-short secrets are ignored.
 */
export function redactSecrets(
  text: string,
  secrets: Iterable<string | undefined | null>,
  options: RedactOptions = {},
): string {
  const replacement = options.replacement ?? REDACTED;
  const minLength = Math.max(1, options.minLength ?? MIN_SECRET_LENGTH);
  const usable = [...secrets]
    .filter((s): s is string => typeof s === 'string' && s.length >= minLength)
    .sort((a, b) => b.length - a.length);
  let out = text;
  for (const secret of usable) {
    if (out.includes(secret)) out = out.split(secret).join(replacement);
  }
  return out;
}

/**
 * Masks a token (an OVH event token, an API key) for logs and screens: the first 8 characters and
 * an ellipsis (`1738D072…`), enough to tell tokens apart, never enough to use one. Tokens of 8
 * characters or fewer show as `…` alone.
 */
export function maskToken(token: string): string {
  return token.length <= 8 ? '…' : `${token.slice(0, 8)}…`;
}
