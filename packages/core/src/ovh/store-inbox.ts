import type { KeyValueStore } from '../store/types.js';
import type { EventInbox } from './event-stream.js';

/** An {@link EventInbox} on a store's key-value state, released at the consumer's snapshots. */
export interface StoreInbox extends EventInbox {
  /**
   * Call right when a snapshot of the consumer's state is taken: the answers wholly taken so far
   * are in it. Returns the release to call once that snapshot is saved (it forgets those answers).
   */
  checkpoint(): () => Promise<void>;
  /** Answers kept and not yet released, all tokens together (stats, tests). */
  readonly size: number;
}

interface Kept {
  readonly id: number;
  readonly events: readonly unknown[];
}

const NAMESPACE = 'inbox';

/**
 * Creates a {@link StoreInbox}: each token's kept answers are one key-value entry (`inbox` /
 * `token:<token>`), rewritten when an answer is kept or released. What it holds is what arrived
 * since the consumer's last snapshot (about a second of events), whatever the traffic. Writes of one
 * token are made one after the other, in order.
 */
export function createStoreInbox(
  kv: KeyValueStore,
  options: { readonly now?: () => number } = {},
): StoreInbox {
  const now = options.now ?? Date.now;
  const byToken = new Map<string, Kept[]>();
  const tokenOf = new Map<number, string>();
  const taken = new Set<number>();
  const writes = new Map<string, Promise<void>>();
  let lastId = 0;

  const key = (token: string) => `token:${token}`;
  const persist = (token: string): Promise<void> => {
    const previous = writes.get(token) ?? Promise.resolve();
    const next = previous
      .catch(() => {})
      .then(() => {
        const kept = byToken.get(token) ?? [];
        return kept.length === 0
          ? kv.delete(NAMESPACE, key(token))
          : kv.set(NAMESPACE, key(token), JSON.stringify(kept));
      });
    writes.set(token, next);
    return next;
  };

  return {
    async keep(token, events) {
      // ids grow with time, also across restarts, so that kept answers replay in arrival order
      const id = Math.max(now() * 1000, lastId + 1);
      lastId = id;
      const kept = byToken.get(token) ?? [];
      kept.push({ id, events });
      byToken.set(token, kept);
      tokenOf.set(id, token);
      try {
        await persist(token);
      } catch (error) {
        // not kept: the stream hands the answer out unkept, and a later write must not keep it
        kept.splice(kept.indexOf(kept.find((item) => item.id === id) as Kept), 1);
        tokenOf.delete(id);
        throw error;
      }
      return id;
    },
    async pending(token) {
      const text = await kv.get(NAMESPACE, key(token));
      let kept: Kept[] = [];
      if (text !== undefined) {
        try {
          const value = JSON.parse(text) as unknown;
          if (Array.isArray(value)) {
            kept = value.filter(
              (item): item is Kept =>
                typeof item === 'object' &&
                item !== null &&
                typeof item.id === 'number' &&
                Array.isArray(item.events),
            );
          }
        } catch {
          kept = [];
        }
      }
      kept.sort((a, b) => a.id - b.id);
      byToken.set(token, kept);
      for (const item of kept) {
        tokenOf.set(item.id, token);
        lastId = Math.max(lastId, item.id);
      }
      return kept;
    },
    handedOut(id) {
      if (tokenOf.has(id)) taken.add(id);
    },
    checkpoint() {
      const ids = [...taken];
      return async () => {
        const touched = new Set<string>();
        for (const id of ids) {
          taken.delete(id);
          const token = tokenOf.get(id);
          tokenOf.delete(id);
          if (token === undefined) continue;
          const kept = byToken.get(token);
          if (!kept) continue;
          const at = kept.findIndex((item) => item.id === id);
          if (at >= 0) kept.splice(at, 1);
          touched.add(token);
        }
        await Promise.all([...touched].map(persist));
      };
    },
    get size() {
      let n = 0;
      for (const kept of byToken.values()) n += kept.length;
      return n;
    },
  };
}
