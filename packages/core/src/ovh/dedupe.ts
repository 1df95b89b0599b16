import { EventFingerprinter } from './dedupe-fingerprint.js';
import { FingerprintWindow } from './dedupe-window.js';
import type { OvhEvent } from './types.js';

export { dedupeKey } from './dedupe-key.js';

/** A bounded memory of recently seen events. */
export interface Deduplicator {
  /** True when the event was seen within the window (a duplicate); otherwise remembers it, false. */
  seen(event: OvhEvent): boolean;
  /** How many keys are remembered now (≤ the window). */
  readonly size: number;
  /** Forgets everything. */
  clear(): void;
}

/**
 * Creates a {@link Deduplicator} remembering the last `window` events (default 10,000), oldest
 * forgotten first. Memory is fixed at creation (typed arrays) whatever the stream does, and nothing
 * of the events is kept alive (but the last token string, whose hash is reused).
 *
 * Each event's {@link dedupeKey} (exact timestamp digits, CallId or member uuid, event name, agent,
 * token) is reduced to a 64-bit fingerprint: two 32-bit hash lanes with different multipliers
 * (FNV-1a's and murmur2's), fed together in one pass over the key's parts and finalised by murmur3's
 * mixer; the token's lanes are computed once per token. A ring remembers the fingerprints in arrival
 * order; an open-addressing table (linear probing, backward-shift deletion) holds them by hash.
 * Two distinct events are confused only if their fingerprints collide: with a full window of
 * 10,000, about one chance in 10^15 per event.
 */
export function createDeduplicator(window = 10_000): Deduplicator {
  const fingerprints = new EventFingerprinter();
  const recent = new FingerprintWindow(window);
  return {
    seen(event: OvhEvent) {
      fingerprints.fingerprint(event);
      return recent.seenOrAdd(fingerprints.a, fingerprints.b);
    },
    get size() {
      return recent.size;
    },
    clear() {
      recent.clear();
    },
  };
}
