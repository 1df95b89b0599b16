import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { withTimeout } from './timing.js';

/** A write that goes on for `ms` after its signal aborts, then settles as told. */
function slowWrite(ms: number, outcome: 'written' | 'failed', log: string[]) {
  return (signal: AbortSignal) =>
    new Promise<string>((resolve, reject) => {
      signal.addEventListener('abort', () => {
        setTimeout(() => {
          log.push('write ended');
          if (outcome === 'written') resolve('record-1');
          else reject(new Error('socket hang up'));
        }, ms);
      });
    });
}

describe('withTimeout', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('with waitForEndMs, a timed-out write has ended before the caller hears of the timeout', async () => {
    const log: string[] = [];
    const result = withTimeout(
      slowWrite(300, 'failed', log),
      1_000,
      () => new Error('timed out'),
      undefined,
      1_000,
    ).catch((error: Error) => {
      log.push(`caller: ${error.message}`);
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(
      log,
      'the caller heard of the timeout while the write was still going (a retry would run beside it)',
    ).toEqual([]);
    await vi.advanceTimersByTimeAsync(300);
    await result;
    expect(log).toEqual(['write ended', 'caller: timed out']);
  });

  it('a write that succeeds after its timeout is reported as written, not retried', async () => {
    const log: string[] = [];
    const result = withTimeout(
      slowWrite(200, 'written', log),
      1_000,
      () => new Error('timed out'),
      undefined,
      1_000,
    );
    await vi.advanceTimersByTimeAsync(1_200);
    await expect(result).resolves.toBe('record-1');
  });

  it('waits at most waitForEndMs for a write that never ends', async () => {
    const result = withTimeout(
      () => new Promise<never>(() => {}),
      1_000,
      () => new Error('timed out'),
      undefined,
      500,
    );
    const settled = vi.fn();
    result.catch(settled);
    await vi.advanceTimersByTimeAsync(1_499);
    expect(settled).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toHaveBeenCalledWith(new Error('timed out'));
  });

  it('without waitForEndMs (lookups), the timeout is reported at once', async () => {
    const log: string[] = [];
    const result = withTimeout(slowWrite(300, 'failed', log), 1_000, () => new Error('timed out'));
    const settled = vi.fn();
    result.catch(settled);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(settled).toHaveBeenCalledWith(new Error('timed out'));
  });

  it('a shutdown rejects at once, even while waiting for a timed-out write', async () => {
    const log: string[] = [];
    const stop = new AbortController();
    const result = withTimeout(
      slowWrite(5_000, 'failed', log),
      1_000,
      () => new Error('timed out'),
      {
        signal: stop.signal,
        onAbort: () => new Error('stopping'),
      },
      5_000,
    );
    const settled = vi.fn();
    result.catch(settled);
    await vi.advanceTimersByTimeAsync(1_100);
    stop.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toHaveBeenCalledWith(new Error('stopping'));
  });
});
