import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type FakeOvhEventsServer, startFakeOvhEventsServer } from '@cti-bridge/core/testing';
import { EXIT, ExitError } from '../exit-codes.js';
import { adapterPackage, type DemoCrm, type ModuleImporter, type SkippedCrm, startDemoCrms } from './crms.js';
import { CONTACTS, DEMO_TOKEN, demoDay, type ExpectedCall, LINE_LABELS } from './day.js';
import { pushPaced, sleep } from './demo.js';

/** Options of {@link startDemoServer}. */
export interface DemoServeOptions {
  /** Where to write the config (and where `run` keeps its SQLite file). Default: a new temporary directory. */
  readonly dir?: string;
  /** `http.port` of the config written (default 9464; 0 for any free port). */
  readonly httpPort?: number;
  /** How adapter packages are imported (tests). */
  readonly importer?: ModuleImporter;
}

/**
 * The bundled fakes, served for a `cti-runner run` in another process: the fake OVH event stream
 * and the fake CRM of each installed adapter package, with the config that points `run` at them.
 * Extensible: everything a view of the demo needs (the fakes, the CRMs, the calls played) is here.
 */
export interface DemoServer {
  /** The config file written for `cti-runner run --config …`. */
  readonly configPath: string;
  /** The fake OVH event stream. */
  readonly ovh: FakeOvhEventsServer;
  /** The CRMs served (bundled fakes only: an in-memory stand-in cannot be reached from `run`). */
  readonly crms: readonly DemoCrm[];
  /** The CRMs left out, and why. */
  readonly skipped: readonly (SkippedCrm & { readonly reason: string })[];
  /** True once a runner polls the demo token (a continuing poller, not a one-off probe). */
  polled(): boolean;
  /**
   * Plays the demo day's calls into the OVH stream, at fast-forward pace; resolves when all are
   * sent, or early once `stopped()` says so. Round n > 1 plays the day again, starting now, with
   * call ids of its own (`demo-r2-0001`, …), so that every round is new calls.
   */
  play(
    onCall?: (label: string) => void,
    options?: { readonly round?: number; readonly stopped?: () => boolean },
  ): Promise<readonly ExpectedCall[]>;
  /** How many of `calls` each CRM has logged, by CRM name. */
  logged(calls: readonly ExpectedCall[]): Promise<Map<string, number>>;
  /** Stops the fakes. */
  close(): Promise<void>;
}

/** A factory call for the config file, from the bundled fake's connection details. */
function adapterSource(crm: DemoCrm): string {
  const fake = (crm.harness as { fake?: Record<string, unknown> }).fake ?? {};
  const text = (value: unknown) => JSON.stringify(String(value));
  switch (crm.name) {
    case 'hubspot':
      return `hubspot({ accessToken: ${text(fake.accessToken)}, basePath: ${text(fake.url)}, portalId: ${Number(fake.portalId)} })`;
    case 'salesforce': {
      const credentials = (fake.credentials ?? {}) as Record<string, unknown>;
      return `salesforce({
      auth: { type: 'token', instanceUrl: ${text(fake.url)}, accessToken: ${text(credentials.accessToken)} },
      task: { externalIdField: 'Call_Id__c' },
    })`;
    }
    case 'odoo':
      return `odoo({ url: ${text(fake.url)}, database: ${text(fake.database)}, login: ${text(fake.login)}, apiKey: ${text(fake.apiKey)}, timeZone: 'UTC' })`;
  }
}

