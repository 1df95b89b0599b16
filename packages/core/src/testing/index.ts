/**
 * @cti-bridge/core/testing — fakes and suites for tests: the fake OVH events server and API, the
 * scenario builder, and the CRM adapter conformance suite.
 *
 * @packageDocumentation
 */

export * from './conformance/index.js';
export type {
  ConformanceHarness,
  InjectedFault,
  LoggedCallView,
  SeedContactInput,
} from './conformance-types.js';
export * from './ovh/index.js';
export * from './scenario/index.js';
export { describeStoreConformance, type StoreConformanceOptions } from './store-conformance/index.js';
