import type { OvhEvent } from './types.js';

/**
 * The de-duplication key of an event. OVH events carry no id, so the key is made of: token, event
 * name as sent, server `Timestamp` (ns; falls back to `Data.Ts` as sent when absent), `CallId` or
 * `QueueMemberUUID`, and `QueueAgent` (several `agent-offering` events share one timestamp).
 * `TsGet` is left out on purpose: it may differ between two deliveries of the same event.
 */
export function dedupeKey(event: OvhEvent): string {
  return `${keyTime(event)}\u0000${keySubject(event)}\u0000${keyName(event)}\u0000${keyAgent(event)}\u0000${event.token}`;
}

/** The raw `Data` of an event, for the key parts the normalised event does not carry. */
function rawData(event: OvhEvent): Record<string, unknown> | null | undefined {
  return event.raw.Data as Record<string, unknown> | null | undefined;
}

/** Key part: the server `Timestamp` digits, else `ts:` + `Data.Ts` as sent. */
function keyTime(event: OvhEvent): string {
  const stamp = event.raw.Timestamp;
  if (typeof stamp === 'string') return stamp;
  if (event.timestampNs !== undefined) return event.timestampNs.toString();
  return `ts:${String(rawData(event)?.Ts ?? '')}`;
}

/** Key part: the `CallId` or the queue member's uuid. */
function keySubject(event: OvhEvent): string {
  if (event.kind === 'line') return event.callId;
  if (event.kind === 'queue') return event.memberUuid ?? '';
  const data = rawData(event);
  return String(data?.CallId ?? data?.QueueMemberUUID ?? '');
}

/** Key part: the queue agent (several `agent-offering` events share one timestamp). */
function keyAgent(event: OvhEvent): string {
  if (event.kind === 'line') return '';
  if (event.kind === 'queue') return event.agent ?? '';
  return String(rawData(event)?.QueueAgent ?? '');
}

/** Key part: the event name as sent. */
function keyName(event: OvhEvent): string {
  const name = event.raw.Event;
  return typeof name === 'string' ? name : event.name;
}

/** A bounded memory of recently seen events. */
export interface Deduplicator {
  /** True when the event was seen within the window (a duplicate); otherwise remembers it, false. */
  seen(event: OvhEvent): boolean;
  /** How many keys are remembered now (≤ the window). */
  readonly size: number;
  /** Forgets everything. */
  clear(): void;
}

const PRIME_A = 0x01000193; // FNV-1a's 32-bit prime
const PRIME_B = 0x5bd1e995; // murmur2's multiplier
const SEED_A = 0x811c9dc5 | 0;
const SEED_B = 0x2166136b;

/** murmur3's 32-bit finaliser: spreads the bits of a hash. */
function mix(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
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
  const limit = Math.max(1, Math.floor(window));
  let capacity = 8;
  while (capacity < limit * 2) capacity *= 2;
  const mask = capacity - 1;
  // Fingerprints as pairs [a, b] side by side (one cache line for both): the ring in arrival order,
  // the table by hash. A table slot holding [0, 0] is empty (no fingerprint is [0, 0]).
  const ring = new Int32Array(2 * limit);
  const table = new Int32Array(2 * capacity);
  let next = 0;
  let size = 0;

  // Fingerprints are kept already mixed, so their low bits index the table directly.
  const home = (a: number) => a & mask;

  /** Slot of fingerprint [a, b] in the table, or -1. */
  const find = (a: number, b: number): number => {
    for (let i = home(a); ; i = (i + 1) & mask) {
      const ta = table[2 * i] as number;
      const tb = table[2 * i + 1] as number;
      if (ta === a && tb === b) return i;
      if ((ta | tb) === 0) return -1;
    }
  };

  const remove = (at: number) => {
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    let hole = at;
    table[2 * hole] = 0;
    table[2 * hole + 1] = 0;
    for (
      let i = (hole + 1) & mask;
      ((table[2 * i] as number) | (table[2 * i + 1] as number)) !== 0;
      i = (i + 1) & mask
    ) {
      const want = home(table[2 * i] as number);
      // Move the entry into the hole when the hole lies on its probe path (cyclically).
      if (((i - want) & mask) >= ((i - hole) & mask)) {
        table[2 * hole] = table[2 * i] as number;
        table[2 * hole + 1] = table[2 * i + 1] as number;
        table[2 * i] = 0;
        table[2 * i + 1] = 0;
        hole = i;
      }
    }
  };

  // The two 32-bit hash lanes of the key being fingerprinted (no array allocated per event).
  let laneA = 0;
  let laneB = 0;

  /**
   * Feeds one part of the key to both lanes in a single pass, two UTF-16 units at a time (each
   * step a bijection of the lane, so parts differing in one pair of units never collide), then its
   * length as a separator.
   */
  const feed = (part: string): void => {
    let a = laneA;
    let b = laneB;
    const length = part.length;
    let i = 0;
    for (; i + 1 < length; i += 2) {
      const c = part.charCodeAt(i) | (part.charCodeAt(i + 1) << 16);
      a = Math.imul(a ^ c, PRIME_A);
      a ^= a >>> 15;
      b = Math.imul(b ^ c, PRIME_B);
      b ^= b >>> 13;
    }
    if (i < length) {
      const c = part.charCodeAt(i);
      a = Math.imul(a ^ c, PRIME_A);
      b = Math.imul(b ^ c, PRIME_B);
    }
    laneA = Math.imul(a ^ (length + 0x9e3779b9), PRIME_A);
    laneB = Math.imul(b ^ (length + 0x7f4a7c15), PRIME_B);
  };

  // The token rarely changes from one event to the next: its lanes are computed once per token.
  let lastToken: string | undefined;
  let tokenA = 0;
  let tokenB = 0;

  /** Sets `laneA`/`laneB` to the fingerprint of the event's {@link dedupeKey} parts. */
  const fingerprint = (event: OvhEvent): void => {
    const token = event.token;
    if (token !== lastToken) {
      laneA = SEED_B;
      laneB = SEED_A;
      feed(token);
      lastToken = token;
      tokenA = laneA;
      tokenB = laneB;
    }
    laneA = SEED_A;
    laneB = SEED_B;
    feed(keyTime(event));
    feed(keySubject(event));
    feed(keyName(event));
    feed(keyAgent(event));
    laneA = mix(Math.imul(laneA ^ tokenA, PRIME_A));
    laneB = mix(Math.imul(laneB ^ tokenB, PRIME_B) ^ tokenA);
    if ((laneA | laneB) === 0) laneB = 1; // [0, 0] marks an empty slot
  };

  return {
    seen(event) {
      fingerprint(event);
      const a = laneA;
      const b = laneB;
      if (find(a, b) >= 0) return true;
      if (size === limit) {
        // Forget the oldest: it sits in the ring slot about to be reused.
        const at = find(ring[2 * next] as number, ring[2 * next + 1] as number);
        if (at >= 0) remove(at);
        size--;
      }
      ring[2 * next] = a;
      ring[2 * next + 1] = b;
      let i = home(a);
      while (((table[2 * i] as number) | (table[2 * i + 1] as number)) !== 0) i = (i + 1) & mask;
      table[2 * i] = a;
      table[2 * i + 1] = b;
      next = (next + 1) % limit;
      size++;
      return false;
    },
    get size() {
      return size;
    },
    clear() {
      table.fill(0);
      next = 0;
      size = 0;
    },
  };
}
