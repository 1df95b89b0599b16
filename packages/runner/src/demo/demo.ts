import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type Call,
  type ContactMatch,
  decodePayload,
  normalizeEvent,
  parsePhone,
  type RawOvhEvent,
} from '@cti-bridge/core';
import { startFakeOvhEventsServer } from '@cti-bridge/core/testing';
import { parseConfig } from '../config/schema.js';
import { EXIT } from '../exit-codes.js';
import { createLogger } from '../ops/logger.js';
import { renderTable } from '../ops/table.js';
import { startRunner } from '../runtime.js';
import { openSqliteStore } from '../store/open.js';
import { type DemoCrm, type ModuleImporter, startDemoCrms } from './crms.js';
import { CONTACTS, DEMO_TOKEN, demoDay, LINE_LABELS } from './day.js';

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

const clockTime = (date: Date | undefined) =>
  date === undefined
    ? '--:--:--'
    : date.toLocaleTimeString('en-GB', { timeZone: 'Europe/Paris', hour12: false });

/** "call with Alice Martin (inbound, missed)" from an outbox payload. */
function describeEntry(kind: string, payload: unknown): string {
  try {
    const decoded = decodePayload(payload);
    if (decoded.call) {
      const number = decoded.call.remote.e164 ?? decoded.call.remote.raw;
      const name = decoded.match?.displayName ?? directory.get(number) ?? number;
      const what = kind === 'log-call' ? 'call' : kind;
      return `${what} ${decoded.call.direction === 'outbound' ? 'to' : 'from'} ${name} (${decoded.call.outcome})`;
    }
    if (decoded.session) return `queue session (${decoded.session.outcome ?? 'ended'})`;
  } catch {
    // Unknown payload shape: fall back to the kind.
  }
  return kind;
}

/** Event time (epoch ms) of a raw OVH event, for pacing. */
export function eventTime(raw: RawOvhEvent): number | undefined {
  const result = normalizeEvent(raw, { token: DEMO_TOKEN });
  return result.ok ? result.event.at.getTime() : undefined;
}

/** Contact names by E.164, to name the caller in delivery lines. */
const directory = new Map(CONTACTS.map((c) => [parsePhone(c.phones.salesforce).e164 ?? '', c.name]));

const labels = new Map(
  Object.entries(LINE_LABELS).map(([number, label]) => [parsePhone(number).e164 ?? number, label]),
);
const lineName = (call: Call) =>
  labels.get(call.line.e164 ?? '') ?? call.lineLabel ?? call.line.e164 ?? call.line.raw;

function who(call: Call, match: ContactMatch | undefined): string {
  const number = call.remote.e164 ?? call.remote.raw;
  return match === undefined ? `${number} (unknown caller)` : `${match.displayName} ${number}`;
}

