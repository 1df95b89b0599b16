import { describe, expect, it } from 'vitest';
import { createMemoryAdapterHarness } from '../conformance/memory-harness.js';
import {
  ADAPTER_CONFORMANCE_TESTS,
  type AdapterConformanceTestId,
  type CrmAdapterConformanceOptions,
  describeCrmAdapterConformance,
} from './adapter-suite.js';

describe('describeCrmAdapterConformance skip ids', () => {
  it('are typed: a misspelt id does not compile', () => {
    const ok: CrmAdapterConformanceOptions = {
      name: 'typed',
      setup: () => createMemoryAdapterHarness(),
      skip: ['lookup.recency', 'errors.rate-limit'],
    };
    const typo: CrmAdapterConformanceOptions = {
      name: 'typo',
      setup: () => createMemoryAdapterHarness(),
      // @ts-expect-error 'lookup.recent' is not a check id (lookup.recency is)
      skip: ['lookup.recent'],
    };
    const id: AdapterConformanceTestId = ADAPTER_CONFORMANCE_TESTS[0];
    expect([ok.skip, typo.skip, id]).toEqual([
      ['lookup.recency', 'errors.rate-limit'],
      ['lookup.recent'],
      'contract.shape',
    ]);
  });

  it('an id that names no check throws when the suite is declared (JavaScript callers, casts)', () => {
    expect(() =>
      describeCrmAdapterConformance({
        name: 'typo',
        setup: () => createMemoryAdapterHarness(),
        skip: ['lookup.recent', 'check.ok'] as unknown as AdapterConformanceTestId[],
      }),
    ).toThrow(/skip names no check: lookup\.recent \(/);
  });

  it('ids are unique', () => {
    expect(new Set(ADAPTER_CONFORMANCE_TESTS).size).toBe(ADAPTER_CONFORMANCE_TESTS.length);
  });
});

// A skipped check is declared skipped: this suite runs on the memory adapter with two checks off.
describeCrmAdapterConformance({
  name: 'memoryAdapter, lookup.recency and check.ok skipped',
  setup: () => createMemoryAdapterHarness(),
  skip: ['lookup.recency', 'check.ok'],
});
