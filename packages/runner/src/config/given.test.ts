import { describe, expect, it } from 'vitest';
import { givenSettings } from './given.js';

describe('givenSettings', () => {
  it('drops the keys left undefined and keeps every other value (null, 0, false)', () => {
    const given = givenSettings({ maxAttempts: undefined, baseDelayMs: 0, lookup: false, label: null });
    expect(Object.keys(given)).toEqual(['baseDelayMs', 'lookup', 'label']);
    expect({ maxAttempts: 8, ...given }).toEqual({
      maxAttempts: 8,
      baseDelayMs: 0,
      lookup: false,
      label: null,
    });
  });
});
