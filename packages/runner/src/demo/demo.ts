import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { normalizeEvent, type RawOvhEvent } from '@cti-bridge/core';
import { startFakeOvhEventsServer } from '@cti-bridge/core/testing';
import { type CtiConfig, parseConfig } from '../config/schema.js';
import { EXIT } from '../exit-codes.js';
import { createLogger } from '../ops/logger.js';
import { type Runner, startRunner } from '../runtime.js';
import { openSqliteStore } from '../store/open.js';
import { type DemoCrm, type ModuleImporter, type SkippedCrm, startDemoCrms } from './crms.js';
import { CONTACTS, DEMO_TOKEN, type DemoPhase, demoDay, LINE_LABELS } from './day.js';
import { printDemoActivity } from './narration.js';
import { printSummary, summaryRows, waitForDeliveries } from './summary.js';

type FakeOvhServer = Awaited<ReturnType<typeof startFakeOvhEventsServer>>;

/** Options of `cti-runner demo`. */
export interface DemoOptions {
  /** SQLite file to keep (default: a temporary directory, removed at the end). */
  readonly db?: string;
  /** Print only the summary. */
  readonly quiet?: boolean;
  /** Use the in-memory CRM stand-ins even when the adapter packages bundle fakes (tests). */
  readonly forceMemory?: boolean;
  /** Give up waiting for deliveries after this long (default 45 s). */
  readonly timeoutMs?: number;
  /** How adapter packages are imported (tests simulate packages that are not installed). */
  readonly importer?: ModuleImporter;
}

/** One row of the demo summary. */
export interface DemoSummaryRow {
  readonly crm: string;
  readonly backend: 'fake' | 'memory';
  readonly expected: number;
  readonly logged: number;
  readonly missing: number;
  readonly duplicates: number;
  readonly retries: number;
  readonly deadLetters: number;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Event time (epoch ms) of a raw OVH event, for pacing. */
export function eventTime(raw: RawOvhEvent): number | undefined {
  const result = normalizeEvent(raw, { token: DEMO_TOKEN });
  return result.ok ? result.event.at.getTime() : undefined;
}

/**
 * Pushes a call's events to the fake OVH server one by one, fast-forwarded: one simulated second
 * is 3 ms, each pause capped at 250 ms.
 */
export async function pushPaced(
  ovh: { push(token: string, events: readonly unknown[]): void },
  events: readonly RawOvhEvent[],
): Promise<void> {
  let previous: number | undefined;
  for (const raw of events) {
    const at = eventTime(raw);
    if (previous !== undefined && at !== undefined)
      await sleep(Math.min(250, Math.max(0, (at - previous) * 0.003)));
    previous = at ?? previous;
    ovh.push(DEMO_TOKEN, [raw]);
  }
}

/** Faults of the midday outage: each CRM fails its next writes, then recovers. */
function injectOutage(crms: readonly DemoCrm[]): string[] {
  const plan: Record<
    DemoCrm['name'],
    { status: 429 | 500 | 503; times: number; retryAfterSeconds?: number }
  > = {
    salesforce: { status: 503, times: 4 },
    hubspot: { status: 429, times: 4, retryAfterSeconds: 1 },
    odoo: { status: 500, times: 3 },
  };
  return crms.map((crm) => {
    const fault = plan[crm.name];
    crm.harness.injectFault({ on: 'write', ...fault });
    return `${crm.label}: next ${fault.times} writes fail with HTTP ${fault.status}${fault.retryAfterSeconds ? ` (Retry-After: ${fault.retryAfterSeconds}s)` : ''}`;
  });
}

/**
 * `cti-runner demo`: a simulated OVH day (inbound answered and missed, outbound, hunting, queue
 * answered and abandoned, an unknown caller, a CRM outage that recovers) through the real pipeline,
 * the bundled fake Salesforce, HubSpot and Odoo, and an SQLite store. Prints screen pops and
 * logged activities as they happen, then a summary counted at the fakes. Exit 0 only when every
 * call was logged exactly once in every CRM.
 */
export async function runDemo(options: DemoOptions, out: (line: string) => void): Promise<number> {
  const print = options.quiet === true ? () => {} : out;
  const tempDir = options.db === undefined ? mkdtempSync(join(tmpdir(), 'cti-demo-')) : undefined;
  const dbPath = options.db === undefined ? join(tempDir as string, 'cti-demo.db') : resolve(options.db);
  // The fake CRMs start empty every time: so must the demo's state.
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${dbPath}${suffix}`, { force: true });

  print('cti-bridge demo — a simulated day of OVH calls, bridged to three CRMs running on 127.0.0.1.');
  print('No credentials, no network: the OVH event stream and the CRMs are local fakes.\n');

  const ovh = await startFakeOvhEventsServer({ holdMs: 500 });
  const { crms, skipped } = await startDemoCrms({
    forceMemory: options.forceMemory === true,
    ...(options.importer === undefined ? {} : { importer: options.importer }),
  });
  const byName = new Map(crms.map((crm) => [crm.name, crm]));
  const labelOf = (name: string) => byName.get(name as DemoCrm['name'])?.label ?? name;
  await seedDemoCrms(crms, skipped, print, out);
  print(`  SQLite     ${dbPath}\n`);

  const store = openSqliteStore({ path: dbPath });
  const config = demoConfig(dbPath, crms, ovh.url);
  const logger = createLogger({ level: 'error', pretty: false, destination: process.stderr });
  const runner = await startRunner({ config, logger, store });
  if (runner.http !== undefined) {
    print(`  Live board ${runner.http.url}/  (while the demo runs; \`demo --serve\` keeps one up)\n`);
  }

