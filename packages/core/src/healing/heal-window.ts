import type { Call } from '../calls/types.js';
import { fetchCallRecords, type OvhLineRef } from './call-records.js';
import type { HealerOptions, HealReport } from './healer.js';
import { healedCall, reconcile, type SeenCall, seenCallOf } from './reconcile.js';

/** What reconciling a window needs: the healer's options, defaults applied. */
export interface HealContext {
  readonly options: HealerOptions;
  readonly matchWindowMs: number;
  readonly country: string;
}

/** The counters of one reconciliation, summed over its lines. */
interface HealTally {
  readonly healed: Call[];
  readonly failures: Array<{ token: string; line: string; error: string }>;
  records: number;
  matched: number;
  invalidRecords: number;
  lines: number;
}

/**
 * Reconciles one window: for each token, the calls seen on the stream (journal and in flight) are
 * matched with each of its lines' call records; the missing ones are logged (not in a dry run).
 */
export async function healWindow(
  ctx: HealContext,
  { from, to, dryRun = false }: { readonly from: Date; readonly to: Date; readonly dryRun?: boolean },
): Promise<HealReport> {
  const tally: HealTally = { healed: [], failures: [], records: 0, matched: 0, invalidRecords: 0, lines: 0 };
  const inFlight = (ctx.options.inFlight?.() ?? []).map(seenCallOf);
  for (const [token, refs] of Object.entries(ctx.options.lines)) {
    const seen: SeenCall[] = [
      ...(await ctx.options.journal.between(
        token,
        from.getTime() - ctx.matchWindowMs,
        to.getTime() + ctx.matchWindowMs,
      )),
      ...inFlight,
    ];
    for (const line of refs) {
      tally.lines++;
      await healLine(ctx, tally, { token, line, seen, from, to, dryRun });
    }
  }
  const { lines, records, matched, healed, invalidRecords, failures } = tally;
  return { from, to, dryRun, lines, records, matched, healed, invalidRecords, failures };
}

/** Reconciles one line's records of the window; a failure is counted, not thrown. */
async function healLine(
  ctx: HealContext,
  tally: HealTally,
  job: {
    readonly token: string;
    readonly line: OvhLineRef;
    readonly seen: SeenCall[];
    readonly from: Date;
    readonly to: Date;
    readonly dryRun: boolean;
  },
): Promise<void> {
  const { token, line, seen, from, to, dryRun } = job;
  try {
    const fetched = await fetchCallRecords(ctx.options.api, line, { from, to });
    tally.invalidRecords += fetched.invalid;
    tally.records += fetched.records.length;
    const result = reconcile(line, fetched.records, seen, {
      matchWindowMs: ctx.matchWindowMs,
      defaultCountry: ctx.country,
    });
    tally.matched += result.matched.length;
    for (const record of result.missing) {
      const call = healedCall(record, line, token, ctx.country);
      tally.healed.push(call);
      if (!dryRun) await ctx.options.ingest(call);
    }
  } catch (error) {
    tally.failures.push({
      token,
      line: line.serviceName,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
