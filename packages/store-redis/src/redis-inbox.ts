import type { EventInbox } from '@cti-bridge/core';
import type { Redis } from 'ioredis';
import { INBOX_KEEP, INBOX_RELEASE, INBOX_TAKE } from './inbox-scripts.js';
import { type RedisKeys, tokenId } from './keys.js';

/** One answer kept in the inbox. */
type Kept = { readonly id: number; readonly events: readonly unknown[] };

/**
 * The event inbox of a runner among several (core's {@link EventInbox}, with core's `StoreInbox`
 * release and forget), fenced by the token leases. A runner keeps what its polls receive; while it
 * holds the token's lease the answer is its own to hand out and release after its snapshot. A poll
 * that ends after the lease went to another runner (this one was too slow to renew it: a stalled
 * process, a network cut) keeps its answer for the new holder instead, who hands it out before its
 * next poll: OVH v1 sends nothing twice, so such an answer is neither lost nor applied by a runner
 * that no longer follows the token. Releases are fenced too: a runner that lost a token never
 * deletes what the new holder has yet to read.
 */
export interface FencedInbox extends EventInbox {
  /** What another runner kept for this one since it last looked (see core's {@link EventInbox.late}). */
  late(token: string): ReturnType<NonNullable<EventInbox['late']>>;
  /** This runner holds `token` with fencing number `fence` (call before polling it). */
  hold(token: string, fence: number): void;
  /** As core's `StoreInbox.checkpoint`: the release to call once the snapshot taken now is saved. */
  checkpoint(): () => Promise<void>;
  /**
   * This runner no longer follows `token`: its kept answers are the next holder's, and so are the
   * answers of polls still ending (kept as late). Call it as soon as the lease is lost; on a
   * hand-over, once the calls are handed over.
   */
  forget(token: string): void;
  /** Answers kept and not yet released, all tokens together (stats, tests). */
  readonly size: number;
}

/** Options of {@link createFencedInbox}. */
export interface FencedInboxOptions {
  readonly redis: Redis;
  readonly keys: RedisKeys;
  /** This runner's name, as in its leases. */
  readonly runner: string;
  readonly now?: () => number;
}

type InboxClient = Redis & {
  ctiInboxKeep(...args: (string | number)[]): Promise<number>;
  ctiInboxRelease(...args: (string | number)[]): Promise<number>;
  ctiInboxTake(...args: string[]): Promise<string[]>;
};

function inboxClient(redis: Redis): InboxClient {
  const scripts = [
    ['ctiInboxKeep', 3, INBOX_KEEP],
    ['ctiInboxRelease', 2, INBOX_RELEASE],
    ['ctiInboxTake', 3, INBOX_TAKE],
  ] as const;
  for (const [name, numberOfKeys, lua] of scripts) {
    if (!(name in redis)) redis.defineCommand(name, { numberOfKeys, lua });
  }
  return redis as InboxClient;
}

/** Reads the flat `id, events, id, events…` answer of INBOX_TAKE, oldest first. */
function parseTaken(flat: readonly string[]): Kept[] {
  const kept: Kept[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const id = Number(flat[i]);
    try {
      const events = JSON.parse(flat[i + 1] as string) as unknown;
      if (Number.isSafeInteger(id) && Array.isArray(events)) kept.push({ id, events });
    } catch {}
  }
  return kept.sort((a, b) => a.id - b.id);
}

/** Creates a {@link FencedInbox} on the Redis of the token leases. */
export function createFencedInbox(options: FencedInboxOptions): FencedInbox {
  const { keys, runner } = options;
  const client = inboxClient(options.redis);
  const now = options.now ?? Date.now;
  const fences = new Map<string, number>();
  const idsByToken = new Map<string, Set<number>>();
  const tokenOf = new Map<number, string>();
  const taken = new Set<number>();
  let lastId = 0;

  /** The answers now this runner's to hand out and release. */
  const own = (token: string, kept: Kept[]): Kept[] => {
    const ids = idsByToken.get(token) ?? new Set<number>();
    idsByToken.set(token, ids);
    for (const { id } of kept) {
      ids.add(id);
      tokenOf.set(id, token);
      lastId = Math.max(lastId, id);
    }
    return kept;
  };
  /** A held token's kept answers ('all') or those kept for this runner by another ('late'). */
  const take = async (token: string, which: 'all' | 'late'): Promise<Kept[]> => {
    const fence = fences.get(token);
    if (fence === undefined) return [];
    const flat = await client.ctiInboxTake(
      keys.inbox(token),
      keys.inboxLate(token),
      keys.leases,
      tokenId(token),
      runner,
      String(fence),
      which,
    );
    return own(token, parseTaken(flat));
  };

  const release = async (token: string, gone: readonly number[]) => {
    const fence = fences.get(token);
    if (fence === undefined) return; // forgotten meanwhile: the next holder releases them
    await client.ctiInboxRelease(
      keys.inbox(token),
      keys.leases,
      tokenId(token),
      runner,
      fence,
      ...gone.map(String),
    );
  };

  return {
    hold(token, fence) {
      fences.set(token, fence);
    },
    async keep(token, events) {
      const json = JSON.stringify(events);
      // a token not held (any more) is kept for whoever holds it: no fence matches 0
      const fence = fences.get(token) ?? 0;
      for (let attempt = 0; ; attempt++) {
        // ids grow with time, also across runners and restarts: kept answers replay in arrival order
        const id = Math.max(now() * 1000, lastId + 1);
        lastId = id;
        const result = await client.ctiInboxKeep(
          keys.inbox(token),
          keys.inboxLate(token),
          keys.leases,
          tokenId(token),
          runner,
          fence,
          String(id),
          json,
        );
        if (result === -1) {
          // another runner's answer has this id (clocks a microsecond apart): take the next one
          if (attempt < 100) continue;
          throw new Error('could not find a free id in the event inbox');
        }
        if (result !== 1) return null;
        own(token, [{ id, events }]);
        return id;
      }
    },
    pending: (token) => take(token, 'all'),
    late: (token) => take(token, 'late'),
    handedOut(id) {
      if (tokenOf.has(id)) taken.add(id);
    },
    forget(token) {
      for (const id of idsByToken.get(token) ?? []) {
        tokenOf.delete(id);
        taken.delete(id);
      }
      idsByToken.delete(token);
      fences.delete(token);
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
          idsByToken.get(token)?.delete(id);
          released.set(token, [...(released.get(token) ?? []), id]);
        }
        await Promise.all([...released].map(([token, gone]) => release(token, gone)));
      };
    },
    get size() {
      let n = 0;
      for (const ids of idsByToken.values()) n += ids.size;
      return n;
    },
  };
}
