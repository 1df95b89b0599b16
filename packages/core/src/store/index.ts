export { createMemoryStore, type MemoryStoreOptions } from './memory-store.js';
export type {
  CursorStore,
  KeyValueStore,
  NewOutboxEntry,
  OutboxEntry,
  OutboxFilter,
  OutboxKind,
  OutboxStatus,
  OutboxStore,
  SnapshotStore,
  Store,
} from './types.js';
