// cti-bridge → Odoo (XML-RPC, Odoo 16 to 18, Online or self-hosted).
//
// Callers are looked up in res.partner (and crm.lead if you add it); each call is logged in the
// partner's chatter as a completed "Call" activity.
//
//   export OVH_EVENT_TOKEN=…
//   export ODOO_API_KEY=…   # Preferences → Account Security → New API Key, for the login below
//   npx cti-runner check --config odoo.cti.config.ts
import { odoo } from '@cti-bridge/adapter-odoo';
import { defineConfig, env } from 'cti-runner';

export default defineConfig({
  store: { kind: 'sqlite', path: './cti-bridge.db' },

  adapters: {
    odoo: odoo({
      url: 'https://acme.odoo.com',
      database: 'acme',
      login: 'telephony@acme.example',
      apiKey: env('ODOO_API_KEY'),
      lookup: ['res.partner', 'crm.lead'],
      // OVH line or queue agent → res.users id: who the call activity belongs to.
      users: { '0033972101011': 7 },
    }),
  },

  tokens: {
    [env('OVH_EVENT_TOKEN')]: {
      adapters: ['odoo'],
      defaultCountry: 'FR',
      lineLabels: { '0033972101010': 'Accueil', '0033972101011': 'Commercial' },
    },
  },

  policies: { unknownCaller: 'log-only', internalCalls: 'skip', missedCallFollowUp: false },
  // Odoo Online answers slowly under load: fewer calls at once, more patience.
  delivery: { concurrency: 2, timeoutMs: 30_000 },
  http: { port: 9464, host: '127.0.0.1' },
  logging: { level: 'info' },
});
