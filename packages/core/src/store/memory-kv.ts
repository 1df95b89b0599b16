import type { KeyValueStore } from './types.js';

const kvKey = (namespace: string, key: string) => `${namespace}\u0000${key}`;

/**
 * A {@link KeyValueStore} in memory. An entry past its time to live is gone (dropped when read);
 * `clock` is the wall clock when a call gives no `now`.
 */
export function createMemoryKeyValueStore(clock: () => number): KeyValueStore {
  const kv = new Map<string, { value: string; expiresAt?: number }>();
  return {
    async get(namespace, key, now = clock()) {
      const id = kvKey(namespace, key);
      const entry = kv.get(id);
      if (!entry) return undefined;
      if (entry.expiresAt !== undefined && now >= entry.expiresAt) {
        kv.delete(id);
        return undefined;
      }
      return entry.value;
    },
    async set(namespace, key, value, setOptions) {
      const now = setOptions?.now ?? clock();
      kv.set(
        kvKey(namespace, key),
        setOptions?.ttlMs === undefined ? { value } : { value, expiresAt: now + setOptions.ttlMs },
      );
    },
    async delete(namespace, key) {
      kv.delete(kvKey(namespace, key));
    },
  };
}
