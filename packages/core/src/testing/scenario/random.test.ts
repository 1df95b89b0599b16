import { describe, expect, it } from 'vitest';
import { alnum, hex, newCallId, newUuid, prng } from './random.js';

describe('scenario randomness', () => {
  it('prng is deterministic per seed, in [0, 1), and seed 0 behaves as seed 1', () => {
    const a = prng(7);
    const b = prng(7);
    const values = Array.from({ length: 100 }, () => a());
    expect(values).toEqual(Array.from({ length: 100 }, () => b()));
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(prng(0)()).toBe(prng(1)());
    expect(prng(8)()).not.toBe(prng(7)());
  });

  it('draws OVH-looking CallIds and v4 uuids (pinned for seed 1)', () => {
    const random = prng(1);
    expect(newCallId(random)).toBe('was98-kw-zp9qrfo-ifrco1k_sip4.ovh.fr');
    expect(newUuid(random)).toBe('3069c43a-8c3b-47cf-8c25-632b92409d3f');
    expect(alnum(random, 12)).toMatch(/^[a-z0-9]{12}$/);
    expect(hex(random, 12)).toMatch(/^[0-9a-f]{12}$/);
  });
});
