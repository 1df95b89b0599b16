import type { AdapterContext, AdapterState, Logger, Store } from '@cti-bridge/core';

/** Adapter state backed by the store's kv, in the adapter's namespace. */
export function storeAdapterState(store: Store, namespace: string): AdapterState {
  return {
    get: (key) => store.kv.get(`adapter:${namespace}`, key),
    set: (key, value, options) =>
      store.kv.set(
        `adapter:${namespace}`,
        key,
        value,
        options?.ttlMs === undefined ? undefined : { ttlMs: options.ttlMs },
      ),
    delete: (key) => store.kv.delete(`adapter:${namespace}`, key),
  };
}

/** An AdapterContext for one-off calls (check, …). */
export function adapterContext(
  store: Store,
  name: string,
  logger: Logger,
  signal?: AbortSignal,
): AdapterContext {
  return {
    logger: logger.child({ adapter: name }),
    state: storeAdapterState(store, name),
    ...(signal === undefined ? {} : { signal }),
  };
}
