import type { KeyValueStore } from '../store/types.js';
import type { EventInbox } from './event-stream.js';

/** An {@link EventInbox} on a store's key-value state, released at the consumer's snapshots. */
export interface StoreInbox extends EventInbox {
  /** Keeps one answer's raw events; resolves with its id once they are durable. */
  keep(token: string, events: readonly unknown[]): Promise<number>;
  /**
   * Call right when a snapshot of the consumer's state is taken: the answers wholly taken so far
   * are in it. Returns the release to call once that snapshot is saved (it forgets those answers).
   */
  checkpoint(): () => Promise<void>;
  /**
   * This process no longer follows `token` (several runners: its lease went to another runner).
   * Forgets its answers without releasing them and never writes the token's entries again: they are
   * the next holder's, who hands them out again and releases them after its own snapshot. Call it
   * once the token's stream has stopped.
   */
  forget(token: string): void;
  /** Answers kept and not yet released, all tokens together (stats, tests). */
  readonly size: number;
}

const NAMESPACE = 'inbox';

/**
 * Creates a {@link StoreInbox}: each kept answer is one key-value entry (`inbox` /
 * `answer:<token>:<id>`), and each token's ids one more (`inbox` / `ids:<token>`), rewritten when an
 * answer is kept or released. Only ids stay in memory; what the store holds is what arrived since
 * the consumer's last snapshot (about a second of events), whatever the traffic. Writes of one token
 * are made one after the other, in order.
 */
export function createStoreInbox(
  kv: KeyValueStore,
  options: { readonly now?: () => number } = {},
): StoreInbox {
  const now = options.now ?? Date.now;
  const idsByToken = new Map<string, number[]>();
  const tokenOf = new Map<number, string>();
  const taken = new Set<number>();
  const writes = new Map<string, Promise<void>>();
  let lastId = 0;

  const idsKey = (token: string) => `ids:${token}`;
  const answerKey = (token: string, id: number) => `answer:${token}:${id}`;
  /** Runs the token's writes one after the other (a failed one does not stop the next). */
  const serial = (token: string, write: () => Promise<void>): Promise<void> => {
    const next = (writes.get(token) ?? Promise.resolve()).catch(() => {}).then(write);
    writes.set(token, next);
    return next;
  };
  const saveIds = async (token: string) => {
    const ids = idsByToken.get(token);
    if (ids === undefined) return; // forgotten: the token's entries belong to another runner now
    if (ids.length === 0) await kv.delete(NAMESPACE, idsKey(token));
    else await kv.set(NAMESPACE, idsKey(token), JSON.stringify(ids));
  };
  const readIds = async (token: string): Promise<number[]> => {
    const text = await kv.get(NAMESPACE, idsKey(token));
    if (text === undefined) return [];
    try {
      const value = JSON.parse(text) as unknown;
      return Array.isArray(value) ? value.filter((id): id is number => typeof id === 'number') : [];
    } catch {
      return [];
    }
  };

  return {
    async keep(token, events) {
      // ids grow with time, also across restarts, so that kept answers replay in arrival order
      const id = Math.max(now() * 1000, lastId + 1);
      lastId = id;
      const idsOf = (): number[] => {
        const ids = idsByToken.get(token) ?? [];
        idsByToken.set(token, ids);
        return ids;
      };
      try {
        await serial(token, async () => {
          await kv.set(NAMESPACE, answerKey(token, id), JSON.stringify(events));
          idsOf().push(id);
          await saveIds(token);
        });
      } catch (error) {
        // not kept: the stream hands the answer out unkept, and no later write may list it
        const ids = idsOf();
        const at = ids.indexOf(id);
        if (at >= 0) ids.splice(at, 1);
        throw error;
      }
      tokenOf.set(id, token);
      return id;
    },
    async pending(token) {
      const ids = (await readIds(token)).sort((a, b) => a - b);
      idsByToken.set(token, ids);
      const kept: Array<{ id: number; events: readonly unknown[] }> = [];
      for (const id of ids) {
        tokenOf.set(id, token);
        lastId = Math.max(lastId, id);
        const text = await kv.get(NAMESPACE, answerKey(token, id));
        if (text === undefined) continue;
        try {
          const events = JSON.parse(text) as unknown;
          if (Array.isArray(events)) kept.push({ id, events });
        } catch {}
      }
      return kept;
    },
    handedOut(id) {
      if (tokenOf.has(id)) taken.add(id);
    },
    forget(token) {
      for (const id of idsByToken.get(token) ?? []) {
        tokenOf.delete(id);
        taken.delete(id);
      }
      idsByToken.delete(token);
    },
    checkpoint() {
      const ids = [...taken];
      return async () => {
        const released = new Map<string, number[]>();
        for (const id of ids) {
          taken.delete(id);
          const token = tokenOf.get(id);
          tokenOf.delete(id);
          if (token === undefined) continue;
          const list = released.get(token) ?? [];
          list.push(id);
          released.set(token, list);
        }
        await Promise.all(
          [...released].map(([token, gone]) =>
            serial(token, async () => {
              const ids = idsByToken.get(token);
              if (ids === undefined) return; // forgotten meanwhile: the next holder releases them
              for (const id of gone) {
                const at = ids.indexOf(id);
                if (at >= 0) ids.splice(at, 1);
              }
              await saveIds(token);
              for (const id of gone) await kv.delete(NAMESPACE, answerKey(token, id));
            }),
          ),
        );
      };
    },
    get size() {
      let n = 0;
      for (const ids of idsByToken.values()) n += ids.length;
      return n;
    },
  };
}
