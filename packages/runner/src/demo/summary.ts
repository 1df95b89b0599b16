import type { Store } from '@cti-bridge/core';
import { renderTable } from '../ops/table.js';
import type { DemoCrm } from './crms.js';
import type { ExpectedCall } from './day.js';
import type { DemoSummaryRow } from './demo.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** How many times each expected call is logged at a CRM (across its call ids). */
async function loggedCounts(crm: DemoCrm, expected: readonly ExpectedCall[]): Promise<number[]> {
  const counts: number[] = [];
  for (const call of expected) {
    let n = 0;
    for (const id of call.callIds) n += (await crm.harness.loggedCalls(id)).length;
    counts.push(n);
  }
  return counts;
}

/** Waits until every expected call is logged in every CRM and the outbox is empty (or `timeoutMs` passed). */
export async function waitForDeliveries(
  store: Store,
  crms: readonly DemoCrm[],
  expected: readonly ExpectedCall[],
  timeoutMs: number,
  out: (line: string) => void,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const countAt = (crm: DemoCrm) => loggedCounts(crm, expected);
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
}

/** One summary row per CRM, counted at the fakes; a problem line per call not logged exactly once. */
export async function summaryRows(
  store: Store,
  crms: readonly DemoCrm[],
  expected: readonly ExpectedCall[],
  deadBy: ReadonlyMap<string, number>,
  problems: string[],
): Promise<DemoSummaryRow[]> {
  const rows: DemoSummaryRow[] = [];
  for (const crm of crms) {
    const counts = await loggedCounts(crm, expected);
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
  return rows;
}

/** Prints the summary table and verdict; true when every call was logged exactly once everywhere. */
export function printSummary(
  rows: readonly DemoSummaryRow[],
  crms: readonly DemoCrm[],
  expected: readonly ExpectedCall[],
  problems: readonly string[],
  out: (line: string) => void,
): boolean {
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
  return ok;
}
