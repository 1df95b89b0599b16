/**
 * @cti-bridge/core/testing — framework-free fakes for tests and demos: the fake OVH events server
 * and API, the scenario builder, adapter fixtures, the in-memory adapter harness, `waitFor` (waiting on real timers with a deadline), and the plumbing
 * every fake server shares (listen / close, request log, fault queue, latency). Nothing here
 * imports a test framework, and no module has top-level await: the entry loads in any program, and
 * through `require()` from CommonJS. The vitest suites are in `@cti-bridge/core/testing/vitest`.
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
export * from './fake-server/index.js';
export * from './ovh/index.js';
export * from './scenario/index.js';
export * from './wait/index.js';
