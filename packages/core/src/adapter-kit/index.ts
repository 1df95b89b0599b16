/**
 * `@cti-bridge/core/adapter`: the toolkit for writing a CRM adapter. Light on purpose: no OVH
 * client, no test runner — only the contract types, the error type and the shared rules
 * (HTTP failure classification, secret redaction, token masking, durations, option parsing).
 *
 * @packageDocumentation
 */
/** The adapter contract: `CrmAdapter`, `CallRecord`, `AdapterContext`, … */
export type * from '../adapter/contract.js';
/** `AdapterError`, its kinds and options, `isAdapterError`, `toAdapterError`, `parseRetryAfter`. */
export * from '../adapter/errors.js';
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
