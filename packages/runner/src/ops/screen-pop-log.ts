import type { Logger, ScreenPop } from '@cti-bridge/core';
import { maskToken } from './secrets.js';

/** The fields of a screen pop's log line: who calls which line, and the record found. */
export function screenPopFields(pop: ScreenPop): Record<string, unknown> {
  const best = pop.matches[0];
  return {
    token: maskToken(pop.token),
    callId: pop.call.id,
    line: pop.call.line.e164 ?? pop.call.line.raw,
    ...(pop.call.lineLabel !== undefined ? { lineLabel: pop.call.lineLabel } : {}),
    caller: pop.call.remote.withheld ? 'withheld' : (pop.call.remote.e164 ?? pop.call.remote.raw),
    direction: pop.call.direction,
    ...(best !== undefined ? { name: best.displayName } : {}),
    ...(best?.companyName !== undefined ? { company: best.companyName } : {}),
    ...(pop.adapter !== undefined ? { crm: pop.adapter } : {}),
    ...(pop.url !== undefined ? { url: pop.url } : {}),
    matches: pop.matches.length,
    latencyMs: Math.round(pop.latencyMs * 10) / 10,
  };
}

/**
 * Logs a screen pop at info: line, caller, matched record name, CRM and record URL. The token is
 * masked; the runner's logger scrubs every registered secret from the line as well.
 */
export function logScreenPop(logger: Logger, pop: ScreenPop): void {
  const fields = screenPopFields(pop);
  const who = pop.matches[0]?.displayName ?? 'unknown caller';
  logger.info(
    fields,
    `screen pop: ${String(fields.caller)} → ${String(fields.line)}: ${who}${pop.adapter ? ` (${pop.adapter})` : ''}`,
  );
}
