import type { CrmAdapter } from '../adapter/contract.js';

/**
 * True when `value` looks like a {@link CrmAdapter}: specification `v1`, a string name, and
 * `findContacts` and `logCall` functions (the rule the runner's config applies). Works across
 * package copies.
 */
export function isCrmAdapter(value: unknown): value is CrmAdapter {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    v.specificationVersion === 'v1' &&
    typeof v.name === 'string' &&
    typeof v.findContacts === 'function' &&
    typeof v.logCall === 'function'
  );
}
