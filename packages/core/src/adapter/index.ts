export type {
  ActivityRef,
  AdapterCallPurpose,
  AdapterCapabilities,
  AdapterContext,
  AdapterState,
  BatchItemResult,
  CallRecord,
  CheckContext,
  ContactMatch,
  CreateContactInput,
  CrmAdapter,
  FindContactsQuery,
  HealthReport,
  LogCallContext,
  LogCallItem,
} from './contract.js';
export {
  AdapterError,
  type AdapterErrorKind,
  type AdapterErrorOptions,
  isAdapterError,
  parseRetryAfter,
  toAdapterError,
} from './errors.js';
export {
  type MemoryActivity,
  type MemoryAdapter,
  type MemoryAdapterOptions,
  type MemoryContact,
  type MemoryContactInput,
  type MemoryFault,
  type MemoryOperation,
  memoryAdapter,
} from './memory-adapter.js';
export { type MatchCandidate, type RankOptions, rankMatches } from './rank.js';
