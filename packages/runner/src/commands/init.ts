import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { EXIT } from '../exit-codes.js';

/** CRMs `cti-runner init` can scaffold a config for. */
export type InitCrm = 'hubspot' | 'salesforce' | 'odoo';

const ADAPTERS: Record<InitCrm, { pkg: string; factory: string; options: string; env: string[] }> = {
  hubspot: {
    pkg: '@cti-bridge/adapter-hubspot',
    factory: 'hubspot',
    options: `{
      // A private app token (Settings → Integrations → Private apps) with the scopes crm.objects.contacts.read,
      // crm.objects.contacts.write, crm.objects.companies.read and crm.objects.owners.read (see the adapter's README).
      accessToken: env('HUBSPOT_ACCESS_TOKEN'),
      // Your HubSpot account id, for links to records in the screen pop.
      // portalId: env('HUBSPOT_PORTAL_ID', { secret: false }),
    }`,
    env: ['HUBSPOT_ACCESS_TOKEN'],
  },
  salesforce: {
    pkg: '@cti-bridge/adapter-salesforce',
    factory: 'salesforce',
    options: `{
      // JWT bearer flow, as the adapter's README recommends for a server: a connected app with "Use digital
      // signatures" (upload cti.crt of \`openssl req -x509 -newkey rsa:2048 -nodes -keyout cti.key -out cti.crt -days 730\`)
      // and the integration user pre-authorized. Other ways (refresh-token, password): see the adapter's README.
      auth: {
        type: 'jwt',
        loginUrl: 'https://login.salesforce.com', // https://test.salesforce.com for a sandbox
        clientId: env('SALESFORCE_CLIENT_ID'), // the connected app's consumer key
        username: env('SALESFORCE_USERNAME', { secret: false }), // the integration user
        privateKey: env('SALESFORCE_PRIVATE_KEY'), // the PEM key itself: export SALESFORCE_PRIVATE_KEY="$(cat cti.key)"
      },
      // An External ID + Unique text field on Task makes each call one upsert (recommended).
      // task: { externalIdField: 'Call_Id__c' },
    }`,
    env: ['SALESFORCE_CLIENT_ID', 'SALESFORCE_USERNAME', 'SALESFORCE_PRIVATE_KEY'],
  },
  odoo: {
    pkg: '@cti-bridge/adapter-odoo',
    factory: 'odoo',
    options: `{
      url: env('ODOO_URL', { secret: false }), // https://mycompany.odoo.com
      database: env('ODOO_DATABASE', { secret: false }),
      login: env('ODOO_LOGIN', { secret: false }),
      // An API key (Preferences → Account Security → New API Key) rather than the password.
      apiKey: env('ODOO_API_KEY'),
    }`,
    env: ['ODOO_URL', 'ODOO_DATABASE', 'ODOO_LOGIN', 'ODOO_API_KEY'],
  },
};

/**
 * The text of a commented starter config for one CRM; `file` is the name it is written under (the
 * header's commands name it).
 */
export function configTemplate(crm: InitCrm, file = 'cti.config.ts'): string {
  const a = ADAPTERS[crm];
  return `// ${basename(file)}: cti-bridge configuration (ESM), written by \`cti-runner init --crm ${crm}\`.
// Reference: https://github.com/cti-bridge/cti-bridge/tree/main/packages/runner#config
// Check it with:   npx cti-runner check --config ${file}
// Run it with:     npx cti-runner --config ${file}
import { ${a.factory} } from '${a.pkg}';
import { defineConfig, env } from 'cti-runner';

export default defineConfig({
  // Durable state (outbox, dead letters, calls in flight, stream cursors). One file; keep it on a persistent disk.
  store: { kind: 'sqlite', path: './cti-bridge.db' },

  // CRMs, by a name of your choice. Secrets come from the environment (env() fails clearly when one is missing
  // and keeps its value out of the logs).
  adapters: {
    ${crm}: ${a.factory}(${a.options}),
  },

  // OVH event tokens (create one with \`npx cti-runner tokens create --billing-account ovhtel-…\`), each routed
  // to one or more adapters (fan-out). The first adapter that knows the caller gives the screen pop.
  tokens: {
    [env('OVH_EVENT_TOKEN')]: {
      adapters: ['${crm}'],
      defaultCountry: 'FR', // how to read national numbers (06…)
      // Names shown for your OVH numbers:
      // lineLabels: { '0033972123456': 'Reception' },
      // Who owns the logged activity: OVH line or queue agent -> CRM user id, per adapter.
      // ownerMap: { ${crm}: { '0033972123456': '<crm user id>' } },
    },
  },

  policies: {
    unknownCaller: 'log-only', // or 'create-contact' | 'skip'
    internalCalls: 'skip', // or 'log'
    missedCallFollowUp: false, // true: a follow-up task for every missed call
  },

  // Health and metrics: GET /healthz, /readyz, /metrics (Prometheus). Set to false to disable.
  http: { port: 9464, host: '127.0.0.1' },

  // JSON lines by default; pretty when stdout is a terminal.
  logging: { level: 'info' },
});
`;
}

/** `cti-runner init [file]`: writes the starter config; never overwrites without --force. */
export async function runInit(
  options: { readonly file: string; readonly crm: InitCrm; readonly force: boolean },
  out: (line: string) => void,
): Promise<number> {
  const path = resolve(options.file);
  if (existsSync(path) && !options.force) {
    out(`${path} already exists: pass --force to overwrite it.`);
    return EXIT.USAGE;
  }
  await writeFile(path, configTemplate(options.crm, options.file), 'utf8');
  const a = ADAPTERS[options.crm];
  out(`Wrote ${path}.`);
  out('Next:');
  out(`  1. npm install cti-runner ${a.pkg}`);
  out(`  2. export ${['OVH_EVENT_TOKEN', ...a.env].map((name) => `${name}=…`).join(' ')}`);
  out(`  3. npx cti-runner check --config ${options.file}`);
  out(`  4. npx cti-runner --config ${options.file}`);
  out(
    `As a service, start ./node_modules/.bin/cti-runner itself (npx does not pass SIGTERM on): see examples/deploy/ in the repository.`,
  );
  return EXIT.OK;
}
