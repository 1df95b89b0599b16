/**
 * Human-readable duration: `0 s`, `45 s`, `3 min 12 s`, `1 h`, `1 h 2 min 5 s` (zero parts left
 * out). Negative values count as 0; fractions are rounded to the second.
 */
export function formatDuration(seconds: number): string {
  const total = Number.isFinite(seconds) ? Math.max(0, Math.round(seconds)) : 0;
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = total % 60;
  const parts: string[] = [];
  if (hours > 0) parts.push(`${hours} h`);
  if (minutes > 0) parts.push(`${minutes} min`);
  if (rest > 0 || parts.length === 0) parts.push(`${rest} s`);
  return parts.join(' ');
}

/** The facts a call summary line is made of. */
export interface CallSummaryInput {
  readonly direction: 'inbound' | 'outbound' | string;
  /** `answered`, `missed`, `voicemail`, … */
  readonly outcome: string;
  /** The other party's number as it should be shown. */
  readonly number?: string;
  readonly talkSeconds: number;
}

/**
 * One-line call summary: `Inbound call from +33123456789, answered (3 min 12 s)`; unanswered
 * calls carry no duration: `Outbound call to +33123456789, missed`.
 */
export function formatCallSummary(call: CallSummaryInput): string {
  const inbound = call.direction === 'inbound';
  const head = `${inbound ? 'Inbound' : 'Outbound'} call`;
  const who = call.number ? ` ${inbound ? 'from' : 'to'} ${call.number}` : '';
  const duration = call.outcome === 'answered' ? ` (${formatDuration(call.talkSeconds)})` : '';
  return `${head}${who}, ${call.outcome}${duration}`;
}
