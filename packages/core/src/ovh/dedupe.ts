import type { OvhEvent } from './types.js';

/**
 * The de-duplication key of an event. OVH events carry no id, so the key is made of: token, event
 * name as sent, server `Timestamp` (ns; falls back to `Data.Ts` as sent when absent), `CallId` or
 * `QueueMemberUUID`, and `QueueAgent` (several `agent-offering` events share one timestamp).
 * `TsGet` is left out on purpose: it may differ between two deliveries of the same event.
 */
export function dedupeKey(event: OvhEvent): string {
  const raw = event.raw;
  const data = (raw.Data ?? {}) as Record<string, unknown>;
  const stamp = raw.Timestamp;
  const time =
    typeof stamp === 'string'
      ? stamp
      : event.timestampNs !== undefined
        ? event.timestampNs.toString()
        : `ts:${String(data.Ts ?? '')}`;
  let subject: string;
  let agent: string;
  if (event.kind === 'line') {
    subject = event.callId;
    agent = '';
  } else if (event.kind === 'queue') {
    subject = event.memberUuid ?? '';
    agent = event.agent ?? '';
  } else {
    subject = String(data.CallId ?? data.QueueMemberUUID ?? '');
    agent = String(data.QueueAgent ?? '');
  }
  return `${time}\u0000${subject}\u0000${String(raw.Event ?? event.name)}\u0000${agent}\u0000${event.token}`;
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

/** FNV-1a over the parts of a key, folded to 30 bits (a small integer: no allocation to store it). */
/** FNV-1a step over a string, continuing from `h`. */
function fnv(h: number, part: string): number {
  let x = h;
  for (let i = 0; i < part.length; i++) x = Math.imul(x ^ part.charCodeAt(i), 0x01000193);
  return Math.imul(x ^ 0xff, 0x01000193);
}

/** murmur3's 32-bit finaliser: spreads the bits of an FNV hash. */
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
 * of the events is kept alive.
 *
 * Each event's {@link dedupeKey} (exact timestamp digits, CallId or member uuid, event name, agent,
 * token) is reduced to a 64-bit fingerprint: two independent 32-bit FNV-1a hashes. A ring remembers
 * the fingerprints in arrival order; an open-addressing table (linear probing, backward-shift
 * deletion) finds them. Two distinct events are confused only if their fingerprints collide: about
 * one chance in 10^14 per event with a full window.
 */
export function createDeduplicator(window = 10_000): Deduplicator {
  const limit = Math.max(1, Math.floor(window));
  let capacity = 8;
  while (capacity < limit * 2) capacity *= 2;
  const mask = capacity - 1;
  const ringA = new Int32Array(limit);
  const ringB = new Int32Array(limit);
  // Table slots hold ring index + 1 (0 = empty).
  let table = new Int32Array(capacity);
  let next = 0;
  let size = 0;

  const home = (a: number) => mix(a) & mask;

  const find = (a: number, b: number): number => {
    for (let i = home(a); ; i = (i + 1) & mask) {
      const slot = table[i] as number;
      if (slot === 0) return -1;
      if (ringA[slot - 1] === a && ringB[slot - 1] === b) return i;
    }
  };

  const remove = (at: number) => {
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    let hole = at;
    table[hole] = 0;
    for (let i = (hole + 1) & mask; table[i] !== 0; i = (i + 1) & mask) {
      const slot = table[i] as number;
      const want = home(ringA[slot - 1] as number);
      // Move the entry into the hole when the hole lies on its probe path (cyclically).
      if ((i - want + capacity) % capacity >= (i - hole + capacity) % capacity) {
        table[hole] = slot;
        table[i] = 0;
        hole = i;
      }
    }
  };

  const fingerprint = (event: OvhEvent): [number, number] => {
    const raw = event.raw;
    const data = (raw.Data ?? {}) as Record<string, unknown>;
    const stamp = raw.Timestamp;
    const time =
      typeof stamp === 'string'
        ? stamp
        : event.timestampNs !== undefined
          ? event.timestampNs.toString()
          : `ts:${String(data.Ts ?? '')}`;
    let subject: string;
    let agent = '';
    if (event.kind === 'line') subject = event.callId;
    else if (event.kind === 'queue') {
      subject = event.memberUuid ?? '';
      agent = event.agent ?? '';
    } else {
      subject = String(data.CallId ?? data.QueueMemberUUID ?? '');
      agent = String(data.QueueAgent ?? '');
    }
    const name = typeof raw.Event === 'string' ? raw.Event : event.name;
    let a = fnv(0x811c9dc5, time);
    let b = fnv(0x2166136b, time);
    a = fnv(fnv(fnv(fnv(a, subject), name), agent), event.token);
    b = fnv(fnv(fnv(fnv(b, event.token), agent), name), subject);
    return [a | 0, mix(b) | 0];
  };

  return {
    seen(event) {
      const [a, b] = fingerprint(event);
      if (find(a, b) >= 0) return true;
      if (size === limit) {
        // Forget the oldest: it sits in the ring slot about to be reused.
        const at = find(ringA[next] as number, ringB[next] as number);
        if (at >= 0) remove(at);
        size--;
      }
      ringA[next] = a;
      ringB[next] = b;
      let i = home(a);
      while (table[i] !== 0) i = (i + 1) & mask;
      table[i] = next + 1;
      next = (next + 1) % limit;
      size++;
      return false;
    },
    get size() {
      return size;
    },
    clear() {
      table = new Int32Array(capacity);
      next = 0;
      size = 0;
    },
  };
}
