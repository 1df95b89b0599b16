// cti-bridge → Salesforce.
//
// Callers are looked up in Contacts, Leads and Accounts; each call becomes a completed Task
// (TaskSubtype Call, CallType, CallDurationInSeconds, CallObject = the OVH call id) on the match.
//
//   export OVH_EVENT_TOKEN=…
//   export SALESFORCE_CLIENT_ID=… SALESFORCE_CLIENT_SECRET=… SALESFORCE_REFRESH_TOKEN=…
//   export SALESFORCE_INSTANCE_URL=https://acme.my.salesforce.com
//   npx cti-runner check --config salesforce.cti.config.ts
import { salesforce } from '@cti-bridge/adapter-salesforce';
import { defineConfig, env } from 'cti-runner';

export default defineConfig({
  store: { kind: 'sqlite', path: './cti-bridge.db' },

  adapters: {
    salesforce: salesforce({
      // A connected app with the "api" and "refresh_token" scopes. Other ways to connect:
      // { type: 'jwt', clientId, username, privateKey }, { type: 'password', … }, { type: 'token', … }.
      auth: {
        type: 'refresh-token',
        clientId: env('SALESFORCE_CLIENT_ID'),
        clientSecret: env('SALESFORCE_CLIENT_SECRET'),
        refreshToken: env('SALESFORCE_REFRESH_TOKEN'),
        instanceUrl: env('SALESFORCE_INSTANCE_URL', { secret: false }),
      },
      // Create an External ID + Unique text field Call_Id__c on Task: every call is then one upsert,
      // idempotent by construction.
      task: { externalIdField: 'Call_Id__c' },
    }),
  },

  tokens: {
    [env('OVH_EVENT_TOKEN')]: {
      adapters: ['salesforce'],
      defaultCountry: 'FR',
      lineLabels: { '0033972101010': 'Standard' },
      // OVH line or queue agent → Salesforce user id (005…): the Task's owner.
      ownerMap: {
        salesforce: {
          '0033972101010': '005Fk000000AbCdEAF',
          agent_0033972101011_id: '005Fk000000XyZaBAF',
        },
      },
    },
  },

  policies: { unknownCaller: 'log-only', internalCalls: 'skip', missedCallFollowUp: true },
  delivery: { maxAttempts: 10, concurrency: 4 },
  http: { port: 9464, host: '127.0.0.1' },
  logging: { level: 'info' },
});
