import type { ConformanceHarness, InjectedFault, SeedContactInput } from '@cti-bridge/core/testing';
import { hubspot } from '../adapter.js';
import type { HubSpotOptions } from '../options.js';
import { type FakeHubSpot, type FakeHubSpotOptions, startFakeHubSpot } from './fake/server.js';

/** Options of {@link createConformanceHarness}. */
export interface HubSpotHarnessOptions {
  /** Options of the fake HubSpot. */
  readonly fake?: FakeHubSpotOptions;
  /** Adapter options on top of the harness defaults (token, basePath and portal of the fake). */
  readonly adapter?: Partial<HubSpotOptions>;
}

/** A conformance harness on the fake HubSpot, with the fake itself for extra assertions. */
export interface HubSpotHarness extends ConformanceHarness {
  readonly fake: FakeHubSpot;
}

function toMs(date: Date | undefined): Record<string, string> {
  return date ? { notes_last_updated: date.toISOString() } : {};
}

function plainText(html: string | undefined): string {
  return (html ?? '')
    .replace(/<\/p>/g, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

/** Seeds a contact (or a company) in the fake, indexed for search at once. */
function seedContact(fake: FakeHubSpot, input: SeedContactInput): { id: string } {
  if (input.kind === 'company') {
    const record = fake.seed(
      'companies',
      { name: input.name, phone: input.phone, ...toMs(input.lastActivityAt) },
      { indexed: true },
    );
    return { id: record.id };
  }
  const [firstname, ...rest] = input.name.trim().split(/\s+/);
  const record = fake.seed(
    'contacts',
    {
      firstname: firstname ?? input.name,
      ...(rest.length > 0 ? { lastname: rest.join(' ') } : {}),
      phone: input.phone,
      ...toMs(input.lastActivityAt),
    },
    { indexed: true },
  );
  return { id: record.id };
}

/** The call engagements the fake holds for an OVH call id, as the conformance suite reads them. */
function loggedCalls(fake: FakeHubSpot, callId: string) {
  return fake
    .records('calls')
    .filter((record) => record.properties.hs_call_external_id === callId)
    .map((record) => {
      const duration = Number(record.properties.hs_call_duration);
      const attached = record.associations[0]?.toId;
      return {
        id: record.id,
        ...(attached ? { attachedTo: attached } : {}),
        ...(record.properties.hs_call_direction ? { direction: record.properties.hs_call_direction } : {}),
        ...(Number.isFinite(duration) ? { durationSeconds: Math.round(duration / 1000) } : {}),
        text: `${record.properties.hs_call_title ?? ''}\n${plainText(record.properties.hs_call_body)}`,
      };
    });
}

/**
 * Starts a fake HubSpot and a `hubspot()` adapter wired to it through the real
 * `@hubspot/api-client`, as the `ConformanceHarness` that `describeCrmAdapterConformance` takes.
 * Also usable for demos: seed contacts, then watch calls land in `harness.fake.records('calls')`.
 */
export async function createConformanceHarness(options: HubSpotHarnessOptions = {}): Promise<HubSpotHarness> {
  const fake = await startFakeHubSpot(options.fake);
  const adapterOptions: HubSpotOptions = {
    accessToken: fake.accessToken,
    basePath: fake.url,
    portalId: fake.portalId,
    batch: { windowMs: 0 },
    ...options.adapter,
  };
  let adapter = hubspot(adapterOptions);
  return {
    /** The adapter under test; {@link ConformanceHarness.reset} replaces it with a fresh one. */
    get adapter() {
      return adapter;
    },
    fake,
    secrets: [fake.accessToken],
    async seedContact(input: SeedContactInput) {
      return seedContact(fake, input);
    },
    async loggedCalls(callId: string) {
      return loggedCalls(fake, callId);
    },
    injectFault(fault: InjectedFault) {
      fake.inject({
        status: fault.status,
        on: fault.on === 'lookup' ? 'search' : fault.on === 'write' ? 'write' : 'any',
        times: fault.times,
        retryAfterSeconds: fault.retryAfterSeconds,
      });
    },
    async reset() {
      fake.reset();
      // a fresh adapter: its rate limiter and caches (owners, companies) start empty, as the fake's
      // counters and records do (state kept between calls lives in the context's AdapterState)
      await adapter.close?.();
      adapter = hubspot(adapterOptions);
    },
    async settle() {
      // HubSpot's search index lags behind writes (the fake's too, by default)
      fake.flushIndex();
    },
    async close() {
      await adapter.close?.();
      await fake.close();
    },
  };
}
