import { registerSecret } from '../ops/secrets.js';

/** Thrown when a configuration value is missing or malformed. Maps to exit code 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** One line per problem, each naming the key path. */
  readonly issues: readonly string[];

  constructor(message: string, issues: readonly string[] = []) {
    super(issues.length > 0 ? `${message}\n${issues.map((issue) => `  - ${issue}`).join('\n')}` : message);
    this.issues = issues;
  }
}

/** True for a ConfigError from any copy of this module (a config file loads its own copy). */
export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof Error && error.name === 'ConfigError';
}

const MISSING = Symbol.for('cti-runner.missing-env');

/**
 * Runs `load` (a config file import) noting every variable `env()` finds missing instead of
 * failing at the first; throws one ConfigError naming them all. When the load stopped early (an
 * adapter factory refused a placeholder value), `unreached` names the variables the rest of the
 * file would have asked for (see `missingEnvInSource`), so that the list is still complete.
 */
export async function collectMissingEnv<T>(
  load: () => Promise<T>,
  unreached: () => readonly string[] = () => [],
): Promise<T> {
  const holder = globalThis as { [MISSING]?: string[] };
  const missing: string[] = [];
  holder[MISSING] = missing;
  let result: T;
  try {
    result = await load();
  } catch (error) {
    if (missing.length === 0) throw error;
    missing.push(...unreached());
    result = undefined as T;
  } finally {
    delete holder[MISSING];
  }
  if (missing.length > 0) {
    const names = [...new Set(missing)];
    throw new ConfigError(
      names.length === 1
        ? `environment variable ${names[0]} is not set: export ${names[0]}=… (or put it in the environment of the service) before starting cti-runner`
        : `environment variables not set: ${names.join(', ')} — export them (or put them in the environment of the service) before starting cti-runner`,
    );
  }
  return result;
}

/** Options of {@link env}. */
export interface EnvOptions {
  /** Value used when the variable is unset or empty. Without it, a missing variable is an error. */
  readonly default?: string;
  /** Where to read from (default `process.env`). */
  readonly source?: Readonly<Record<string, string | undefined>>;
  /**
   * Whether the value is a secret (default true): secrets are scrubbed from every log line.
   * Set false for harmless values such as URLs or ports.
   */
  readonly secret?: boolean;
}

/**
 * Reads an environment variable for a config value, typically a secret:
 * `accessToken: env('HUBSPOT_TOKEN')`. Throws a {@link ConfigError} naming the variable when it is
 * unset and no default is given, so a misconfigured runner stops at start-up with a clear message.
 */
export function env(name: string, options: EnvOptions = {}): string {
  const source = options.source ?? process.env;
  const value = source[name];
  if (value !== undefined && value !== '') {
    if (options.secret !== false) registerSecret(value);
    return value;
  }
  if (options.default !== undefined) return options.default;
  const collecting = (globalThis as { [MISSING]?: string[] })[MISSING];
  if (collecting !== undefined && options.source === undefined) {
    // While a config file loads: note it and go on, so that every missing variable is reported at once.
    collecting.push(name);
    return `<missing env ${name}>`;
  }
  throw new ConfigError(
    `environment variable ${name} is not set: export ${name}=… (or put it in the environment of the service) before starting cti-runner`,
  );
}
