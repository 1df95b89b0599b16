/**
 * Test helpers of the example adapter: the fake Acme CRM and a ConformanceHarness on it, for
 * `describeCrmAdapterConformance` from `@cti-bridge/core/testing/vitest` (and for demos).
 *
 * @packageDocumentation
 */
import type { ConformanceHarness } from '@cti-bridge/core/testing';
import { acmeCrm } from '../index.js';
import { startFakeAcmeCrm } from './fake-acme.js';

export {
  type FakeAcmeCall,
  type FakeAcmeContact,
  type FakeAcmeCrm,
  type FakeAcmeFault,
  startFakeAcmeCrm,
} from './fake-acme.js';

/** Starts the fake Acme CRM and wires an `acmeCrm` adapter to it. */
export async function createConformanceHarness(
  options: { name?: string } = {},
): Promise<ConformanceHarness & { readonly secrets: readonly string[] }> {
  const fake = await startFakeAcmeCrm();
  const adapter = acmeCrm({
    baseUrl: fake.url,
    apiKey: fake.apiKey,
    ...(options.name ? { name: options.name } : {}),
  });
  return {
    adapter,
    secrets: [fake.apiKey],
    async seedContact(input) {
      const contact = fake.addContact({
        name: input.name,
        phone: input.phone,
        kind: input.kind ?? 'person',
        ...(input.lastActivityAt ? { updated_at: input.lastActivityAt.toISOString() } : {}),
      });
      return { id: contact.id };
    },
    async loggedCalls(callId) {
      return fake.calls
        .filter((call) => call.call_id === callId)
        .map((call) => ({
          id: call.id,
          ...(call.contact_id === null ? {} : { attachedTo: call.contact_id }),
          direction: call.direction,
          durationSeconds: call.duration_seconds,
          text: `${call.subject}\n${call.body}`,
        }));
    },
    injectFault(fault) {
      fake.fail({
        status: fault.status,
        on: fault.on ?? 'any',
        times: fault.times ?? 1,
        ...(fault.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: fault.retryAfterSeconds }),
      });
    },
    async reset() {
      fake.reset();
    },
    close: () => fake.close(),
  };
}
