import type { FencedInbox, RedisStore, TokenLeasesOptions } from '@cti-bridge/store-redis';
import type { RunnerLogger } from '../ops/logger.js';
import { maskToken } from '../ops/secrets.js';
import type { LeasedEventStream } from './leased-stream.js';
import { adoptOnAcquire, type CallHandOver, type HandOverKeys } from './takeover.js';

/** How long a runner that lost a lease waits for the poll in flight, whose answer goes to the new holder. */
const LOST_FINISH_MS = 5_000;

/**
 * What a runner does as its leases come and go: adopt a token's calls and poll it; hand tokens
 * over (a rebalance); stop polling a token lost.
 */
export function leaseCallbacks(ctx: {
  readonly store: RedisStore;
  readonly keys: HandOverKeys;
  readonly log: Pick<RunnerLogger, 'info' | 'warn'>;
  readonly stream: LeasedEventStream;
  readonly inbox: FencedInbox | undefined;
  readonly pollTimeoutMs: number;
  readonly calls: () => CallHandOver | undefined;
}): Pick<TokenLeasesOptions, 'onAcquire' | 'onHandOver' | 'onRelease'> {
  const { store, keys, log, stream, inbox } = ctx;
  // How many times this runner took each token: a step left to run after a token's stream ended
  // belongs to the tenure that ended, and must not undo a later one (the token taken back meanwhile,
  // its calls adopted again: a starved runner loses and wins leases within seconds).
  const tenures = new Map<string, number>();
  const sameTenure = (token: string, tenure: number | undefined) => tenures.get(token) === tenure;
  return {
    onAcquire: async (token, fence, previous) => {
      tenures.set(token, (tenures.get(token) ?? 0) + 1);
      const calls = ctx.calls();
      const adopted =
        previous !== undefined && calls !== undefined
          ? await adoptOnAcquire({ calls, store, keys, log, token, previous })
          : 0;
      log.info(
        { token: maskToken(token), fence, ...(previous ? { from: previous.runner, adopted } : {}) },
        'token lease acquired: polling it',
      );
      inbox?.hold(token, fence);
      stream.add(token, fence);
    },
    onHandOver: async (tokens) => {
      // The poll in flight ends (OVH keeps no answer: one cut as it is sent is lost), and the
      // events read reach the tracker, before the calls are handed over. A rebalance can wait for
      // the poll (the leases are renewed meanwhile). (A stopping runner has finished its polls
      // already: see stop().)
      await Promise.all(
        tokens.map((token) => stream.remove(token, { drainMs: 5_000, finishMs: ctx.pollTimeoutMs })),
      );
      await ctx.calls()?.handOver(tokens, keys.handOver);
      // answers of these tokens not yet released are the next holder's to hand out again
      for (const token of tokens) inbox?.forget(token);
      log.info({ tokens: tokens.length }, 'tokens handed over with their calls in flight');
    },
    onRelease: (token, reason) => {
      log[reason === 'lost' || reason === 'expired' ? 'warn' : 'info'](
        { token: maskToken(token), reason },
        'token lease released: not polling it any more',
      );
      const tenure = tenures.get(token);
      if (reason !== 'lost' && reason !== 'expired') {
        // handed over already (onHandOver); should that have failed half-way, stop polling now
        void stream.remove(token).then(() => {
          if (sameTenure(token, tenure)) inbox?.forget(token);
        });
        return;
      }
      // Lost: another runner may hold the token now. From here on what this runner's poll still
      // receives is kept for that runner (the fenced inbox), not applied here, and the poll in
      // flight may end so that its answer is not lost (OVH v1 sends nothing twice).
      inbox?.forget(token);
      void stream.remove(token, { finishMs: LOST_FINISH_MS }).then(() => {
        if (sameTenure(token, tenure)) return ctx.calls()?.handOver([token], keys.handOver, { save: false });
      });
    },
  };
}
