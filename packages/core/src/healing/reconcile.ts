import type { Call } from '../calls/types.js';
import { DEFAULT_COUNTRY } from '../config/defaults.js';
import { type PhoneNumber, parsePhone } from '../phone/index.js';
import type { OvhCallRecord, OvhLineRef } from './call-records.js';

/** What the healer remembers of a call seen on the stream (enough to match a call record). */
export interface SeenCall {
  readonly callId: string;
  /** Every line the call rang or used, E.164 (else digits). */
  readonly lines: readonly string[];
  /** The other party, E.164 (else digits); '' when withheld. */
  readonly remote: string;
  readonly direction: 'inbound' | 'outbound' | 'internal';
  /** Epoch ms. */
  readonly startedAt: number;
}

/** A seen call reduced to what matching needs. */
export function seenCallOf(call: Call): SeenCall {
  const key = (phone: PhoneNumber) => (phone.withheld ? '' : (phone.e164 ?? phone.raw.replace(/\D/g, '')));
  const lines = new Set([key(call.line), ...call.linesRung.map((line) => line)].filter((l) => l !== ''));
  return {
    callId: call.id,
    lines: [...lines],
    remote: key(call.remote),
    direction: call.direction,
    startedAt: call.startedAt.getTime(),
  };
}

/** Options of {@link reconcile}. */
export interface ReconcileOptions {
  /** A record and a seen call whose starts differ by more than this are different calls (default 15 s). */
  readonly matchWindowMs?: number;
  /** Country for national numbers (default FR). */
  readonly defaultCountry?: string;
}

/** Result of {@link reconcile}. */
export interface Reconciliation {
  /** Records matched with a call seen on the stream, with the start difference. */
  readonly matched: ReadonlyArray<{
    readonly record: OvhCallRecord;
    readonly callId: string;
    readonly deltaMs: number;
  }>;
  /** Records no seen call accounts for: calls the stream missed. */
  readonly missing: readonly OvhCallRecord[];
}

function numberKey(raw: string, country: string): string {
  if (raw.trim() === '') return '';
  const phone = parsePhone(raw, { defaultCountry: country });
  return phone.withheld ? '' : (phone.e164 ?? raw.replace(/\D/g, ''));
}

/** The record's other party: the caller of an incoming call, the called number of an outgoing one. */
function remoteOf(record: OvhCallRecord, line: string, country: string): string {
  const calling = numberKey(record.calling, country);
  const called = numberKey(record.dialed ?? record.called, country);
  if (record.wayType === 'outgoing') return called === line ? calling : called;
  return calling === line ? called : calling;
}

/**
 * Matches one line's call records with the calls seen on the stream. The rules (docs/healing.md):
 * a record and a seen call are the same call when the call used the record's line, has the same
 * other party (both withheld counts as the same), the same direction (`incoming` and `transfer`
 * are inbound, `outgoing` is outbound; an internal call matches either) and starts within
 * `matchWindowMs` of it. Each record matches at most one call and each call at most one record,
 * closest starts first. What is left of the records is what the stream missed.
 */
export function reconcile(
  line: OvhLineRef,
  records: readonly OvhCallRecord[],
  seen: readonly SeenCall[],
  options: ReconcileOptions = {},
): Reconciliation {
  const country = options.defaultCountry ?? DEFAULT_COUNTRY;
  const window = options.matchWindowMs ?? 15_000;
  const lineKey = numberKey(line.serviceName, country);
  const candidates: Array<{ record: OvhCallRecord; call: SeenCall; deltaMs: number }> = [];
  for (const record of records) {
    const remote = remoteOf(record, lineKey, country);
    const inbound = record.wayType !== 'outgoing';
    for (const call of seen) {
      if (!call.lines.includes(lineKey)) continue;
      if (call.remote !== remote) continue;
      if (call.direction !== 'internal' && (call.direction === 'inbound') !== inbound) continue;
      const deltaMs = Math.abs(call.startedAt - record.startedAt.getTime());
      if (deltaMs > window) continue;
      candidates.push({ record, call, deltaMs });
    }
  }
  candidates.sort((a, b) => a.deltaMs - b.deltaMs || a.record.consumptionId - b.record.consumptionId);
  const usedRecords = new Set<number>();
  const usedCalls = new Set<string>();
  const matched: Array<{ record: OvhCallRecord; callId: string; deltaMs: number }> = [];
  for (const { record, call, deltaMs } of candidates) {
    if (usedRecords.has(record.consumptionId) || usedCalls.has(call.callId)) continue;
    usedRecords.add(record.consumptionId);
    usedCalls.add(call.callId);
    matched.push({ record, callId: call.callId, deltaMs });
  }
  return { matched, missing: records.filter((record) => !usedRecords.has(record.consumptionId)) };
}

/** The reason a healed call carries. */
export const HEALED_REASON =
  'healed from OVH call records (the event stream missed this call): ring time, hold, queue and who answered are unknown';

/**
 * A call the stream missed, rebuilt from its record: direction, line, other party, start, and the
 * duration as talk time when it was answered. What the record does not say stays unknown (0), and
 * the call is `inferred` with {@link HEALED_REASON}. Its id is `ovh-cdr-<consumptionId>`, so healing
 * it twice logs it once.
 */
export function healedCall(
  record: OvhCallRecord,
  line: OvhLineRef,
  token: string,
  defaultCountry = DEFAULT_COUNTRY,
): Call {
  const linePhone = parsePhone(line.serviceName, { defaultCountry });
  const lineKey = linePhone.e164 ?? line.serviceName;
  const remoteKey = remoteOf(record, lineKey, defaultCountry);
  const remote: PhoneNumber =
    remoteKey === '' ? { raw: '', withheld: true } : parsePhone(remoteKey, { defaultCountry });
  const outbound = record.wayType === 'outgoing';
  const answered = record.durationSeconds > 0 && record.hangupNature !== 'missed';
  const startedAt = record.startedAt;
  const endedAt = new Date(startedAt.getTime() + record.durationSeconds * 1000);
  return {
    id: `ovh-cdr-${record.consumptionId}`,
    token,
    direction: outbound ? 'outbound' : 'inbound',
    state: 'ended',
    outcome: answered ? 'answered' : outbound ? 'cancelled' : 'missed',
    line: linePhone,
    remote,
    linesRung: [lineKey],
    startedAt,
    ...(answered ? { answeredAt: startedAt } : {}),
    endedAt,
    ringSeconds: 0,
    talkSeconds: answered ? record.durationSeconds : 0,
    holdSeconds: 0,
    inferred: true,
    inferredReason: HEALED_REASON,
  };
}
