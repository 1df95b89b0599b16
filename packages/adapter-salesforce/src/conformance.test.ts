import { describeCrmAdapterConformance } from '@cti-bridge/core/testing/vitest';
import { createConformanceHarness } from './testing/index.js';

// Upsert on an External ID field (Call_Id__c): one request per logged call.
describeCrmAdapterConformance({
  name: 'salesforce (External ID upsert)',
  setup: () => createConformanceHarness({ externalIdField: 'Call_Id__c' }),
});

// No External ID field in the org: a SOQL query on CallObject runs before each insert.
describeCrmAdapterConformance({
  name: 'salesforce (query on CallObject)',
  setup: () => createConformanceHarness({ externalIdField: null }),
});
