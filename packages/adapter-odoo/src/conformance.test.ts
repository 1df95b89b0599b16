import { describeCrmAdapterConformance } from '@cti-bridge/core/testing/vitest';
import { createConformanceHarness } from './testing/index.js';

// The shared CrmAdapter suite, against the fake Odoo, through odoo-await (no mock of the library).
describeCrmAdapterConformance({ name: 'odoo', setup: () => createConformanceHarness() });

// The same suite on an Odoo without phone_validation and without res.partner.mobile (18.2+):
// lookups fall back to text search on `phone`.
describeCrmAdapterConformance({
  name: 'odoo (18.2+, no phone_mobile_search)',
  setup: () => createConformanceHarness({ fake: { phoneMobileSearch: false, mobileField: false } }),
});

// The README's setup: a bridge user without administration rights (no ir.model, no ir.model.data).
describeCrmAdapterConformance({
  name: 'odoo (internal bridge user, no administration rights)',
  setup: () => createConformanceHarness({ fake: { apiUser: 'internal' } }),
});
