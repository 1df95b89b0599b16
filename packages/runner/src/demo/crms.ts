import { createMemoryAdapterHarness } from '@cti-bridge/core/testing';
import type { ConformanceHarnessLike } from './harness-types.js';

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

/** An in-memory stand-in for a CRM whose package has no usable fake (core's memoryAdapter harness). */
export function memoryHarness(name: string): Promise<ConformanceHarnessLike> {
  return createMemoryAdapterHarness({ name, baseUrl: `https://${name}.demo.invalid` });
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
      harness: bundled ?? (await memoryHarness(name)),
    });
  }
  return crms;
}
