/**
 * @cti-bridge/adapter-salesforce/testing — a fake Salesforce on 127.0.0.1 that jsforce talks to
 * unmodified, and a conformance harness built on it.
 *
 * @packageDocumentation
 */
export {
  type FakeRequestFamily,
  type FakeSalesforce,
  type FakeSalesforceFault,
  type FakeSalesforceOptions,
  type RecordedRequest,
  startFakeSalesforce,
} from './fake/server.js';
export {
  createConformanceHarness,
  type SalesforceConformanceHarness,
  type SalesforceHarnessOptions,
} from './harness.js';