/** The text of the config that points `cti-runner run` at the served fakes. */
export function demoConfigSource(crms: readonly DemoCrm[], ovhUrl: string, httpPort: number): string {
  const names = crms.map((crm) => crm.name);
  return `// Written by \`cti-runner demo --serve\`: the bundled fakes on 127.0.0.1, alive while it runs.
// No real CRM and no OVH account are involved; the credentials below are the fakes' own.
// Run it with:  cti-runner run --config <this file>
${crms.map((crm) => `import { ${crm.name} } from '${adapterPackage(crm.name)}';`).join('\n')}
import { defineConfig } from 'cti-runner';

export default defineConfig({
  store: { kind: 'sqlite', path: './cti-demo-run.db' },
  adapters: {
${crms.map((crm) => `    ${crm.name}: ${adapterSource(crm)},`).join('\n')}
  },
  tokens: {
    ${JSON.stringify(DEMO_TOKEN)}: {
      adapters: ${JSON.stringify(names)},
      defaultCountry: 'FR',
      lineLabels: ${JSON.stringify(LINE_LABELS)},
    },
  },
  policies: {
    unknownCaller: 'log-only',${names.includes('hubspot') ? '\n    adapters: { hubspot: { queueSessions: false } },' : ''}
  },
  delivery: { baseDelayMs: 250, maxDelayMs: 5000 },
  http: { port: ${httpPort}, host: '127.0.0.1' },
  ovh: { baseUrl: ${JSON.stringify(ovhUrl)}, pollTimeoutMs: 5000 },
});
`;
}

/**
 * The CRMs `demo --serve` serves: those whose adapter package bundles a fake (the others are
 * closed and listed as skipped, with why). Throws an ExitError when there is none.
 */
async function servedCrms(
  options: DemoServeOptions,
): Promise<{ crms: DemoCrm[]; skipped: DemoServer['skipped'] }> {
  const started = await startDemoCrms(options.importer === undefined ? {} : { importer: options.importer });
  const crms = started.crms.filter((crm) => crm.backend === 'fake');
  const skipped = [
    ...started.skipped.map((crm) => ({ ...crm, reason: `${crm.pkg} is not installed` })),
    ...started.crms
      .filter((crm) => crm.backend !== 'fake')
      .map((crm) => ({
        name: crm.name,
        label: crm.label,
        pkg: adapterPackage(crm.name),
        reason: 'no bundled fake to serve',
      })),
  ];
  for (const crm of started.crms)
    if (crm.backend !== 'fake') await crm.harness.close().catch(() => undefined);
  if (crms.length === 0) {
    throw new ExitError(
      EXIT.USAGE,
      'demo --serve: no adapter package with a bundled fake is installed (npm install @cti-bridge/adapter-hubspot, -salesforce or -odoo)',
    );
  }
  return { crms, skipped };
}

/** Seeds the demo contacts in every served CRM. */
async function seedServedCrms(crms: readonly DemoCrm[]): Promise<void> {
  for (const crm of crms) {
    for (const contact of CONTACTS)
      await crm.harness.seedContact({
        name: contact.name,
        phone: contact.phones[crm.name],
        kind: contact.kind,
      });
  }
}

/**
 * Starts the fakes of `cti-runner demo --serve` and writes the config for `run`. Throws an
 * ExitError when no installed adapter package bundles a fake.
 */
export async function startDemoServer(options: DemoServeOptions = {}): Promise<DemoServer> {
  const { crms, skipped } = await servedCrms(options);
  await seedServedCrms(crms);
  const ovh = await startFakeOvhEventsServer({ holdMs: 1000 });
  const dir =
    options.dir === undefined ? mkdtempSync(join(tmpdir(), 'cti-demo-serve-')) : resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, 'cti.config.mjs');
  writeFileSync(configPath, demoConfigSource(crms, ovh.url, options.httpPort ?? 9464), 'utf8');

  return {
    configPath,
    ovh,
    crms,
    skipped,
    // A runner echoes the session of its previous poll; `check`'s one-off probe does not. Events
    // played before a runner has its session would go to the probe's session only.
    polled: () =>
      ovh.requests().some((request) => request.token === DEMO_TOKEN && request.session !== undefined),
    async play(onCall, options = {}) {
      const round = options.round ?? 1;
      const start = new Date();
      if (round === 1) start.setUTCHours(7, 30, 0, 0);
      const day = demoDay(start);
      const phases = round === 1 ? day.phases : renameDemoIds(day.phases, round);
      const expected = round === 1 ? day.expected : renameDemoIds(day.expected, round);
      for (const phase of phases) {
        for (const call of phase.calls) {
          if (options.stopped?.()) return expected;
          onCall?.(call.label);
          await pushPaced(ovh, call.events);
        }
      }
      return expected;
    },
    async logged(calls) {
      const counts = new Map<string, number>();
      for (const crm of crms) {
        let n = 0;
        for (const call of calls) {
          const views = await Promise.all(call.callIds.map((id) => crm.harness.loggedCalls(id)));
          if (views.some((list) => list.length > 0)) n++;
        }
        counts.set(crm.name, n);
      }
      return counts;
    },
    async close() {
      await Promise.all(crms.map((crm) => crm.harness.close().catch(() => undefined)));
      await ovh.close();
    },
  };
}

