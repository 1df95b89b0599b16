import { createMemoryAdapterHarness } from '@cti-bridge/core/testing';
import type { ConformanceHarnessLike } from './harness-types.js';

export type { ConformanceHarnessLike } from './harness-types.js';

/** The CRMs the demo knows. */
export const DEMO_CRMS = ['salesforce', 'hubspot', 'odoo'] as const;

/** A CRM of the demo. */
export type DemoCrmName = (typeof DEMO_CRMS)[number];

/** A CRM of the demo: a fake on 127.0.0.1 (or the in-memory fallback) and its adapter. */
export interface DemoCrm {
  readonly name: DemoCrmName;
  readonly label: string;
  /** `fake` when the adapter package's bundled fake is used, `memory` for the fallback. */
  readonly backend: 'fake' | 'memory';
  readonly harness: ConformanceHarnessLike;
}

/** A CRM left out of the demo because its adapter package is not installed. */
export interface SkippedCrm {
  readonly name: DemoCrmName;
  readonly label: string;
  /** The package to install to have it. */
  readonly pkg: string;
}

export const CRM_LABELS: Record<DemoCrmName, string> = {
  salesforce: 'Salesforce',
  hubspot: 'HubSpot',
  odoo: 'Odoo',
};

/** The npm package of a CRM's adapter. */
export const adapterPackage = (name: DemoCrmName): string => `@cti-bridge/adapter-${name}`;

/** Imports a module by specifier (injectable: tests simulate packages that are not installed). */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

const nativeImport: ModuleImporter = (specifier) => import(specifier);

/** An in-memory stand-in for a CRM whose package has no usable fake (core's memoryAdapter harness). */
export function memoryHarness(name: string): Promise<ConformanceHarnessLike> {
  return createMemoryAdapterHarness({ name, baseUrl: `https://${name}.demo.invalid` });
}

type HarnessFactory = (options?: Record<string, unknown>) => Promise<ConformanceHarnessLike>;

/** True when `error` says that this very package (not one of its dependencies) is not installed. */
function isNotInstalled(error: unknown, pkg: string): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    (message.includes(`'${pkg}'`) || message.includes(`'${pkg}/`))
  );
}

type Bundled =
  | { readonly kind: 'fake'; readonly harness: ConformanceHarnessLike }
  | { readonly kind: 'no-fake' }
  | { readonly kind: 'not-installed' };

/** Loads the bundled fake of an adapter package, when that package is installed and exports one. */
async function bundledHarness(name: DemoCrmName, importer: ModuleImporter): Promise<Bundled> {
  const pkg = adapterPackage(name);
  let module: { createConformanceHarness?: HarnessFactory };
  try {
    module = (await importer(`${pkg}/testing`)) as typeof module;
  } catch (error) {
    return isNotInstalled(error, pkg) ? { kind: 'not-installed' } : { kind: 'no-fake' };
  }
  try {
    if (typeof module.createConformanceHarness !== 'function') return { kind: 'no-fake' };
    const harness = await module.createConformanceHarness();
    if (harness?.adapter?.specificationVersion !== 'v1') return { kind: 'no-fake' };
    return { kind: 'fake', harness };
  } catch {
    return { kind: 'no-fake' };
  }
}

/** Options of {@link startDemoCrms}. */
export interface StartDemoCrmsOptions {
  /** Use the in-memory stand-ins even when the adapter packages bundle fakes (tests). */
  readonly forceMemory?: boolean;
  /** How adapter packages are imported (default: `import()`). */
  readonly importer?: ModuleImporter;
}

/**
 * Starts the CRMs of the demo whose adapter package is installed: its bundled fake when it exports
 * `createConformanceHarness`, else an in-memory stand-in. A CRM whose adapter package is not
 * installed is skipped (returned in `skipped`, with the package to install). When none is
 * installed, the three CRMs are in-memory stand-ins, so that the demo still shows the pipeline.
 */
export async function startDemoCrms(
  options: StartDemoCrmsOptions = {},
): Promise<{ crms: DemoCrm[]; skipped: SkippedCrm[] }> {
  const importer = options.importer ?? nativeImport;
  const crms: DemoCrm[] = [];
  const skipped: SkippedCrm[] = [];
  for (const name of DEMO_CRMS) {
    const label = CRM_LABELS[name];
    if (options.forceMemory === true) {
      crms.push({ name, label, backend: 'memory', harness: await memoryHarness(name) });
      continue;
    }
    const bundled = await bundledHarness(name, importer);
    if (bundled.kind === 'not-installed') skipped.push({ name, label, pkg: adapterPackage(name) });
    else if (bundled.kind === 'fake') crms.push({ name, label, backend: 'fake', harness: bundled.harness });
    else crms.push({ name, label, backend: 'memory', harness: await memoryHarness(name) });
  }
  if (crms.length === 0) {
    for (const name of DEMO_CRMS)
      crms.push({ name, label: CRM_LABELS[name], backend: 'memory', harness: await memoryHarness(name) });
  }
  return { crms, skipped };
}
