import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPhoneCache, PHONE_CACHE_LIMIT, parsePhoneCached } from './phone-cache.js';
import { parsePhone } from './phone-number.js';

describe('createPhoneCache', () => {
  it('answers what parsePhone answers, frozen, and the same object on a repeat', () => {
    const cache = createPhoneCache();
    for (const raw of ['0033612345678', '+33 6 12 34 56 78', '0612345678', 'anonymous', '', '12', 'x']) {
      const phone = cache.parse(raw, 'FR');
      expect(phone).toEqual(parsePhone(raw, { defaultCountry: 'FR' }));
      expect(Object.isFrozen(phone)).toBe(true);
      expect(cache.parse(raw, 'FR')).toBe(phone);
    }
    expect(cache.parse(null)).toEqual(parsePhone(null));
    expect(cache.parse(undefined)).toBe(cache.parse(''));
  });

  it('keeps one cache per default country', () => {
    const cache = createPhoneCache();
    expect(cache.parse('0470123456', 'BE').e164).toBe('+32470123456');
    expect(cache.parse('0470123456', 'FR').e164).toBe(
      parsePhone('0470123456', { defaultCountry: 'FR' }).e164,
    );
    expect(cache.parse('0470123456', 'BE').e164).toBe('+32470123456');
    expect(cache.parse('0612345678').e164).toBe('+33612345678'); // FR by default
  });

  it('never holds more than its limit per country, however many numbers go through', () => {
    const cache = createPhoneCache(10);
    for (let i = 0; i < 1000; i++) {
      cache.parse(`06${String(10_000_000 + i)}`, 'FR');
      expect(cache.size).toBeLessThanOrEqual(10);
    }
    expect(createPhoneCache().size).toBe(0);
    expect(PHONE_CACHE_LIMIT).toBeGreaterThan(1000);
  });

  it('bounds the number of countries too', () => {
    const cache = createPhoneCache(4);
    for (let i = 0; i < 100; i++) cache.parse('0612345678', `C${i}`);
    expect(cache.size).toBeLessThanOrEqual(16 * 4);
  });

  it('keeps numbers in use and forgets the others first', () => {
    const cache = createPhoneCache(4); // two generations of two
    const a = cache.parse('0611111111');
    const b = cache.parse('0622222222');
    cache.parse('0633333333'); // a and b move to the older generation
    expect(cache.parse('0611111111')).toBe(a); // a is used again: back in the recent one
    cache.parse('0644444444'); // the older generation (b) is dropped
    expect(cache.parse('0611111111')).toBe(a);
    const b2 = cache.parse('0622222222');
    expect(b2).not.toBe(b); // parsed again
    expect(b2).toEqual(b);
  });

  it('clear() forgets everything', () => {
    const cache = createPhoneCache();
    const a = cache.parse('0611111111');
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.parse('0611111111')).not.toBe(a);
  });

  it('property: a small cache always answers like parsePhone', () => {
    const cache = createPhoneCache(6);
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.oneof(
              fc.constantFrom(
                '0611111111',
                '0033622222222',
                '+33 6 33 33 33 33',
                'unknown',
                '',
                '0470123456',
              ),
              fc.string({ maxLength: 14 }),
            ),
            fc.constantFrom('FR', 'BE', 'US'),
          ),
          { maxLength: 40 },
        ),
        (calls) => {
          for (const [raw, country] of calls) {
            expect(cache.parse(raw, country)).toEqual(parsePhone(raw, { defaultCountry: country }));
            expect(cache.size).toBeLessThanOrEqual(3 * 6);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('parsePhoneCached', () => {
  it('is parsePhone through a process-wide cache', () => {
    const phone = parsePhoneCached('0033612345678', 'FR');
    expect(phone).toEqual(parsePhone('0033612345678'));
    expect(parsePhoneCached('0033612345678', 'FR')).toBe(phone);
    expect(parsePhoneCached('0033612345678')).toBe(phone);
  });
});