function duration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
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
  print(`  SQLite     ${dbPath}\n`);

  const store = openSqliteStore({ path: dbPath });
  const config = parseConfig({
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
    ovh: { baseUrl: ovh.url, pollTimeoutMs: 5000 },
  });
  const logger = createLogger({ level: 'error', pretty: false, destination: process.stderr });
  const runner = await startRunner({ config, logger, store });
  if (runner.http !== undefined) {
    print(`  Live board ${runner.http.url}/  (while the demo runs; \`demo --serve\` keeps one up)\n`);
  }

  const deadBy = new Map<string, number>();
  runner.connector.on('screen-pop', (pop) => {
    const match = pop.matches[0];
    const where =
      pop.adapter === undefined
        ? ''
        : ` — ${labelOf(pop.adapter)} ${match?.recordType ?? ''} ${match?.url ?? ''}`;
    const also = pop.matches.length > 1 ? ` (+${pop.matches.length - 1} more)` : '';
    print(
      `  ☎  ${clockTime(pop.call.startedAt)}  ${lineName(pop.call)}: ${who(pop.call, match)}${also}${where}`,
    );
  });
  runner.connector.on('call', (call) => {
    print(
      `  ■  ${clockTime(call.endedAt)}  ${lineName(call)}: ${call.direction} call ${call.outcome ?? ''}, talk ${duration(call.talkSeconds)}${call.queue ? `, waited ${call.queue.waitSeconds}s in queue` : ''}${call.linesRung.length > 1 ? `, rang ${call.linesRung.length} lines` : ''}`,
    );
  });
  runner.connector.on('queue-session', (session) => {
    if (session.outcome !== 'answered') {
      print(
        `  ■  ${clockTime(session.leftAt)}  queue ${session.queue}: caller ${session.outcome} after ${session.waitSeconds}s`,
      );
    }
  });
  runner.connector.on('delivered', (delivery) => {
    const retried = delivery.entry.attempts > 0 ? ` after ${delivery.entry.attempts} failed attempt(s)` : '';
    print(
      `     ✔ ${describeEntry(delivery.entry.kind, delivery.entry.payload)} logged in ${labelOf(delivery.adapter)}${retried}`,
    );
  });
  runner.connector.on('dead-letter', (dead) => {
    deadBy.set(dead.adapter, (deadBy.get(dead.adapter) ?? 0) + 1);
    print(`     ✖ ${labelOf(dead.adapter)}: gave up (${dead.error.message})`);
  });
  let lastFailures = 0;
  const failures = () =>
    runner.metrics.retries.get().then((m) => m.values.reduce((sum, v) => sum + v.value, 0));

  const start = new Date();
  start.setUTCHours(7, 30, 0, 0);
  const { phases, expected } = demoDay(start);
  let code: number = EXIT.OK;
  let rows: DemoSummaryRow[] = [];
  const problems: string[] = [];
  try {
    for (const phase of phases) {
      print(`\n── ${phase.title} ${'─'.repeat(Math.max(0, 70 - phase.title.length))}`);
      if (phase.outage) for (const line of injectOutage(crms)) print(`  ⚠  ${line}`);
      for (const call of phase.calls) {
        print(`\n  ▶ ${call.label}`);
        // Fast-forward: one simulated second = 3 ms, each pause capped at 250 ms.
        let previous: number | undefined;
        for (const raw of call.events) {
          const at = eventTime(raw);
          if (previous !== undefined && at !== undefined)
            await sleep(Math.min(250, Math.max(0, (at - previous) * 0.003)));
          previous = at ?? previous;
          ovh.push(DEMO_TOKEN, [raw]);
        }
        await sleep(250);
        const now = await failures();
        if (now > lastFailures)
          print(`     ↻ ${now - lastFailures} CRM write(s) failed: kept in the outbox, retried with backoff`);
        lastFailures = now;
      }
    }

    // Wait until every expected call is logged in every CRM and the outbox is empty.
    const deadline = Date.now() + (options.timeoutMs ?? 45_000);
    const countAt = async (crm: DemoCrm) => {
      const counts: number[] = [];
      for (const call of expected) {
        let n = 0;
        for (const id of call.callIds) n += (await crm.harness.loggedCalls(id)).length;
        counts.push(n);
      }
      return counts;
    };
    for (;;) {
      const pending = (await store.outbox.counts()).pending;
      const all = await Promise.all(crms.map(countAt));
      if (pending === 0 && all.every((counts) => counts.every((n) => n >= 1))) break;
      if (Date.now() > deadline) {
        out(`\nTimed out waiting for deliveries (${pending} pending).`);
        break;
      }
      await sleep(100);
    }
    // Let in-flight duplicates (if any bug produced one) surface before counting.
    await sleep(200);

    rows = [];
    for (const crm of crms) {
      const counts = await countAt(crm);
      for (const [i, n] of counts.entries()) {
        const call = expected[i];
        if (n !== 1 && call !== undefined) {
          const views = (await Promise.all(call.callIds.map((id) => crm.harness.loggedCalls(id)))).flat();
          problems.push(
            `${crm.label}: "${call.label}" logged ${n} times (call ids ${call.callIds.join(', ')})${views
              .map((v) => `\n      ${v.id}: ${v.text.replace(/\s+/g, ' ').slice(0, 160)}`)
              .join('')}`,
          );
        }
      }
      const outbox = await store.outbox.counts(crm.name);
      const entries = await store.outbox.list({ adapter: crm.name });
      rows.push({
        crm: crm.label,
        backend: crm.backend,
        expected: expected.length,
        logged: counts.filter((n) => n >= 1).length,
        missing: counts.filter((n) => n === 0).length,
        duplicates: counts.reduce((sum, n) => sum + Math.max(0, n - 1), 0),
        retries: entries.reduce((sum, entry) => sum + entry.attempts, 0),
        deadLetters: Math.max(outbox.dead, deadBy.get(crm.name) ?? 0),
      });
    }
  } finally {
    await runner.stop(5000);
    await Promise.all(crms.map((crm) => crm.harness.close().catch(() => undefined)));
    await ovh.close();
    if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  }

  out('\nSummary (counted at the fake CRMs)');
  out(
    renderTable(
      ['CRM', 'backend', 'calls logged', 'missing', 'duplicates', 'retries', 'dead letters'],
      rows.map((r) => [
        r.crm,
        r.backend,
        `${r.logged}/${r.expected}`,
        String(r.missing),
        String(r.duplicates),
        String(r.retries),
        String(r.deadLetters),
      ]),
    ),
  );
  const retries = rows.reduce((sum, r) => sum + r.retries, 0);
  const ok =
    rows.length === crms.length &&
    rows.every((r) => r.missing === 0 && r.duplicates === 0 && r.deadLetters === 0);
  out(
    ok
      ? `\n✔ Every call was logged exactly once in every CRM (${expected.length} calls × ${crms.length} CRMs, ${retries} retries during the outage).`
      : '\n✖ Some calls were not logged exactly once: see the table above.',
  );
  for (const problem of problems) out(`  - ${problem}`);
  if (!ok) code = EXIT.RUNTIME;
  return code;
}
