/**
 * @cti-bridge/core/testing/vitest — the conformance suites, for vitest test files: the CRM adapter
 * suite and the store suite. This entry imports `vitest` (an optional peer dependency of
 * `@cti-bridge/core`); the fakes, fixtures and scenario builder they run against are in the
 * framework-free `@cti-bridge/core/testing`.
 *
 * @packageDocumentation
 */

export {
  ADAPTER_CONFORMANCE_TESTS,
  type AdapterConformanceTestId,
  type CrmAdapterConformanceOptions,
  describeCrmAdapterConformance,
} from './adapter-suite.js';
export { describeStoreConformance, type StoreConformanceOptions } from './store-suite.js';
