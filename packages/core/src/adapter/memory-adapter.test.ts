import { describe, expect, it } from 'vitest';
import { parsePhone } from '../phone/index.js';
import { createTestAdapterContext, sampleCallRecord } from '../testing/conformance/fixtures.js';
import { createMemoryAdapterHarness } from '../testing/conformance/memory-harness.js';
import { describeCrmAdapterConformance } from '../testing/vitest/adapter-suite.js';
import { isAdapterError } from './errors.js';
import { memoryAdapter } from './memory-adapter.js';

describeCrmAdapterConformance({ name: 'memoryAdapter', setup: () => createMemoryAdapterHarness() });

describe('memoryAdapter', () => {
  const ctx = createTestAdapterContext();

  it('fails the scripted number of operations with the scripted kind, then recovers', async () => {
    const adapter = memoryAdapter();
    adapter.failNext('rate-limit', 2, { on: 'write', retryAfterMs: 1500 });
    const call = sampleCallRecord();
    for (let i = 0; i < 2; i++) {
      const error = await adapter.logCall(call, { ...ctx, idempotencyKey: 'k' }).catch((e: unknown) => e);
      expect(isAdapterError(error) && error.kind).toBe('rate-limit');
      expect(isAdapterError(error) && error.retryAfterMs).toBe(1500);
    }
    // Lookups are not affected by a write fault.
    await expect(adapter.findContacts({ phone: parsePhone('+33612345678') }, ctx)).resolves.toEqual([]);
    await expect(adapter.logCall(call, { ...ctx, idempotencyKey: 'k' })).resolves.toMatchObject({
      created: true,
    });
    expect(adapter.activities).toHaveLength(1);
  });

  it('wraps whatever beforeOperation throws as a transient AdapterError', async () => {
    const adapter = memoryAdapter({
      beforeOperation: (operation) => {
        if (operation === 'lookup') throw new Error('socket hang up');
      },
    });
    const error = await adapter
      .findContacts({ phone: parsePhone('0612345678') }, ctx)
      .catch((e: unknown) => e);
    expect(isAdapterError(error) && error.kind).toBe('transient');
    expect(adapter.operations).toEqual([{ operation: 'lookup' }]);
  });

  it('writes the owner, the match and a missed-call wording', async () => {
    const adapter = memoryAdapter({ contacts: [{ name: 'Alice', phone: '06 12 34 56 78', id: 'alice' }] });
    const [match] = await adapter.findContacts({ phone: parsePhone('0033612345678') }, ctx);
    await adapter.logCall(sampleCallRecord({ outcome: 'missed', callId: 'm1' }), {
      ...ctx,
      idempotencyKey: 'memory:m1',
      match,
      ownerId: 'user-7',
    });
    const [activity] = adapter.activitiesFor('m1');
    expect(activity).toMatchObject({
      contactId: 'alice',
      ownerId: 'user-7',
      outcome: 'missed',
      durationSeconds: 0,
    });
    expect(activity?.subject).toMatch(/^Missed inbound call from \+33 6 12 34 56 78$/);
  });
});
