import type { Call } from '../calls/types.js';
import { DEFAULT_COUNTRY } from '../config/defaults.js';
import { type Logger, silentLogger } from '../logger.js';
import type { OvhApiClient } from '../ovh/api-client.js';
import type { KeyValueStore } from '../store/types.js';
import type { OvhLineRef } from './call-records.js';
import { readGaps, writeGaps } from './gap-store.js';
import { healWindow } from './heal-window.js';
import type { SeenCallJournal } from './journal.js';
import type { reconcile } from './reconcile.js';

/** Options of {@link createHealer}. */
export interface HealerOptions {
  /** An OVH API client with `GET` on `/telephony/*`. */
  readonly api: OvhApiClient;
  /** Where gaps wait until their records can be read (the runner's store). */
  readonly kv: KeyValueStore;
  readonly journal: SeenCallJournal;
  /** The lines of each event token whose call records are read. */
  readonly lines: Readonly<Record<string, readonly OvhLineRef[]>>;
  /** Logs a healed call like any ended call (the connector's `ingest`). */
  readonly ingest: (call: Call) => Promise<void>;
  /** Calls the tracker holds in flight now (they were seen too). */
  readonly inFlight?: () => readonly Call[];
  readonly clock?: () => number;
  /**
   * OVH lists a call some minutes after it ended: a gap is reconciled this long after it closed
   * (default 15 minutes).
   */
  readonly recordDelayMs?: number;
  /** See {@link reconcile} (default 15 s). */
  readonly matchWindowMs?: number;
  readonly defaultCountry?: string;
  readonly logger?: Logger;
}

/** A time window the stream may have missed calls in (epoch ms). */
export interface Gap {
  readonly from: number;
  readonly to: number;
  /** Why: `restart`, `stream-outage`, `session-reset`, `watchdog`, `manual`. */
  readonly reason: string;
}

/** What one reconciliation found and did. */
export interface HealReport {
  readonly from: Date;
  readonly to: Date;
  readonly dryRun: boolean;
  /** Lines whose records were read. */
  readonly lines: number;
  readonly records: number;
  /** Records matched with a call seen on the stream. */
  readonly matched: number;
  /** Calls the stream missed: logged (or, in a dry run, that would be). */
  readonly healed: readonly Call[];
  /** Records OVH answered that were not valid (skipped). */
  readonly invalidRecords: number;
  /** Lines whose records could not be read, with why. */
  readonly failures: ReadonlyArray<{ readonly token: string; readonly line: string; readonly error: string }>;
}

/** Reconciles gaps of the event stream with OVH's call records. */
export interface Healer {
  /** Remembers a gap (in the store): it is reconciled by {@link runDue} once its records can be read. */
  noteGap(gap: Gap): Promise<void>;
  /** Gaps waiting to be reconciled. */
  gaps(): Promise<Gap[]>;
  /** Reconciles the gaps whose records should be listed by now; keeps those that failed. */
  runDue(): Promise<HealReport[]>;
  /** Reconciles one window now (`cti-runner heal`); a dry run logs nothing. */
  heal(window: { readonly from: Date; readonly to: Date; readonly dryRun?: boolean }): Promise<HealReport>;
}

/**
 * Creates a {@link Healer}. A call present in OVH's call records and never seen on the stream is
 * logged through `ingest`, marked inferred (healed); a call seen on both is never logged twice:
 * the record is matched with the stream's call (see {@link reconcile}), and a healed call's id
 * comes from its record, so healing a window twice logs nothing new.
 */
export function createHealer(options: HealerOptions): Healer {
  const clock = options.clock ?? Date.now;
  const delay = options.recordDelayMs ?? 15 * 60_000;
  const matchWindowMs = options.matchWindowMs ?? 15_000;
  const country = options.defaultCountry ?? DEFAULT_COUNTRY;
  const logger = options.logger ?? silentLogger;
  const heal: Healer['heal'] = (window) => healWindow({ options, matchWindowMs, country }, window);

  return {
    async noteGap(gap) {
      if (!(gap.to > gap.from)) return;
      const gaps = await readGaps(options.kv);
      gaps.push(gap);
      await writeGaps(options.kv, gaps);
      logger.info(
        { from: new Date(gap.from).toISOString(), to: new Date(gap.to).toISOString(), reason: gap.reason },
        'the event stream may have missed calls: they will be healed from OVH call records',
      );
    },
    gaps: () => readGaps(options.kv),
    async runDue() {
      const now = clock();
      const gaps = await readGaps(options.kv);
      const due = gaps.filter((gap) => gap.to + delay <= now);
      if (due.length === 0) return [];
      const reports: HealReport[] = [];
      const failed: Gap[] = [];
      for (const gap of due) {
        const report = await heal({ from: new Date(gap.from), to: new Date(gap.to) });
        reports.push(report);
        if (report.failures.length > 0) failed.push(gap);
        logGapReport(logger, gap, report);
      }
      // gaps noted meanwhile stay; failed ones are tried again later
      const remaining = (await readGaps(options.kv)).filter(
        (gap) => !due.some((d) => d.from === gap.from && d.to === gap.to),
      );
      await writeGaps(options.kv, [...remaining, ...failed]);
      return reports;
    },
    heal,
  };
}

/** Logs what reconciling a gap found, and each line whose records could not be read. */
function logGapReport(logger: Logger, gap: Gap, report: HealReport): void {
  logger.info(
    {
      from: report.from.toISOString(),
      to: report.to.toISOString(),
      reason: gap.reason,
      records: report.records,
      matched: report.matched,
      healed: report.healed.length,
      failures: report.failures.length,
    },
    report.healed.length > 0
      ? `healed ${report.healed.length} call(s) the event stream missed, from OVH call records`
      : 'gap reconciled with OVH call records: nothing missing',
  );
  for (const failure of report.failures) {
    logger.warn(failure, 'reading OVH call records failed: the gap is kept and tried again');
  }
}
