import { describeCrmAdapterConformance } from '@cti-bridge/core/testing/vitest';
import { createConformanceHarness } from './testing/index.js';

// Acme CRM has no contact creation, tasks, queue sessions or batch endpoint: those checks skip
// themselves from the capability flags. Every other check of the suite runs.
describeCrmAdapterConformance({ name: 'acme-crm (example)', setup: () => createConformanceHarness() });
