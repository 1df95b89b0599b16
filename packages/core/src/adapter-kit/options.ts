import type { z } from 'zod';
import { AdapterError } from '../adapter/errors.js';

function keyOf(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(options)' : path.map((p) => String(p)).join('.');
}

/**
 * Validates an adapter's options against a zod schema. On failure throws an `invalid`
 * {@link AdapterError} whose message names the adapter and every offending option key:
 * `hubspot options are invalid: accessToken: Invalid input: expected string, received undefined`.
 */
export function parseAdapterOptions<S extends z.ZodType>(
  schema: S,
  input: unknown,
  adapterName: string,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) =>
      `${keyOf(issue.path)}: ${issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}` : issue.message}`,
  );
  return invalidOptions(adapterName, problems, result.error);
}

function invalidOptions(adapterName: string, problems: readonly string[], cause: unknown): never {
  throw new AdapterError('invalid', `${adapterName} options are invalid: ${problems.join('; ')}`, {
    code: 'INVALID_OPTIONS',
    cause,
  });
}
