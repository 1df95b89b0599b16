import type { KeyValueStore } from '../store/types.js';
import type { EventInbox } from './event-stream.js';
import { InboxLedger } from './inbox-ledger.js';

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
  const ledger = new InboxLedger();
  const writes = new Map<string, Promise<void>>();

  const idsKey = (token: string) => `ids:${token}`;
  const answerKey = (token: string, id: number) => `answer:${token}:${id}`;
  /** Runs the token's writes one after the other (a failed one does not stop the next). */
  const serial = (token: string, write: () => Promise<void>): Promise<void> => {
    const next = (writes.get(token) ?? Promise.resolve()).catch(() => {}).then(write);
    writes.set(token, next);
    return next;
  };
  const saveIds = async (token: string) => {
    const ids = ledger.ids(token);
    if (ids === undefined) return; // forgotten: the token's entries belong to another runner now
    if (ids.length === 0) await kv.delete(NAMESPACE, idsKey(token));
    else await kv.set(NAMESPACE, idsKey(token), JSON.stringify(ids));
  };

  return {
    async keep(token, events) {
      const id = ledger.nextId(now());
      try {
        await serial(token, async () => {
          await kv.set(NAMESPACE, answerKey(token, id), JSON.stringify(events));
          ledger.own(token, [id]);
          await saveIds(token);
        });
      } catch (error) {
        // not kept: the stream hands the answer out unkept, and no later write may list it
        ledger.disown(token, id);
        throw error;
      }
      return id;
    },
    async pending(token) {
      const ids = (await readIds(kv, idsKey(token))).sort((a, b) => a - b);
      ledger.own(token, ids, { replace: true });
      return readAnswers(kv, ids, (id) => answerKey(token, id));
    },
    handedOut: (id) => ledger.handedOut(id),
    forget: (token) => ledger.forget(token),
    checkpoint() {
      const release = ledger.checkpoint();
      return async () => {
        await Promise.all(
          [...release()].map(([token, gone]) =>
            serial(token, async () => {
              if (ledger.ids(token) === undefined) return; // forgotten meanwhile: the next holder releases them
              await saveIds(token);
              for (const id of gone) await kv.delete(NAMESPACE, answerKey(token, id));
            }),
          ),
        );
      };
    },
    get size() {
      return ledger.size;
    },
  };
}

/** A token's kept ids (none when missing or unreadable). */
async function readIds(kv: KeyValueStore, key: string): Promise<number[]> {
  const text = await kv.get(NAMESPACE, key);
  if (text === undefined) return [];
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? value.filter((id): id is number => typeof id === 'number') : [];
  } catch {
    return [];
  }
}

/** The kept answers of `ids`, in that order (missing or unreadable ones left out). */
async function readAnswers(
  kv: KeyValueStore,
  ids: readonly number[],
  keyOf: (id: number) => string,
): Promise<Array<{ id: number; events: readonly unknown[] }>> {
  const kept: Array<{ id: number; events: readonly unknown[] }> = [];
  for (const id of ids) {
    const text = await kv.get(NAMESPACE, keyOf(id));
    if (text === undefined) continue;
    try {
      const events = JSON.parse(text) as unknown;
      if (Array.isArray(events)) kept.push({ id, events });
    } catch {}
  }
  return kept;
}
