import { describe, expect, it } from 'vitest';
import { scenarioNumbers } from './numbers.js';

describe('scenarioNumbers', () => {
  const fr = scenarioNumbers('FR');

  it('writes numbers the OVH way whatever the notation given', () => {
    expect(fr.ovh('06 12 34 56 78')).toBe('0033612345678');
    expect(fr.ovh('+33612345678')).toBe('0033612345678');
    expect(fr.e164('0612345678')).toBe('+33612345678');
    expect(fr.ovh('not a number')).toBe('not a number');
  });

  it('national notation for French numbers only; a stable line id per number', () => {
    expect(fr.national('+33612345678')).toBe('0612345678');
    expect(fr.national('+32470123456')).toBe('+32470123456');
    expect(fr.lineId('0972123456')).toBe('885687');
    expect(fr.lineId('+33972123456')).toBe(fr.lineId('0972123456'));
  });

  it('reads national numbers in the default country', () => {
    expect(scenarioNumbers('BE').e164('0470123456')).toBe('+32470123456');
  });
});
