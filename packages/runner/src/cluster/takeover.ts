import type { Connector } from '@cti-bridge/core';
import type { RedisStore } from '@cti-bridge/store-redis';
import { EXIT, ExitError } from '../exit-codes.js';
import type { RunnerLogger } from '../ops/logger.js';
import { maskToken } from '../ops/secrets.js';

/** What the cluster needs of the connector to move calls in flight between runners. */
export type CallHandOver = Pick<Connector, 'adopt' | 'handOver'>;

/** The snapshot keys through which a token's calls in flight move between runners. */
export interface HandOverKeys {
  /** Written by the runner handing the token over (a rebalance, a stop), or carried at a takeover. */
  handOver(token: string): string;
  /** Where the lease script copies a dead holder's snapshot (store-redis' lease scripts). */
  copied(token: string): string;
}

/** The {@link HandOverKeys} of a cluster (`tokenId` from store-redis: tokens never appear in keys). */
export function handOverKeys(tokenId: (token: string) => string): HandOverKeys {
  return {
    handOver: (token) => `handover:${tokenId(token)}`,
    copied: (token) => `handover-src:${tokenId(token)}`,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Waits until no live runner has this runner's name (a restart after a crash waits for the old
 * heartbeat to expire); past `waitMs`, a second runner with the same name is refused.
 */
export async function waitForName(
  store: RedisStore,
  name: string,
  prefix: string,
  waitMs: number,
  logger: Pick<RunnerLogger, 'info'>,
): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const alive = await store.redis.zscore(store.keys.runners, name);
    if (alive === null || Number(alive) <= Date.now()) return;
    if (Date.now() >= deadline) {
      throw new ExitError(
        EXIT.RUNTIME,
        `another runner named '${name}' is alive in this Redis cluster (prefix '${prefix}'): give each runner its own name (store.runnerName or CTI_RUNNER_NAME)`,
      );
    }
    logger.info(
      { runner: name },
      'a runner of this name was alive moments ago: waiting for its heartbeat to expire',
    );
    await sleep(Math.min(1_000, Math.max(50, Number(alive) - Date.now())));
  }
}

/**
 * Adopts a token's calls in flight as its lease is acquired; returns how many came. Handed over:
 * the hand-over snapshot. Died: its last snapshot, then the hand-over it was given (it may have
 * died before it saved the calls it adopted; it clears the hand-over once saved), then the copy
 * the lease script made of a dead holder's snapshot (kept until a takeover settles: the calls
 * survive a chain of deaths and the dead runner's restart). The calls are carried into the
 * hand-over at once: were this runner to die before its own snapshot is saved, the next one finds
 * them there. Once this runner's snapshot has them, the hand-over and the copy are cleared.
 */
export async function adoptOnAcquire(options: {
  readonly calls: CallHandOver;
  readonly store: RedisStore;
  readonly keys: HandOverKeys;
  readonly log: Pick<RunnerLogger, 'warn'>;
  readonly token: string;
  readonly previous: { readonly runner: string; readonly released: boolean };
}): Promise<number> {
  const { calls, store, keys, log, token, previous } = options;
  const handOver = keys.handOver(token);
  const copied = keys.copied(token);
  const sources = previous.released ? [handOver, copied] : [`tracker:${previous.runner}`, handOver, copied];
  try {
    const count = await calls.adopt(sources, [token], previous.released ? {} : { carryTo: handOver });
    await store.snapshots.save(handOver, '').catch(() => {});
    await store.redis.del(store.keys.snapshot(copied)).catch(() => {});
    return count;
  } catch (error) {
    log.warn({ token: maskToken(token), err: errorText(error) }, 'could not adopt the calls in flight');
    return 0;
  }
}

/**
 * At start, the calls restored from this runner's own snapshot whose tokens it does not hold: those
 * another runner holds are theirs (forgotten here). Those of tokens this runner died holding that
 * nobody has taken yet go where a takeover looks (the copy the lease script would have made, unless
 * one is there), as this runner's snapshot is about to be rewritten without them.
 */
export async function handOverRestoredCalls(options: {
  readonly calls: CallHandOver;
  readonly store: RedisStore;
  readonly keys: HandOverKeys;
  readonly name: string;
  readonly tokens: readonly string[];
  readonly tokenId: (token: string) => string;
}): Promise<void> {
  const { calls, store, keys, name, tokens, tokenId } = options;
  if (tokens.length === 0) return;
  const leases = await store.redis.hgetall(store.keys.leases);
  const untaken = tokens.filter((token) => {
    const lease = leases[tokenId(token)];
    return lease?.startsWith(`${name}|`) === true && lease.split('|').at(-2) !== '0';
  });
  const tempKey = (token: string) => `handover-tmp:${name}:${tokenId(token)}`;
  if (untaken.length > 0) {
    await calls.handOver(untaken, tempKey);
    for (const token of untaken) {
      const temp = store.keys.snapshot(tempKey(token));
      await store.redis.renamenx(temp, store.keys.snapshot(keys.copied(token))).catch(() => 0);
      await store.redis.del(temp);
    }
  }
  const taken = tokens.filter((token) => !untaken.includes(token));
  if (taken.length > 0) await calls.handOver(taken, keys.handOver, { save: false });
}
