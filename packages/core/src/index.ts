/**
 * @cti-bridge/core — the engine of cti-bridge: the OVH CTI event stream client, the call tracker,
 * the CRM adapter contract and the delivery pipeline. Usable as a library with no runner.
 *
 * @packageDocumentation
 */
export * from './adapter/index.js';
export * from './calls/index.js';
export * from './config/index.js';
export * from './healing/index.js';
export { consoleLogger, type Logger, silentLogger } from './logger.js';
export * from './ovh/index.js';
export * from './phone/index.js';
export * from './pipeline/index.js';
export * from './store/index.js';
