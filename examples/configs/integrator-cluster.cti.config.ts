// cti-bridge for an integrator: many customers, each with their own OVH token and their own CRM
// credentials, followed by two (or more) runners sharing one Redis.
//
// Every runner loads this same file. Each OVH token is polled by exactly one live runner (a lease
// renewed every 5 s, lost 15 s after its runner stops renewing it); the outbox, dead letters,
// stream cursors and calls in flight live in Redis, so any runner delivers any call and a runner
// that dies is taken over within the lease time. Give each runner its own name:
//
//   export REDIS_URL=redis://:password@redis.internal:6379     # Redis ≥ 6.2, one server (not Cluster)
//   export ACME_OVH_TOKEN=… ACME_HUBSPOT_TOKEN=pat-…
//   export GLOBEX_OVH_TOKEN=… GLOBEX_ODOO_KEY=…
//   export INITECH_OVH_SALES=… INITECH_OVH_SUPPORT=… INITECH_HUBSPOT_TOKEN=pat-…
//   npm install @cti-bridge/store-redis                         # the Redis store (ioredis)
//   npx cti-runner check --config integrator-cluster.cti.config.ts
//   CTI_RUNNER_NAME=runner-a npx cti-runner --config integrator-cluster.cti.config.ts   # machine 1
//   CTI_RUNNER_NAME=runner-b npx cti-runner --config integrator-cluster.cti.config.ts   # machine 2
import { hubspot } from '@cti-bridge/adapter-hubspot';
import { odoo } from '@cti-bridge/adapter-odoo';
import { defineConfig, env } from 'cti-runner';

/** One line per customer: their OVH event tokens and the name of their CRM adapter below. */
const customers = [
  { crm: 'acme-hubspot', tokens: [env('ACME_OVH_TOKEN')], country: 'FR' },
  { crm: 'globex-odoo', tokens: [env('GLOBEX_OVH_TOKEN')], country: 'BE' },
  { crm: 'initech-hubspot', tokens: [env('INITECH_OVH_SALES'), env('INITECH_OVH_SUPPORT')], country: 'FR' },
] as const;

export default defineConfig({
  // Shared by every runner: same url, same prefix. Keys live under `cti-integrator:`.
  store: {
    kind: 'redis',
    url: env('REDIS_URL'),
    prefix: 'cti-integrator',
    // Defaults shown: a dead runner's tokens are polled again within leaseMs + renewMs.
    leaseMs: 15_000,
    renewMs: 5_000,
    // The outbox engine, the same on every runner: 'lua' (default) or 'bullmq' (BullMQ queues).
    outbox: 'lua',
  },

  // Each customer's own CRM, with its own credentials (never shared between customers).
  adapters: {
    'acme-hubspot': hubspot({ accessToken: env('ACME_HUBSPOT_TOKEN') }),
    'globex-odoo': odoo({
      url: 'https://globex.odoo.com',
      database: 'globex',
      login: 'telephony@globex.example',
      apiKey: env('GLOBEX_ODOO_KEY'),
    }),
    'initech-hubspot': hubspot({ accessToken: env('INITECH_HUBSPOT_TOKEN') }),
  },

  // Every token routes to its own customer's CRM only.
  tokens: Object.fromEntries(
    customers.flatMap(({ crm, tokens, country }) =>
      tokens.map((token) => [token, { adapters: [crm], defaultCountry: country }]),
    ),
  ),

  policies: { unknownCaller: 'log-only', internalCalls: 'skip', missedCallFollowUp: false },
  // Per CRM account: the limits of each customer's plan.
  delivery: { ratePerSecond: 10, adapters: { 'globex-odoo': { concurrency: 2 } } },
  // Each runner serves /readyz and /metrics: which tokens it holds, the runners, the shared queue.
  http: { port: 9464, host: '0.0.0.0' },
  logging: { level: 'info' },
});
