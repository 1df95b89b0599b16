// cti-bridge → two CRMs at once (fan-out), and two OVH tokens.
//
// Sales lines are logged in HubSpot AND Odoo; the screen pop asks HubSpot first and falls back to
// Odoo when HubSpot does not know the caller. The support hotline (a second token, e.g. the queue's
// line) goes to Odoo only.
//
//   export OVH_SALES_TOKEN=… OVH_SUPPORT_TOKEN=…
//   export HUBSPOT_ACCESS_TOKEN=… ODOO_API_KEY=…
//   npx cti-runner check --config fan-out.cti.config.ts
import { hubspot } from '@cti-bridge/adapter-hubspot';
import { odoo } from '@cti-bridge/adapter-odoo';
import { defineConfig, env } from 'cti-runner';

export default defineConfig({
  store: { kind: 'sqlite', path: '/var/lib/cti-bridge/state.db' },

  adapters: {
    hubspot: hubspot({ accessToken: env('HUBSPOT_ACCESS_TOKEN') }),
    odoo: odoo({
      url: env('ODOO_URL', { default: 'https://acme.odoo.com', secret: false }),
      database: 'acme',
      login: 'telephony@acme.example',
      apiKey: env('ODOO_API_KEY'),
    }),
  },

  tokens: {
    [env('OVH_SALES_TOKEN')]: {
      label: 'sales',
      adapters: ['hubspot', 'odoo'], // every call logged in both
      lookup: ['hubspot', 'odoo'], // screen pop: HubSpot first, then Odoo
      defaultCountry: 'FR',
      lineLabels: { '0033972101011': 'Sales' },
      ownerMap: {
        hubspot: { '0033972101011': '51234567' },
      },
    },
    [env('OVH_SUPPORT_TOKEN')]: {
      label: 'support',
      adapters: ['odoo'],
      defaultCountry: 'FR',
      lineLabels: { '0033972101020': 'Hotline' },
    },
  },

  policies: { unknownCaller: 'log-only', internalCalls: 'skip', missedCallFollowUp: true },
  // Per-CRM limits are enforced per adapter; these apply to each.
  delivery: { maxAttempts: 10, ratePerSecond: 5 },
  http: { port: 9464, host: '0.0.0.0' }, // scraped by Prometheus from another host
  logging: { level: 'info' },
});
