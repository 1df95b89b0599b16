import type { CrmAdapter, Logger, Store } from '@cti-bridge/core';
import type { CtiConfig } from './config/schema.js';

/**
 * Turns the config's adapter entries into adapters: instances are used as they are, factory
 * functions are called with the logger and store (dependency injection for adapter packages).
 */
export async function buildAdapters(
  config: CtiConfig,
  deps: { readonly logger: Logger; readonly store: Store },
): Promise<Map<string, CrmAdapter>> {
  const adapters = new Map<string, CrmAdapter>();
  for (const [name, entry] of Object.entries(config.adapters)) {
    if (typeof entry === 'function') {
      const adapter = await entry({ logger: deps.logger.child({ adapter: name }), store: deps.store, name });
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
