import type { FencedInbox, RedisStore } from '@cti-bridge/store-redis';
import { describe, expect, it } from 'vitest';
import { leaseCallbacks } from './lease-callbacks.js';
import type { LeasedEventStream } from './leased-stream.js';
import { type CallHandOver, handOverKeys } from './takeover.js';

const TOKEN = 'TENURE00-0000-4000-8000-000000000001';

/** What the callbacks did to the stream, the inbox and the calls, in order; removals end on demand. */
function harness() {
  const log: string[] = [];
  const ends: Array<() => void> = [];
  const stream = {
    add: (_token: string, fence: number) => log.push(`poll (fence ${fence})`),
    remove: () =>
      new Promise<void>((resolve) => {
        log.push('stop polling');
        ends.push(resolve);
      }),
  } as unknown as LeasedEventStream;
  const inbox = {
    hold: (_token: string, fence: number) => log.push(`inbox holds (fence ${fence})`),
    forget: () => log.push('inbox forgets'),
  } as unknown as FencedInbox;
  const calls: CallHandOver = {
    adopt: async () => 0,
    handOver: async (_tokens, _key, options) => {
      log.push(options?.save === false ? 'calls forgotten' : 'calls handed over');
    },
  };
  const callbacks = leaseCallbacks({
    store: {} as RedisStore,
    keys: handOverKeys((token) => token),
    log: { info: () => {}, warn: () => {} },
    stream,
    inbox,
    pollTimeoutMs: 1_000,
    calls: () => calls,
  });
  /** Lets the oldest stream removal end, then lets what waited on it run. */
  const endRemoval = async () => {
    ends.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { log, callbacks, endRemoval };
}

describe('lease callbacks: a token lost, then taken back before its old stream ended', () => {
  it('keeps the calls of the new tenure (the old one’s deferred "forget the calls" is dropped)', async () => {
    const { log, callbacks, endRemoval } = harness();
    await callbacks.onAcquire?.(TOKEN, 1, undefined);
    callbacks.onRelease?.(TOKEN, 'lost'); // a starved runner missed its renewals
    await callbacks.onAcquire?.(TOKEN, 2, undefined); // and took the token back at once
    await endRemoval(); // the old stream's last poll ends only now
    expect(log).not.toContain('calls forgotten');
    expect(log.at(-1)).toBe('poll (fence 2)');
  });

  it('still forgets the calls of a token lost for good, once its stream ended', async () => {
    const { log, callbacks, endRemoval } = harness();
    await callbacks.onAcquire?.(TOKEN, 1, undefined);
    callbacks.onRelease?.(TOKEN, 'lost');
    await endRemoval();
    expect(log.slice(-2)).toEqual(['stop polling', 'calls forgotten']);
  });

  it('keeps the inbox fence of the new tenure after a released token is taken back', async () => {
    const { log, callbacks, endRemoval } = harness();
    await callbacks.onAcquire?.(TOKEN, 1, undefined);
    callbacks.onRelease?.(TOKEN, 'rebalanced');
    await callbacks.onAcquire?.(TOKEN, 2, undefined);
    await endRemoval();
    expect(log.slice(log.indexOf('inbox holds (fence 2)'))).not.toContain('inbox forgets');
  });
});
