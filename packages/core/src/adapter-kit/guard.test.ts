import { describe, expect, it } from 'vitest';
import { memoryAdapter } from '../adapter/memory-adapter.js';
import { isCrmAdapter } from './guard.js';

describe('isCrmAdapter', () => {
  it('accepts an adapter and rejects look-alikes', () => {
    expect(isCrmAdapter(memoryAdapter())).toBe(true);
    expect(isCrmAdapter(null)).toBe(false);
    expect(isCrmAdapter({ specificationVersion: 'v1', name: 'x', capabilities: {} })).toBe(false);
    expect(
      isCrmAdapter({ specificationVersion: 'v1', capabilities: {}, findContacts() {}, logCall() {} }),
    ).toBe(false);
    expect(
      isCrmAdapter({
        specificationVersion: 'v2',
        name: 'x',
        capabilities: {},
        findContacts() {},
        logCall() {},
      }),
    ).toBe(false);
  });
});
