import { type AdapterErrorKind, type ConformanceHarnessLike, memoryAdapter } from './harness-types.js';

export type { ConformanceHarnessLike } from './harness-types.js';

/** A CRM of the demo: a fake on 127.0.0.1 (or the in-memory fallback) and its adapter. */
export interface DemoCrm {
  readonly name: 'salesforce' | 'hubspot' | 'odoo';
  readonly label: string;
  /** `fake` when the adapter package's bundled fake is used, `memory` for the fallback. */
  readonly backend: 'fake' | 'memory';
  readonly harness: ConformanceHarnessLike;
}

const LABELS = { salesforce: 'Salesforce', hubspot: 'HubSpot', odoo: 'Odoo' } as const;

const STATUS_KIND: Record<number, AdapterErrorKind> = {
  400: 'invalid',
  401: 'auth',
  429: 'rate-limit',
  500: 'transient',
  503: 'transient',
};

/** A ConformanceHarness on {@link memoryAdapter}, for a CRM whose package has no usable fake yet. */
export function memoryHarness(name: string): ConformanceHarnessLike {
  const adapter = memoryAdapter({ name, baseUrl: `https://${name}.demo.invalid` });
  return {
    adapter,
    async seedContact(input) {
      const contact = adapter.addContact({
        name: input.name,
        phone: input.phone,
        ...(input.kind === undefined ? {} : { kind: input.kind }),
      });
      return { id: contact.id };
    },
    async loggedCalls(callId) {
      return adapter
        .activitiesFor(callId)
        .filter((activity) => activity.type === 'call')
        .map((activity) => ({ id: activity.id, text: `${activity.subject}\n${activity.body}` }));
    },
    injectFault(fault) {
      adapter.injectFault({
        kind: STATUS_KIND[fault.status] ?? 'transient',
        on: fault.on ?? 'any',
        times: fault.times ?? 1,
        status: fault.status,
        ...(fault.retryAfterSeconds === undefined ? {} : { retryAfterMs: fault.retryAfterSeconds * 1000 }),
      });
    },
    async reset() {
      adapter.reset();
    },
    async close() {},
  };
}

type HarnessFactory = (options?: Record<string, unknown>) => Promise<ConformanceHarnessLike>;

/** Loads the bundled fake of an adapter package, when that package exports a usable one. */
async function bundledHarness(name: DemoCrm['name']): Promise<ConformanceHarnessLike | undefined> {
  const specifier = `@cti-bridge/adapter-${name}/testing`;
  try {
    const module = (await import(specifier)) as { createConformanceHarness?: HarnessFactory };
    if (typeof module.createConformanceHarness !== 'function') return undefined;
    const harness = await module.createConformanceHarness();
    if (harness?.adapter?.specificationVersion !== 'v1') return undefined;
    return harness;
  } catch {
    return undefined;
  }
}

/**
 * Starts the three CRMs of the demo: each adapter package's bundled fake when it exports
 * `createConformanceHarness`, else an in-memory stand-in (said so in the demo's output).
 */
export async function startDemoCrms(options: { readonly forceMemory?: boolean } = {}): Promise<DemoCrm[]> {
  const crms: DemoCrm[] = [];
  for (const name of ['salesforce', 'hubspot', 'odoo'] as const) {
    const bundled = options.forceMemory === true ? undefined : await bundledHarness(name);
    crms.push({
      name,
      label: LABELS[name],
      backend: bundled === undefined ? 'memory' : 'fake',
      harness: bundled ?? memoryHarness(name),
    });
  }
  return crms;
}
