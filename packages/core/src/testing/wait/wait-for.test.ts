import { describe, expect, it } from 'vitest';
import { waitFor, waitForValue } from './wait-for.js';

describe('waitFor', () => {
  it('resolves as soon as the condition holds, async conditions included', async () => {
    let checks = 0;
    await waitFor(async () => ++checks === 3, 'the third check', { intervalMs: 1 });
    expect(checks).toBe(3);
  });

  it('returns the first defined value of the probe', async () => {
    let n = 0;
    const value = await waitForValue(() => (++n >= 2 ? `value ${n}` : undefined), 'a value', {
      intervalMs: 1,
    });
    expect(value).toBe('value 2');
  });

  it('says what it waited for, and the context, when the deadline passes', async () => {
    await expect(
      waitFor(() => false, 'the moon', {
        timeoutMs: 20,
        intervalMs: 5,
        context: () => 'runner said: nothing',
      }),
    ).rejects.toThrow(/timed out after 20 ms waiting for the moon\nrunner said: nothing/);
  });

  it('gives up at once when stopWhen says so', async () => {
    let checks = 0;
    await expect(
      waitFor(() => ++checks < 0, 'a dead process', { timeoutMs: 60_000, stopWhen: () => checks >= 2 }),
    ).rejects.toThrow('gave up waiting for a dead process');
    expect(checks).toBe(2);
  });
});
