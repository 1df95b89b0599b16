export { createTestAdapterContext, createTestAdapterState, sampleCallRecord } from './fixtures.js';
export { createMemoryAdapterHarness } from './memory-harness.js';
