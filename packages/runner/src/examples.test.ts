import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config/load.js';

const dir = fileURLToPath(new URL('../../../examples/configs/', import.meta.url));
const files = readdirSync(dir).filter((name) => name.endsWith('.cti.config.ts'));

// Values for the env() calls of the examples; nothing connects anywhere while a config loads.
const ENV: Record<string, string> = {
  OVH_EVENT_TOKEN: 'EXAMPLE0-0000-4000-8000-000000000001',
  OVH_SALES_TOKEN: 'EXAMPLE0-0000-4000-8000-000000000002',
  OVH_SUPPORT_TOKEN: 'EXAMPLE0-0000-4000-8000-000000000003',
  HUBSPOT_ACCESS_TOKEN: 'pat-eu1-00000000-0000-0000-0000-000000000000',
  HUBSPOT_PORTAL_ID: '1234567',
  SALESFORCE_CLIENT_ID: 'example-client-id',
  SALESFORCE_CLIENT_SECRET: 'example-client-secret',
  SALESFORCE_REFRESH_TOKEN: 'example-refresh-token',
  SALESFORCE_INSTANCE_URL: 'https://acme.my.salesforce.com',
  ODOO_API_KEY: 'example-odoo-api-key',
  REDIS_URL: 'redis://127.0.0.1:6379',
  ACME_OVH_TOKEN: 'EXAMPLE0-0000-4000-8000-00000000AC01',
  ACME_HUBSPOT_TOKEN: 'pat-eu1-00000000-0000-0000-0000-0000000000ac',
  GLOBEX_OVH_TOKEN: 'EXAMPLE0-0000-4000-8000-00000000610B',
  GLOBEX_ODOO_KEY: 'example-globex-odoo-key',
  INITECH_OVH_SALES: 'EXAMPLE0-0000-4000-8000-00000000117E',
  INITECH_OVH_SUPPORT: 'EXAMPLE0-0000-4000-8000-00000000117F',
  INITECH_HUBSPOT_TOKEN: 'pat-eu1-00000000-0000-0000-0000-000000000117',
};
const saved: Record<string, string | undefined> = {};
beforeAll(() => {
  for (const [key, value] of Object.entries(ENV)) {
    saved[key] = process.env[key];
    process.env[key] = value;
  }
});
afterAll(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe('examples/configs', () => {
  it('has one config per CRM, a fan-out one and an integrator cluster one', () => {
    expect(files.sort()).toEqual([
      'fan-out.cti.config.ts',
      'hubspot.cti.config.ts',
      'integrator-cluster.cti.config.ts',
      'odoo.cti.config.ts',
      'salesforce.cti.config.ts',
    ]);
  });

  it.each(files)(
    '%s loads and validates with the real adapter factories',
    async (file) => {
      const { config } = await loadConfig(`${dir}${file}`);
      expect(Object.keys(config.tokens).length).toBeGreaterThan(0);
      for (const route of Object.values(config.tokens)) {
        for (const name of route.adapters) expect(config.adapters[name]).toBeDefined();
      }
      if (file === 'integrator-cluster.cti.config.ts') {
        expect(config.store).toMatchObject({ kind: 'redis', prefix: 'cti-integrator' });
        expect(Object.keys(config.tokens)).toHaveLength(4);
        expect(config.tokens[ENV.INITECH_OVH_SUPPORT as string]?.adapters).toEqual(['initech-hubspot']);
      }
      if (file === 'fan-out.cti.config.ts') {
        expect(config.tokens[ENV.OVH_SALES_TOKEN as string]?.adapters).toEqual(['hubspot', 'odoo']);
      }
    },
    60_000,
  );
});
