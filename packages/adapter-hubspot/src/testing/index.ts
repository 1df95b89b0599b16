/**
 * @cti-bridge/adapter-hubspot/testing — a fake HubSpot on 127.0.0.1 that @hubspot/api-client talks
 * to unmodified, and a conformance harness built on it.
 *
 * @packageDocumentation
 */
export {
  type FakeFault,
  type FakeFaultTarget,
  type FakeHubSpot,
  type FakeHubSpotOptions,
  type FakeObjectType,
  type FakeOwner,
  type FakeRecord,
  type RecordedRequest,
  startFakeHubSpot,
} from './fake/server.js';
export { createConformanceHarness, type HubSpotHarness, type HubSpotHarnessOptions } from './harness.js';
