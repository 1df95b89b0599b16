import { describe, expect, it } from 'vitest';
import { comparePhone, formatPhone, parsePhone, phoneSearchVariants } from './phone-number.js';

describe('parsePhone', () => {
  it.each([
    ['0033612345678', '+33612345678'],
    ['+33 6 12 34 56 78', '+33612345678'],
    ['06.12.34.56.78', '+33612345678'],
    ['0612345678', '+33612345678'],
    ['612345678', '+33612345678'],
    ['0041791234567', '+41791234567'],
  ])('reads %s as %s with FR as default country', (raw, e164) => {
    const phone = parsePhone(raw);
    expect(phone.e164).toBe(e164);
    expect(phone.raw).toBe(raw);
    expect(phone.withheld).toBe(false);
  });

  it('uses the configured default country for national numbers', () => {
    expect(parsePhone('(415) 555-1212', { defaultCountry: 'US' }).e164).toBe('+14155551212');
    expect(parsePhone('020 7946 0018', { defaultCountry: 'GB' }).e164).toBe('+442079460018');
  });

  it.each(['', 'anonymous', 'Unknown', '  '])('marks %j as withheld, without an E.164 form', (raw) => {
    const phone = parsePhone(raw);
    expect(phone.withheld).toBe(true);
    expect(phone.e164).toBeUndefined();
  });

  it('keeps short internal extensions raw, without inventing an E.164 form', () => {
    const phone = parsePhone('12');
    expect(phone.e164).toBeUndefined();
    expect(phone.raw).toBe('12');
    expect(phone.withheld).toBe(false);
  });
});

describe('comparePhone', () => {
  const target = parsePhone('0033612345678');
  it.each(['+33 6 12 34 56 78', '06.12.34.56.78', '0033612345678', '612345678', '+33612345678'])(
    'matches %s exactly',
    (stored) => {
      expect(comparePhone(stored, target)).toBe('exact');
    },
  );
  it('reads a US-formatted number with the target country', () => {
    expect(comparePhone('(415) 555-1212', parsePhone('+14155551212'))).toBe('exact');
  });
  it('reads the (0) trunk notation as the same number', () => {
    expect(comparePhone('+33 (0)6 12 34 56 78', target)).toBe('exact');
  });
  it('reports a suffix match for a number stored under a country code it is not valid in', () => {
    expect(comparePhone('+44 612345678', target)).toBe('suffix');
  });
  it('never matches a valid foreign number that shares the last digits (Belgium, UK)', () => {
    expect(comparePhone('+32 471 23 45 67', parsePhone('+33471234567'))).toBeUndefined();
    expect(comparePhone('0032471234567', parsePhone('0471234567'))).toBeUndefined();
    expect(comparePhone('+44 7912 345678', parsePhone('+33912345678'))).toBeUndefined();
    // the same digits stored without any prefix still read as the French number
    expect(comparePhone('912345678', parsePhone('+33912345678'))).toBe('exact');
  });
  it('rejects other numbers and empty values', () => {
    expect(comparePhone('06 12 34 56 79', target)).toBeUndefined();
    expect(comparePhone('', target)).toBeUndefined();
    expect(comparePhone('5678', target)).toBeUndefined();
    expect(comparePhone('0612345678', parsePhone('anonymous'))).toBeUndefined();
  });
});

describe('phoneSearchVariants', () => {
  it('lists the usual spellings of a number', () => {
    const variants = phoneSearchVariants(parsePhone('+33612345678'));
    expect(variants).toEqual(
      expect.arrayContaining([
        '+33612345678',
        '0033612345678',
        '33612345678',
        '0612345678',
        '612345678',
        '06 12 34 56 78',
        '+33 6 12 34 56 78',
      ]),
    );
  });
  it('has nothing to search for a withheld number', () => {
    expect(phoneSearchVariants(parsePhone('anonymous'))).toEqual([]);
  });
});

describe('formatPhone', () => {
  it('formats for people', () => {
    expect(formatPhone(parsePhone('0033612345678'))).toBe('+33 6 12 34 56 78');
    expect(formatPhone(parsePhone(''))).toBe('withheld number');
  });
});
