import type { Call } from '../calls/types.js';
import type { KeyValueStore } from '../store/types.js';
import { type SeenCall, seenCallOf } from './reconcile.js';

const NAMESPACE = 'healing';
const HOUR = 3_600_000;
/** Seen calls are kept this long: a gap older than that cannot be told from the stream's calls. */
export const JOURNAL_RETENTION_MS = 8 * 24 * HOUR;

/**
 * The calls seen on the stream, per token and hour of their start, in the store: what healing
 * matches OVH's call records against, after a restart too.
 */
export interface SeenCallJournal {
  record(call: Call): Promise<void>;
  /** Seen calls of a token that started in `[from, to]`. */
  between(token: string, from: number, to: number): Promise<SeenCall[]>;
}

/** A {@link SeenCallJournal} in a key-value store (one JSON list per token and hour). */
export function createSeenCallJournal(kv: KeyValueStore, tag: (token: string) => string): SeenCallJournal {
  let chain: Promise<unknown> = Promise.resolve();
  const key = (token: string, hour: number) => `seen:${tag(token)}:${hour}`;
  const read = async (k: string): Promise<SeenCall[]> => {
    const text = await kv.get(NAMESPACE, k);
    if (text === undefined) return [];
    try {
      const value = JSON.parse(text) as unknown;
      return Array.isArray(value) ? (value as SeenCall[]) : [];
    } catch {
      return [];
    }
  };
  return {
    record(call) {
      const seen = seenCallOf(call);
      const k = key(call.token, Math.floor(seen.startedAt / HOUR));
      // read-modify-write, one at a time
      const next = chain.then(async () => {
        const list = await read(k);
        if (list.some((c) => c.callId === seen.callId)) return;
        list.push(seen);
        await kv.set(NAMESPACE, k, JSON.stringify(list), { ttlMs: JOURNAL_RETENTION_MS });
      });
      chain = next.catch(() => {});
      return next;
    },
    async between(token, from, to) {
      const out: SeenCall[] = [];
      for (let hour = Math.floor(from / HOUR); hour <= Math.floor(to / HOUR); hour++) {
        for (const call of await read(key(token, hour))) {
          if (call.startedAt >= from && call.startedAt <= to) out.push(call);
        }
      }
      return out;
    },
  };
}
