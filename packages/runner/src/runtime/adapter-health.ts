/** What `/readyz` knows about an adapter's recent writes. */
export interface AdapterHealth {
  /** Writes (and batches whose every item failed) failing in a row. */
  failuresInARow: number;
  /** Lookups failing in a row (a CRM that cannot be searched cannot pop anyone). */
  lookupFailuresInARow: number;
  lastErrorKind?: string;
  lastError?: string;
  lastSuccessAt?: number;
  /** When the current run of failures began (epoch ms). */
  failingSince?: number;
}

/** A fresh health record: no failure, no success yet. */
export function newAdapterHealth(): AdapterHealth {
  return { failuresInARow: 0, lookupFailuresInARow: 0 };
}

/** Records a failed write or lookup on an adapter's health. */
export function recordFailure(health: AdapterHealth, error: unknown, lookup: boolean): string {
  const kind = (error as { kind?: unknown }).kind;
  const errorKind = typeof kind === 'string' ? kind : 'transient';
  if (health.failuresInARow === 0 && health.lookupFailuresInARow === 0) health.failingSince = Date.now();
  if (lookup) health.lookupFailuresInARow++;
  else health.failuresInARow++;
  health.lastErrorKind = errorKind;
  health.lastError = `${errorKind}: ${error instanceof Error ? error.message : String(error)}`;
  return errorKind;
}

/** Records a successful write or lookup: ends that run of failures. */
export function recordSuccess(health: AdapterHealth, lookup: boolean): void {
  if (lookup) health.lookupFailuresInARow = 0;
  else {
    health.failuresInARow = 0;
    health.lastSuccessAt = Date.now();
  }
  if (health.failuresInARow === 0 && health.lookupFailuresInARow === 0) delete health.failingSince;
}

/**
 * Writes failing in a row before `/readyz` reports the adapter not ready; an `auth` failure
 * (a person must fix credentials) counts at once.
 */
export const UNHEALTHY_AFTER = 5;
