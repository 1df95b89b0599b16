import type { CrmAdapter } from '@cti-bridge/core';
import type { AdapterFactoryContext } from './adapter-factory-context.js';
import type { CtiConfig } from './config/schema.js';

/**
 * Turns the config's adapter entries into adapters: instances are used as they are, factory
 * functions are called with their {@link AdapterFactoryContext} (dependency injection for adapter
 * packages; `contextOf` resolves it from the runner's container).
 */
export async function buildAdapters(
  config: CtiConfig,
  contextOf: (name: string) => AdapterFactoryContext,
): Promise<Map<string, CrmAdapter>> {
  const adapters = new Map<string, CrmAdapter>();
  for (const [name, entry] of Object.entries(config.adapters)) {
    if (typeof entry === 'function') {
      const adapter = await entry(contextOf(name));
      if (adapter === null || typeof adapter !== 'object' || adapter.specificationVersion !== 'v1') {
        throw new Error(`adapters.${name}: the factory function did not return a CrmAdapter v1`);
      }
      adapters.set(name, adapter);
    } else {
      adapters.set(name, entry);
    }
  }
  return adapters;
}
