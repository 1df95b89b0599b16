import { describeCrmAdapterConformance } from '@cti-bridge/core/testing/vitest';
import { createConformanceHarness } from './testing/index.js';

// The shared CrmAdapter suite, through the real @hubspot/api-client against the fake HubSpot.
describeCrmAdapterConformance({
  name: 'hubspot',
  setup: () => createConformanceHarness(),
});
