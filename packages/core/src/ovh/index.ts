/** Re-exported from the adapter toolkit (`@cti-bridge/core/adapter`), where the one masking rule lives. */
export { maskToken } from '../adapter-kit/redact.js';
export {
  createOvhApiClient,
  type EventTokenExpiration,
  type EventTokenTarget,
  OVH_API_ENDPOINTS,
  type OvhApiClient,
  type OvhApiClientOptions,
  type OvhApiEndpoint,
  OvhApiError,
  type OvhApiErrorKind,
  ovhJsonBody,
  signOvhRequest,
} from './api-client.js';
export { createDeduplicator, type Deduplicator, dedupeKey } from './dedupe.js';
export {
  type BackoffOptions,
  backoffDelay,
  createEventStream,
  type EventInbox,
  type EventStream,
  type EventStreamEvents,
  type EventStreamOptions,
  type InvalidEventReport,
  type PollErrorReport,
  type SilentTokenReport,
  type TokenStats,
} from './event-stream.js';
export { InboxLedger } from './inbox-ledger.js';
export {
  agentNumberOf,
  type NormalizeOptions,
  type NormalizeResult,
  normalizeEvent,
  normalizeEventName,
  parseOvhDate,
  parsePhoneCached,
  secondsToMs,
  toNanoseconds,
} from './normalize.js';
export { createStoreInbox, type StoreInbox } from './store-inbox.js';
export type {
  LineEventName,
  OvhEvent,
  OvhEventBase,
  OvhLineDetails,
  OvhLineEvent,
  OvhQueueEvent,
  OvhUnknownEvent,
  QueueEventName,
  RawOvhEvent,
} from './types.js';
export {
  fitsSpec,
  fitsWireEvent,
  isRawEvent,
  type OvhEnvelope,
  type ParseEnvelopeResult,
  parseEnvelope,
  quoteBigTimestamps,
  WIRE_DETAILS_SPEC,
  WIRE_EVENT_SPEC,
  WIRE_LINE_DATA_SPEC,
  WIRE_QUEUE_DATA_SPEC,
  type WireEvent,
  type WireLineData,
  type WireQueueData,
  wireDetailsSchema,
  wireEnvelopeSchema,
  wireEventSchema,
  wireLineDataSchema,
  wireQueueDataSchema,
} from './wire.js';
