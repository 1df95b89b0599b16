/** What replaces a secret in text by default. */
export const REDACTED = '[REDACTED]';

/** Secrets shorter than this are not redacted: they would mangle ordinary words. */
export const MIN_SECRET_LENGTH = 6;

/**
 * Replaces every occurrence of every secret in `text` with `replacement` (default `[REDACTED]`).
 * Longer secrets are replaced first (a secret that contains another is removed whole); secrets
 * shorter than {@link MIN_SECRET_LENGTH} characters, empty or undefined are ignored.
 */
export function redactSecrets(
  text: string,
  secrets: Iterable<string | undefined | null>,
  replacement: string = REDACTED,
): string {
  const usable = [...secrets]
    .filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH)
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
