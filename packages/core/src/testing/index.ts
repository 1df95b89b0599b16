/**
 * @cti-bridge/core/testing — fakes and suites for tests: the fake OVH events server and API, the
 * scenario builder, and the CRM adapter conformance suite.
 *
 * @packageDocumentation
 */
export type {
  ConformanceHarness,
  InjectedFault,
  LoggedCallView,
  SeedContactInput,
} from './conformance-types.js';
