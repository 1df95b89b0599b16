/**
 * `@cti-bridge/core/adapter`: the toolkit for writing a CRM adapter. Light on purpose: no OVH
 * client, no test runner — only the contract types, the error type and the shared rules
 * (HTTP failure classification, secret redaction, token masking, durations, option parsing).
 *
 * @packageDocumentation
 */
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
} from '../adapter/contract.js';
export {
  AdapterError,
  type AdapterErrorKind,
  type AdapterErrorOptions,
  isAdapterError,
  parseRetryAfter,
  toAdapterError,
} from '../adapter/errors.js';
export { type CallSummaryInput, formatCallSummary, formatDuration } from './duration.js';
export { isCrmAdapter } from './guard.js';
export {
  classifyHttpFailure,
  classifyNetworkError,
  type HttpFailure,
  type HttpFailureClass,
  networkErrorCode,
  TRANSIENT_NETWORK_CODES,
} from './network.js';
export { parseAdapterOptions } from './options.js';
export { MIN_SECRET_LENGTH, maskToken, REDACTED, type RedactOptions, redactSecrets } from './redact.js';
