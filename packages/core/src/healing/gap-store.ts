import type { KeyValueStore } from '../store/types.js';
import type { Gap } from './healer.js';

const NAMESPACE = 'healing';
const GAPS_KEY = 'gaps';

/** The gaps waiting to be reconciled, as kept in the store (none when absent or unreadable). */
export async function readGaps(kv: KeyValueStore): Promise<Gap[]> {
  const text = await kv.get(NAMESPACE, GAPS_KEY);
  if (text === undefined) return [];
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? (value as Gap[]) : [];
  } catch {
    return [];
  }
}

/** Keeps the gaps waiting to be reconciled (replacing those kept). */
export function writeGaps(kv: KeyValueStore, gaps: readonly Gap[]): Promise<void> {
  return kv.set(NAMESPACE, GAPS_KEY, JSON.stringify(gaps));
}
