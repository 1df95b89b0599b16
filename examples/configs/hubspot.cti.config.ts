// cti-bridge → HubSpot.
//
// Every call on the OVH lines of one billing account is looked up in HubSpot (contacts, then
// companies) and logged as a call engagement on the matching record, exactly once.
//
//   export OVH_EVENT_TOKEN=…            # `npx cti-runner tokens create --billing-account ovhtel-…`
//   export HUBSPOT_ACCESS_TOKEN=pat-…   # private app: crm.objects.contacts.read, crm.objects.companies.read,
//                                       #              crm.objects.calls.write (+ crm.objects.owners.read)
//   npx cti-runner check --config hubspot.cti.config.ts
//   npx cti-runner --config hubspot.cti.config.ts
import { hubspot } from '@cti-bridge/adapter-hubspot';
import { defineConfig, env } from 'cti-runner';

export default defineConfig({
  // Outbox, dead letters, calls in flight and stream cursors: keep this file on a persistent disk.
  store: { kind: 'sqlite', path: './cti-bridge.db' },

  adapters: {
    hubspot: hubspot({
      accessToken: env('HUBSPOT_ACCESS_TOKEN'),
      // Your HubSpot account id: screen pops then link straight to the record.
      portalId: env('HUBSPOT_PORTAL_ID', { secret: false }),
    }),
  },

  tokens: {
    [env('OVH_EVENT_TOKEN')]: {
      adapters: ['hubspot'],
      defaultCountry: 'FR',
      lineLabels: {
        '0033972101010': 'Reception',
        '0033972101011': 'Sales',
      },
      // OVH line (or queue agent) → HubSpot owner id: the logged call is assigned to them.
      ownerMap: {
        hubspot: {
          '0033972101011': '51234567',
        },
      },
    },
  },

  policies: {
    unknownCaller: 'log-only', // 'create-contact' would create a contact for each new number
    internalCalls: 'skip',
    missedCallFollowUp: true, // a task for every missed call
  },

  // HubSpot allows 190 requests / 10 s on most plans: keep well under it.
  delivery: { ratePerSecond: 10, maxAttempts: 8 },

  http: { port: 9464, host: '127.0.0.1' },
  logging: { level: 'info' },
});
