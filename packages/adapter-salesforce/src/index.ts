/**
 * @cti-bridge/adapter-salesforce — caller lookup and idempotent call logging in Salesforce, on
 * jsforce. The fake Salesforce for tests is in `@cti-bridge/adapter-salesforce/testing`.
 *
 * @packageDocumentation
 */
export { salesforce } from './adapter.js';
export type { SalesforceAuthOptions, SalesforceOptions } from './options.js';
