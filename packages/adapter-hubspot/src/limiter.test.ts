import { isAdapterError } from '@cti-bridge/core';
import { describe, expect, it } from 'vitest';
import { RollingWindowLimiter } from './limiter.js';

/** A limiter on a virtual clock: sleeping advances time, so nothing here depends on real timing. */
function virtual(options: {
  max: number;
  intervalMs: number;
  maxWaitMs?: number;
  daily?: number;
  interactiveWaitMs?: number;
}) {
  let now = 1_000_000;
  const grants: number[] = [];
  const limiter = new RollingWindowLimiter({
    ...options,
    maxWaitMs: options.maxWaitMs ?? 60_000,
    label: 'test',
    now: () => now,
    sleep: async (ms) => {
      await new Promise((resolve) => setImmediate(resolve));
      now += ms;
    },
  });
  return {
    limiter,
    grants,
    now: () => now,
    take: async () => {
      const release = await limiter.acquire();
      grants.push(now);
      release();
    },
  };
}

describe('RollingWindowLimiter', () => {
  it('never grants more than max in any window', async () => {
    const v = virtual({ max: 3, intervalMs: 1000 });
    for (let i = 0; i < 10; i++) await v.take();
    for (let i = 0; i + 3 < v.grants.length; i++) {
      expect((v.grants[i + 3] ?? 0) - (v.grants[i] ?? 0)).toBeGreaterThanOrEqual(1000);
    }
    expect(v.grants.slice(0, 3)).toEqual([1_000_000, 1_000_000, 1_000_000]);
  });

  it('grants in FIFO order under concurrency', async () => {
    const v = virtual({ max: 1, intervalMs: 100 });
    const order: number[] = [];
    await Promise.all(
      [0, 1, 2, 3].map((i) =>
        v.limiter.acquire().then((release) => {
          order.push(i);
          release();
        }),
      ),
    );
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it('counts a slot until a window after the request ended, not after it started', async () => {
    const v = virtual({ max: 1, intervalMs: 1000 });
    const release = await v.limiter.acquire();
    const start = v.now();
    let granted = false;
    const next = v.limiter.acquire().then((r) => {
      granted = true;
      return r;
    });
    // The first request stays in flight for 3 s (virtual; the waiter's sleeps advance it), and the
    // next one gets no slot meanwhile. Waits for that state, not for a real-time delay.
    for (let turns = 0; turns < 10_000 && v.now() - start < 3000; turns++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(v.now() - start, 'virtual time moved while the next request waited').toBeGreaterThanOrEqual(3000);
    expect(granted, 'a slot was granted while the first request was in flight').toBe(false);
    release();
    const releasedAt = v.now();
    (await next)();
    expect(v.now() - releasedAt).toBeGreaterThanOrEqual(1000);
  });

  it('pauses after block() (a 429 with Retry-After)', async () => {
    const v = virtual({ max: 100, intervalMs: 1000 });
    v.limiter.block(5000);
    const start = v.now();
    await v.take();
    expect(v.now() - start).toBe(5000);
  });

  it('fails fast with a rate-limit error when the wait exceeds maxWaitMs', async () => {
    const v = virtual({ max: 1, intervalMs: 10_000, maxWaitMs: 1000 });
    await v.take();
    const error = await v.limiter.acquire().catch((e: unknown) => e);
    expect(isAdapterError(error) && error.kind).toBe('rate-limit');
    expect(isAdapterError(error) && error.retryAfterMs).toBe(10_000);
  });

  it('enforces the daily cap until midnight UTC', async () => {
    const v = virtual({ max: 100, intervalMs: 1000, daily: 2 });
    await v.take();
    await v.take();
    const error = await v.limiter.acquire().catch((e: unknown) => e);
    expect(isAdapterError(error) && error.code).toBe('DAILY');
  });

  it('grants screen-pop (interactive) waiters before every background waiter still queued, newest pop first', async () => {
    const v = virtual({ max: 1, intervalMs: 1000 });
    const first = await v.limiter.acquire();
    const order: string[] = [];
    const waiter = (name: string, priority: 'interactive' | 'background') =>
      v.limiter.acquire(undefined, priority).then((release) => {
        order.push(name);
        release();
      });
    const all = [
      waiter('delivery-1', 'background'),
      waiter('delivery-2', 'background'),
      waiter('pop-1', 'interactive'),
      waiter('delivery-3', 'background'),
      waiter('pop-2', 'interactive'),
    ];
    expect(v.limiter.waiting()).toEqual({ interactive: 2, background: 3 });
    first();
    await Promise.all(all);
    expect(order, 'a screen-pop lookup waited behind delivery lookups').toEqual([
      'pop-2',
      'pop-1',
      'delivery-1',
      'delivery-2',
      'delivery-3',
    ]);
  });

  it('drops a waiter whose signal aborts at once, without using a slot', async () => {
    const v = virtual({ max: 1, intervalMs: 60_000 });
    const held = await v.limiter.acquire();
    const controller = new AbortController();
    const stale = v.limiter.acquire(controller.signal, 'interactive').catch((e: unknown) => e);
    const behind = v.limiter.acquire(undefined, 'background');
    expect(v.limiter.waiting()).toEqual({ interactive: 1, background: 1 });
    controller.abort();
    const error = await stale;
    expect(isAdapterError(error) && error.kind, 'an abandoned lookup must leave the queue').toBe('transient');
    expect(v.limiter.waiting()).toEqual({ interactive: 0, background: 1 });
    held();
    const releasedAt = v.now();
    (await behind)();
    // the next slot frees one window after the held one ended: the abandoned waiter took none
    expect(v.now() - releasedAt).toBe(60_000);
  });

  it('refuses an already aborted request without queueing it', async () => {
    const v = virtual({ max: 1, intervalMs: 1000 });
    const error = await v.limiter.acquire(AbortSignal.abort(), 'interactive').catch((e: unknown) => e);
    expect(isAdapterError(error) && error.kind).toBe('transient');
    expect(v.limiter.waiting()).toEqual({ interactive: 0, background: 0 });
    expect(v.limiter.inWindow()).toBe(0);
  });

  it('demotes a screen-pop waiter that can no longer pop in time behind fresh ones, in arrival order', async () => {
    const v = virtual({ max: 1, intervalMs: 1000, interactiveWaitMs: 3000 });
    const order: string[] = [];
    const waiter = (name: string, priority: 'interactive' | 'background') =>
      v.limiter.acquire(undefined, priority).then((release) => {
        order.push(name);
        release();
      });
    const start = v.now();
    const held = await v.limiter.acquire();
    const waiters = [waiter('delivery-1', 'background'), waiter('pop-old', 'interactive')];
    // the slot stays taken past the old pop's 3 s (virtual time moves while the limiter waits)
    while (v.now() - start < 3_100) await new Promise((resolve) => setImmediate(resolve));
    expect(v.limiter.waiting(), 'a stale screen pop still held its place ahead').toEqual({
      interactive: 0,
      background: 2,
    });
    waiters.push(waiter('pop-new', 'interactive'));
    held();
    await Promise.all(waiters);
    expect(order).toEqual(['pop-new', 'delivery-1', 'pop-old']);
  });
});
