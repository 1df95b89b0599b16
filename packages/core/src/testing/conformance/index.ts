export {
  ADAPTER_CONFORMANCE_TESTS,
  type AdapterConformanceTestId,
  type CrmAdapterConformanceOptions,
  describeCrmAdapterConformance,
} from './adapter-suite.js';
export { createTestAdapterContext, createTestAdapterState, sampleCallRecord } from './fixtures.js';
export { createMemoryAdapterHarness } from './memory-harness.js';