/**
 * A copy of `value` whose call ids and queue member uuids are new for the round: `demo-…` becomes
 * `demo-r<round>-…`, a generated leg id `…_sip4.ovh.fr` becomes `r<round>…_sip4.ovh.fr`.
 */
function renameDemoIds<T>(value: T, round: number): T {
  if (typeof value === 'string') {
    if (value.startsWith('demo-')) return value.replace(/^demo-/, `demo-r${round}-`) as T;
    if (value.endsWith('_sip4.ovh.fr')) return `r${round}${value}` as T;
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => renameDemoIds(v, round)) as T;
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renameDemoIds(v, round)])) as T;
  }
  return value;
}

/** Resolves on the first SIGINT or SIGTERM. */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolveSignal(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/**
 * `cti-runner demo --serve`: serves the fakes, prints the config to run, waits for a runner to
 * poll, plays the day's calls once, reports what each fake CRM logged, and serves until SIGINT or
 * SIGTERM.
 */
export async function runDemoServe(
  options: DemoServeOptions,
  out: (line: string) => void,
  stop: Promise<unknown> = stopSignal(),
): Promise<number> {
  const server = await startDemoServer(options);
  let stopped = false;
  void stop.then(() => {
    stopped = true;
  });
  try {
    out('cti-bridge demo --serve: a fake OVH event stream and fake CRMs on 127.0.0.1, for the real `run`.');
    for (const crm of server.crms)
      out(`  ${crm.label.padEnd(10)} ${(crm.harness as { fake?: { url?: string } }).fake?.url ?? ''}`);
    for (const crm of server.skipped) out(`  ${crm.label.padEnd(10)} skipped: ${crm.reason}`);
    out(`  OVH events ${server.ovh.url}`);
    out(`\nConfig written to ${server.configPath}. In another terminal:\n`);
    out(`  cti-runner run --config ${server.configPath}\n`);
    const port = options.httpPort ?? 9464;
    out(
      port === 0
        ? 'Then open the live board at the URL the runner logs ("live call board listening").'
        : `Then open the live board: http://127.0.0.1:${port}/\n`,
    );
    out('Waiting for the runner to poll the demo token… (Ctrl-C to stop)');
    while (!stopped && !server.polled()) await Promise.race([sleep(200), stop]);
    if (stopped) return EXIT.OK;
    out('Runner connected: playing the day’s calls.');
    const expected = await server.play((label) => out(`  ▶ ${label}`));
    const deadline = Date.now() + 60_000;
    let counts = await server.logged(expected);
    while (!stopped && Date.now() < deadline && [...counts.values()].some((n) => n < expected.length)) {
      await Promise.race([sleep(500), stop]);
      counts = await server.logged(expected);
    }
    for (const crm of server.crms)
      out(
        `  ${counts.get(crm.name) === expected.length ? '✔' : '…'} ${crm.label}: ${counts.get(crm.name) ?? 0}/${expected.length} calls logged (counted at the fake)`,
      );
    if (!stopped) {
      out(
        '\nThe day goes on (new calls every round) until Ctrl-C (SIGINT/SIGTERM); stop the runner with Ctrl-C too.',
      );
    }
    // Keep the simulated day going, so that a person can watch the live board.
    for (let round = 2; !stopped; round++) {
      await Promise.race([sleep(5_000), stop]);
      if (stopped) break;
      out(`  ↻ round ${round}`);
      await server.play((label) => out(`  ▶ ${label}`), { round, stopped: () => stopped });
    }
    return EXIT.OK;
  } finally {
    await server.close();
  }
}
