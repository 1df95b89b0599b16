import type { AdapterErrorKind } from '../../adapter/errors.js';
import {
  type MemoryAdapter,
  type MemoryAdapterOptions,
  memoryAdapter,
} from '../../adapter/memory-adapter.js';
import type { ConformanceHarness, InjectedFault } from '../conformance-types.js';

const KIND_OF_STATUS: Record<InjectedFault['status'], AdapterErrorKind> = {
  400: 'invalid',
  401: 'auth',
  429: 'rate-limit',
  500: 'transient',
  503: 'transient',
};

/**
 * A {@link ConformanceHarness} around {@link memoryAdapter}. The memory adapter has no wire, so
 * injected HTTP statuses become the AdapterError the status maps to, in process. Also a worked
 * example for adapter authors writing a harness around their own fake.
 */
export async function createMemoryAdapterHarness(
  options: MemoryAdapterOptions = {},
): Promise<ConformanceHarness & { readonly adapter: MemoryAdapter }> {
  const adapter = memoryAdapter(options);
  return {
    adapter,
    async seedContact(input) {
      const contact = adapter.addContact({
        name: input.name,
        phone: input.phone,
        ...(input.kind === undefined ? {} : { kind: input.kind }),
        ...(input.lastActivityAt === undefined ? {} : { lastActivityAt: input.lastActivityAt }),
      });
      return { id: contact.id };
    },
    async loggedCalls(callId) {
      return adapter
        .activitiesFor(callId)
        .filter((activity) => activity.type === 'call')
        .map((activity) => ({
          id: activity.id,
          ...(activity.contactId === undefined ? {} : { attachedTo: activity.contactId }),
          ...(activity.direction === undefined ? {} : { direction: activity.direction }),
          ...(activity.durationSeconds === undefined ? {} : { durationSeconds: activity.durationSeconds }),
          text: `${activity.subject}\n${activity.body}`,
        }));
    },
    injectFault(fault) {
      adapter.injectFault({
        kind: KIND_OF_STATUS[fault.status],
        on: fault.on ?? 'any',
        times: fault.times ?? 1,
        status: fault.status,
        ...(fault.retryAfterSeconds === undefined ? {} : { retryAfterMs: fault.retryAfterSeconds * 1000 }),
      });
    },
    async reset() {
      adapter.reset();
    },
    async close() {
      await adapter.close?.();
    },
    secrets: [],
  };
}
