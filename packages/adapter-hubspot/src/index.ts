/**
 * @cti-bridge/adapter-hubspot — HubSpot for cti-bridge, on @hubspot/api-client 13.5: callers found
 * among contacts and companies on ring, calls logged as call engagements exactly once.
 *
 * @packageDocumentation
 */
export { hubspot } from './adapter.js';
export type { HubSpotOptions } from './options.js';
