import type { Call } from '@cti-bridge/core';
import { loadConfig } from '../config/load.js';
import { EXIT, ExitError } from '../exit-codes.js';
import { buildHealer } from '../healing.js';
import { createLogger } from '../ops/logger.js';
import { maskToken } from '../ops/secrets.js';
import { startRunner } from '../runtime.js';

/** Options of `cti-runner heal`. */
export interface HealOptions {
  readonly config?: string;
  /** ISO time, or a duration back from now: `90m`, `6h`, `2d`. */
  readonly since: string;
  readonly until?: string;
  readonly dryRun: boolean;
  readonly format: 'text' | 'json';
}

/** Reads `2026-12-05T08:00:00Z`, `2026-12-05 08:00`, or a duration back from now (`45m`, `6h`, `2d`). */
export function parseWhen(text: string, now = Date.now()): Date {
  const relative = /^(\d+)\s*([smhd])$/.exec(text.trim());
  if (relative) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now - Number(relative[1]) * unit);
  }
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) {
    throw new ExitError(
      EXIT.USAGE,
      `cannot read the time "${text}": use an ISO time (2026-12-05T08:00:00Z) or a duration back from now (90m, 6h, 2d)`,
    );
  }
  return new Date(ms);
}

function describe(call: Call): string {
  const remote = call.remote.withheld ? 'withheld' : (call.remote.e164 ?? call.remote.raw);
  return `${call.startedAt.toISOString()}  ${call.direction.padEnd(8)} ${call.outcome ?? ''}  line ${
    call.line.e164 ?? call.line.raw
  }  ${call.direction === 'outbound' ? 'to' : 'from'} ${remote}  ${call.talkSeconds}s  (${call.id})`;
}

/**
 * `cti-runner heal --since <time> [--until <time>] [--dry-run]`: reads OVH's call records of the
 * configured lines for the window and logs the calls the stream missed (a dry run only lists
 * them). Calls already logged are matched and never logged twice.
 */
export async function runHeal(options: HealOptions, out: (line: string) => void): Promise<number> {
  const from = parseWhen(options.since);
  const to = options.until === undefined ? new Date() : parseWhen(options.until);
  if (!(to > from)) throw new ExitError(EXIT.USAGE, '--until must be after --since');
  const { config, path } = await loadConfig(options.config);
  const logger = createLogger({ level: options.dryRun ? 'warn' : config.logging.level });
  const runner = await startRunner({
    config,
    configPath: path,
    logger,
    events: (async function* () {})(),
    http: false,
  });
  try {
    const healer = buildHealer(config, { store: runner.store, connector: runner.connector, logger });
    if (typeof healer === 'string') throw new ExitError(EXIT.USAGE, `cannot heal: ${healer}`);
    const report = await healer.heal({ from, to, dryRun: options.dryRun });
    if (!options.dryRun)
      await Promise.race([runner.connector.drain(), new Promise((r) => setTimeout(r, 60_000))]);
    if (options.format === 'json') {
      out(
        JSON.stringify({
          from: report.from.toISOString(),
          to: report.to.toISOString(),
          dryRun: report.dryRun,
          lines: report.lines,
          records: report.records,
          matched: report.matched,
          healed: report.healed.map((call) => ({
            id: call.id,
            token: maskToken(call.token),
            direction: call.direction,
            outcome: call.outcome,
            line: call.line.e164 ?? call.line.raw,
            remote: call.remote.withheld ? null : (call.remote.e164 ?? call.remote.raw),
            startedAt: call.startedAt.toISOString(),
            talkSeconds: call.talkSeconds,
          })),
          failures: report.failures.map((f) => ({ ...f, token: maskToken(f.token) })),
        }),
      );
    } else {
      out(
        `OVH call records from ${from.toISOString()} to ${to.toISOString()}: ${report.lines} line(s), ${report.records} record(s), ${report.matched} already logged`,
      );
      for (const call of report.healed) out(`  ${options.dryRun ? 'missing' : 'healed '}  ${describe(call)}`);
      for (const f of report.failures) out(`  failed   ${maskToken(f.token)} line ${f.line}: ${f.error}`);
      out(
        report.healed.length === 0
          ? 'nothing missing'
          : options.dryRun
            ? `${report.healed.length} call(s) missing: run again without --dry-run to log them`
            : `${report.healed.length} call(s) logged`,
      );
    }
    return report.failures.length > 0 ? EXIT.RUNTIME : EXIT.OK;
  } finally {
    await runner.stop(5_000);
  }
}
