import { MIN_SECRET_LENGTH, REDACTED, redactSecrets } from '@cti-bridge/core/adapter';

/**
 * Process-wide registry of secret strings that must never reach a log line. `env()` registers
 * what it reads (a config file loads its own copy of this package, so the registry lives on
 * `globalThis`); the logger replaces every occurrence before writing.
 */
const KEY = Symbol.for('cti-runner.secrets');

type Registry = Map<string, string>;

function registry(): Registry {
  const holder = globalThis as { [KEY]?: Registry };
  holder[KEY] ??= new Map();
  return holder[KEY];
}

/**
 * Registers a secret: every occurrence in a log line becomes `replacement` (default `[REDACTED]`).
 * Values shorter than 6 characters are ignored (they would mangle ordinary words).
 */
export function registerSecret(value: string, replacement = REDACTED): void {
  if (value.length < MIN_SECRET_LENGTH) return;
  registry().set(value, replacement);
}

/** Masks an OVH event token for display (`1738D072…`): the toolkit's one masking rule. */
export { maskToken } from '@cti-bridge/core/adapter';

/** Replaces every registered secret in `text`. */
export function scrubSecrets(text: string): string {
  const bySecretLength = [...registry()].sort(([a], [b]) => b.length - a.length);
  let out = text;
  for (const [secret, replacement] of bySecretLength) out = redactSecrets(out, [secret], { replacement });
  return out;
}
