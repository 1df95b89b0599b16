import { type EventInbox, InboxLedger } from '@cti-bridge/core';
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

/**
 * Keeps one answer under a free id; `held` when kept by the lease holder (else for the next one).
 * A token not held (any more) is kept with fence 0, which no lease has.
 */
async function keepUnderFreeId(
  ctx: {
    readonly client: InboxClient;
    readonly keys: RedisKeys;
    readonly runner: string;
    readonly ledger: InboxLedger;
    readonly now: () => number;
  },
  token: string,
  fence: number,
  json: string,
): Promise<{ id: number; held: boolean }> {
  const { client, keys } = ctx;
  for (let attempt = 0; attempt <= 100; attempt++) {
    const id = ctx.ledger.nextId(ctx.now());
    const result = await client.ctiInboxKeep(
      keys.inbox(token),
      keys.inboxLate(token),
      keys.leases,
      tokenId(token),
      ctx.runner,
      fence,
      String(id),
      json,
    );
    // -1: another runner's answer has this id (clocks a microsecond apart): take the next one
    if (result !== -1) return { id, held: result === 1 };
  }
  throw new Error('could not find a free id in the event inbox');
}

/** Creates a {@link FencedInbox} on the Redis of the token leases. */
export function createFencedInbox(options: FencedInboxOptions): FencedInbox {
  const { keys, runner } = options;
  const client = inboxClient(options.redis);
  const now = options.now ?? Date.now;
  const fences = new Map<string, number>();
  const ledger = new InboxLedger();

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
    const kept = parseTaken(flat);
    ledger.own(
      token,
      kept.map((answer) => answer.id),
    );
    return kept;
  };
  const keepOnce = (token: string, json: string) =>
    keepUnderFreeId({ client, keys, runner, ledger, now }, token, fences.get(token) ?? 0, json);
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
      const { id, held } = await keepOnce(token, JSON.stringify(events));
      if (!held) return null;
      ledger.own(token, [id]);
      return id;
    },
    pending: (token) => take(token, 'all'),
    late: (token) => take(token, 'late'),
    handedOut: (id) => ledger.handedOut(id),
    forget(token) {
      ledger.forget(token);
      fences.delete(token);
    },
    checkpoint() {
      const released = ledger.checkpoint();
      return async () => {
        await Promise.all([...released()].map(([token, gone]) => release(token, gone)));
      };
    },
    get size() {
      return ledger.size;
    },
  };
}