  const deadBy = new Map<string, number>();
  printDemoActivity(runner, labelOf, print, deadBy);

  const start = new Date();
  start.setUTCHours(7, 30, 0, 0);
  const { phases, expected } = demoDay(start);
  let code: number = EXIT.OK;
  let rows: DemoSummaryRow[] = [];
  const problems: string[] = [];
  try {
    await playDemoDay(phases, crms, ovh, runner, print);
    await waitForDeliveries(store, crms, expected, options.timeoutMs ?? 45_000, out);
    rows = await summaryRows(store, crms, expected, deadBy, problems);
  } finally {
    await runner.stop(5000);
    await Promise.all(crms.map((crm) => crm.harness.close().catch(() => undefined)));
    await ovh.close();
    if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  }

  const ok = printSummary(rows, crms, expected, problems, out);
  if (!ok) code = EXIT.RUNTIME;
  return code;
}

/** Seeds the demo contacts in every CRM and prints what each CRM runs on (and which were skipped). */
async function seedDemoCrms(
  crms: readonly DemoCrm[],
  skipped: readonly SkippedCrm[],
  print: (line: string) => void,
  out: (line: string) => void,
): Promise<void> {
  for (const crm of crms) {
    for (const contact of CONTACTS) {
      await crm.harness.seedContact({
        name: contact.name,
        phone: contact.phones[crm.name],
        kind: contact.kind,
      });
    }
    print(
      `  ${crm.label.padEnd(10)} ${crm.backend === 'fake' ? 'bundled fake API (real client library on the wire)' : 'in-memory stand-in (its adapter package has no fake yet)'} — ${CONTACTS.length} contacts`,
    );
  }
  for (const crm of skipped)
    out(`  ${crm.label.padEnd(10)} skipped: ${crm.pkg} is not installed (npm install ${crm.pkg} to add it)`);
}

/** The config of the demo's runner: the CRMs, the demo token, the fake OVH server and the SQLite file. */
function demoConfig(dbPath: string, crms: readonly DemoCrm[], ovhUrl: string): CtiConfig {
  const byName = new Map(crms.map((crm) => [crm.name, crm]));
  return parseConfig({
    store: { kind: 'sqlite', path: dbPath },
    adapters: Object.fromEntries(crms.map((crm) => [crm.name, crm.harness.adapter])),
    tokens: {
      [DEMO_TOKEN]: { adapters: crms.map((crm) => crm.name), defaultCountry: 'FR', lineLabels: LINE_LABELS },
    },
    policies: {
      unknownCaller: 'log-only',
      internalCalls: 'skip',
      missedCallFollowUp: false,
      // The HubSpot adapter writes a queue session linked to a call as a second call engagement:
      // the call itself already carries the queue and the wait, so HubSpot gets calls only.
      ...(byName.has('hubspot') ? { adapters: { hubspot: { queueSessions: false } } } : {}),
    },
    delivery: { maxAttempts: 12, baseDelayMs: 150, maxDelayMs: 1500 },
    // The live board, on a free port, while the demo runs.
    http: { port: 0, host: '127.0.0.1' },
    logging: { level: 'error' },
    ovh: { baseUrl: ovhUrl, pollTimeoutMs: 5000 },
  });
}

/**
 * Plays the day's phases to the fake OVH server, call by call, fast-forwarded (the outage phase
 * injects the CRM faults first), and prints the failed CRM writes as they add up.
 */
async function playDemoDay(
  phases: readonly DemoPhase[],
  crms: readonly DemoCrm[],
  ovh: FakeOvhServer,
  runner: Runner,
  print: (line: string) => void,
): Promise<void> {
  let lastFailures = 0;
  const failures = () =>
    runner.metrics.retries.get().then((m) => m.values.reduce((sum, v) => sum + v.value, 0));
  for (const phase of phases) {
    print(`\n── ${phase.title} ${'─'.repeat(Math.max(0, 70 - phase.title.length))}`);
    if (phase.outage) for (const line of injectOutage(crms)) print(`  ⚠  ${line}`);
    for (const call of phase.calls) {
      print(`\n  ▶ ${call.label}`);
      await pushPaced(ovh, call.events);
      await sleep(250);
      const now = await failures();
      if (now > lastFailures)
        print(`     ↻ ${now - lastFailures} CRM write(s) failed: kept in the outbox, retried with backoff`);
      lastFailures = now;
    }
  }
}
