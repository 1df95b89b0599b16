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
function hashInto(h: number, part: string): number {
  let x = h;
  for (let i = 0; i < part.length; i++) x = Math.imul(x ^ part.charCodeAt(i), 0x01000193);
  return Math.imul(x ^ 0xff, 0x01000193);
}

function hashParts(a: string, b: string, c: string, d: string): number {
  return hashInto(hashInto(hashInto(hashInto(0x811c9dc5, a), b), c), d) & 0x3fffffff;
}

/**
 * Creates a {@link Deduplicator} remembering the last `window` events (default 10,000), oldest
 * forgotten first. Memory is bounded whatever the stream does.
 *
 * Layout, for speed and little garbage: events with a server `Timestamp` are indexed by that exact
 * nanosecond value (a bigint), and events sharing one timestamp are told apart by a 30-bit hash of
 * the rest of their {@link dedupeKey} (CallId or member uuid, name, agent, token) — two distinct
 * events would have to share the nanosecond and collide on the hash to be confused. Events without a
 * `Timestamp` use their full key.
 */
export function createDeduplicator(window = 10_000): Deduplicator {
  const limit = Math.max(1, Math.floor(window));
  const byTime = new Map<bigint, number | number[]>();
  const byKey = new Set<string>();
  // Insertion order in a ring, so that evicting the oldest is O(1).
  let ringTime: Array<bigint | undefined> = new Array(limit);
  let ringHash: Array<number | string | undefined> = new Array(limit);
  let next = 0;
  let size = 0;

  const evict = () => {
    const time = ringTime[next];
    const hash = ringHash[next];
    if (hash === undefined) return;
    size--;
    if (typeof hash === 'string') byKey.delete(hash);
    else if (time !== undefined) {
      const entry = byTime.get(time);
      if (entry === hash) byTime.delete(time);
      else if (Array.isArray(entry)) {
        const index = entry.indexOf(hash);
        if (index >= 0) entry.splice(index, 1);
        if (entry.length === 0) byTime.delete(time);
      }
    }
  };
  const remember = (time: bigint | undefined, hash: number | string) => {
    evict();
    ringTime[next] = time;
    ringHash[next] = hash;
    next = (next + 1) % limit;
    size++;
  };

  return {
    seen(event) {
      const time = event.timestampNs;
      if (time === undefined) {
        const key = dedupeKey(event);
        if (byKey.has(key)) return true;
        remember(undefined, key);
        byKey.add(key);
        return false;
      }
      const raw = event.raw;
      let subject: string;
      let agent = '';
      if (event.kind === 'line') subject = event.callId;
      else if (event.kind === 'queue') {
        subject = event.memberUuid ?? '';
        agent = event.agent ?? '';
      } else {
        const data = (raw.Data ?? {}) as Record<string, unknown>;
        subject = String(data.CallId ?? data.QueueMemberUUID ?? '');
        agent = String(data.QueueAgent ?? '');
      }
      const name = typeof raw.Event === 'string' ? raw.Event : event.name;
      const hash = hashParts(subject, name, agent, event.token);
      const entry = byTime.get(time);
      if (entry === undefined) byTime.set(time, hash);
      else if (entry === hash || (Array.isArray(entry) && entry.includes(hash))) return true;
      else if (Array.isArray(entry)) entry.push(hash);
      else byTime.set(time, [entry, hash]);
      remember(time, hash);
      return false;
    },
    get size() {
      return size;
    },
    clear() {
      byTime.clear();
      byKey.clear();
      ringTime = new Array(limit);
      ringHash = new Array(limit);
      next = 0;
      size = 0;
    },
  };
}
