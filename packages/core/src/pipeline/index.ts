export {
  createConnector,
  DEFAULT_SETTLE_MS,
  idempotencyKey,
  kvAdapterState,
  tokenTag,
} from './connector.js';
export { DeliveryWorker, type DeliveryWorkerDeps } from './delivery.js';
export {
  type DecodedPayload,
  decodePayload,
  deserializeCallRecord,
  deserializeQueueSession,
  encodePayload,
  type OutboxPayload,
  serializeCallRecord,
  serializeQueueSession,
  type ToCallRecordOptions,
  toCallRecord,
} from './records.js';
export type {
  AdapterPausedEvent,
  Connector,
  ConnectorErrorEvent,
  ConnectorEvents,
  ConnectorOptions,
  ConnectorStats,
  DeadLetterEvent,
  DeliveredEvent,
  DeliveryOptions,
  DeliveryRetryEvent,
  Policies,
  Route,
  RouteAdapter,
  ScreenPop,
} from './types.js';
