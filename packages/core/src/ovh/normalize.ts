import type { ZodError } from 'zod';
import { type PhoneNumber, parsePhone } from '../phone/index.js';
import type {
  LineEventName,
  OvhEvent,
  OvhLineDetails,
  OvhLineEvent,
  OvhQueueEvent,
  OvhUnknownEvent,
  QueueEventName,
  RawOvhEvent,
} from './types.js';
import {
  fitsSpec,
  fitsWireEvent,
  isRawEvent,
  WIRE_LINE_DATA_SPEC,
  WIRE_QUEUE_DATA_SPEC,
  type WireEvent,
  type WireLineData,
  type WireQueueData,
  wireEventSchema,
  wireLineDataSchema,
  wireQueueDataSchema,
} from './wire.js';

/** Options of {@link normalizeEvent}. */
export interface NormalizeOptions {
  /** The token the event was polled with; used when the event carries no `Token`. */
  readonly token: string;
  /** Country for national numbers (`0612345678`). Default `FR`. */
  readonly defaultCountry?: string;
}

/** Result of {@link normalizeEvent}: never throws. `raw` is the input, for reporting. */
export type NormalizeResult =
  | { readonly ok: true; readonly event: OvhEvent }
  | { readonly ok: false; readonly error: string; readonly raw: unknown };

const LINE_EVENTS: ReadonlySet<string> = new Set<LineEventName>([
  'start_ringing',
  'start_calling',
  'end_ringing',
  'end_calling',
  'start_hold',
  'end_hold',
  'registered',
]);

/** Queue event names as sent (both spellings) → normalised name. */
const QUEUE_EVENTS: ReadonlyMap<string, QueueEventName> = new Map<string, QueueEventName>([
  ['member-queue-start', 'member-queue-start'],
  ['member-queue-resume', 'member-queue-resume'],
  ['member-queue-end', 'member-queue-end'],
  ['agent-offering', 'agent-offering'],
  ['bridge-agent-start', 'bridge-agent-start'],
  ['bridge-agent-end', 'bridge-agent-end'],
  ['bridge-agent-fail', 'bridge-agent-fail'],
  ['bridge-agent-failed', 'bridge-agent-fail'],
  ['members-count', 'members-count'],
  ['member-count', 'members-count'],
]);

/** Normalises an event name: `member-count` → `members-count`, `bridge-agent-failed` → `bridge-agent-fail`. */
export function normalizeEventName(name: string): string {
  return QUEUE_EVENTS.get(name) ?? name;
}

// ---------------------------------------------------------------------------------------------
// Phone numbers: the same few numbers come back in every event, so parsed numbers are cached.

const PHONE_CACHE_LIMIT = 20_000;
const phoneCaches = new Map<string, Map<string, PhoneNumber>>();

/**
 * `parsePhone` with a bounded cache per default country (results are frozen and shared).
 * libphonenumber is by far the most expensive step of normalisation, and a stream repeats the same
 * numbers all day long.
 */
export function parsePhoneCached(raw: string | undefined | null, defaultCountry: string): PhoneNumber {
  const text = raw ?? '';
  let cache = phoneCaches.get(defaultCountry);
  if (!cache) {
    cache = new Map();
    phoneCaches.set(defaultCountry, cache);
  }
  const hit = cache.get(text);
  if (hit) return hit;
  const parsed = Object.freeze(parsePhone(text, { defaultCountry }));
  if (cache.size >= PHONE_CACHE_LIMIT) cache.clear();
  cache.set(text, parsed);
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Times.

const DIGITS = /^-?\d+$/;

/**
 * Reads a nanosecond timestamp losslessly: digit strings and bigints exactly; JS numbers (already
 * rounded by whoever parsed them) and decimal strings as well as they allow. Undefined when unusable.
 */
export function toNanoseconds(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'string') {
    const text = value.trim();
    if (DIGITS.test(text)) return BigInt(text);
    const n = Number(text);
    return Number.isFinite(n) && text !== '' ? BigInt(Math.round(n)) : undefined;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return BigInt(Math.round(value));
  return undefined;
}

/** Epoch seconds (number or numeric string, decimals allowed) → epoch ms; undefined when unusable or ≤ 0. */
export function secondsToMs(value: unknown): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && value.trim() !== '') n = Number(value);
  else if (typeof value === 'bigint') n = Number(value);
  else return undefined;
  return Number.isFinite(n) && n > 0 ? Math.round(n * 1000) : undefined;
}

const ZONE_OFFSETS: Readonly<Record<string, string>> = {
  CET: '+01:00',
  CEST: '+02:00',
  UTC: 'Z',
  GMT: 'Z',
  Z: 'Z',
};

const OVH_DATE =
  /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:\(([A-Za-z]+)\)|([+-]\d{2}:?\d{2}|Z))?$/;

/**
 * Reads OVH's `Date` (`2015-03-05T12:24:30.255954 (CET)`: Paris wall time with a zone label, not
 * ISO-8601) into epoch ms. `(CEST)` is +02:00; an unknown or missing label is read as Paris time.
 */
export function parseOvhDate(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = OVH_DATE.exec(value.trim());
  if (!match) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  const [, day, time, label, offset] = match;
  const wall = `${day}T${(time ?? '').replace(/(\.\d{3})\d+$/, '$1')}`;
  let zone = offset ?? (label ? ZONE_OFFSETS[label.toUpperCase()] : undefined);
  if (zone && zone !== 'Z' && !zone.includes(':')) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  if (zone) {
    const ms = Date.parse(`${wall}${zone}`);
    return Number.isNaN(ms) ? undefined : ms;
  }
  // Paris wall time: try +01:00 then check which offset Paris really had at that instant.
  const winter = Date.parse(`${wall}+01:00`);
  if (Number.isNaN(winter)) return undefined;
  return parisOffsetMinutes(winter) === 120 ? winter - 3_600_000 : winter;
}

const parisFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Paris',
  timeZoneName: 'shortOffset',
});

function parisOffsetMinutes(ms: number): number {
  const name = parisFormat.formatToParts(ms).find((part) => part.type === 'timeZoneName')?.value ?? '';
  const m = /GMT([+-]\d+)(?::(\d+))?/.exec(name);
  return m ? Number(m[1]) * 60 + Math.sign(Number(m[1])) * Number(m[2] ?? 0) : 0;
}

// ---------------------------------------------------------------------------------------------

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function toDetails(details: WireEvent['Details']): OvhLineDetails {
  if (!details) return {};
  const out: { -readonly [K in keyof OvhLineDetails]: OvhLineDetails[K] } = {};
  const description = str(details.Description);
  if (description !== undefined) out.description = description;
  const id = str(details.Id);
  if (id !== undefined) out.id = id;
  const billing = str(details.IdBillingAccount);
  if (billing !== undefined) out.billingAccountId = billing;
  const lines = details.SimultaneousLine;
  const n = typeof lines === 'number' ? lines : typeof lines === 'string' ? Number(lines) : Number.NaN;
  if (Number.isFinite(n) && lines !== '') out.simultaneousLines = n;
  const type = str(details.Type);
  if (type !== undefined) out.type = type;
  return out;
}

/** `agent_0033972123456_id` (or `agent_0033972123456_12`) → `0033972123456`. */
const AGENT_ID = /^agent_(\+?\d{3,})(?:_|$)/;

/** The number embedded in a queue agent id, if any (`agent_0033972123456_id` → `0033972123456`). */
export function agentNumberOf(agent: string | undefined): string | undefined {
  if (!agent) return undefined;
  return AGENT_ID.exec(agent)?.[1];
}

/** A caller-id "name" that is really a number (`+33612345678`, `0612345678`). */
const NUMBER_LIKE = /^\+?[\d\s().-]{6,}$/;

function failure(raw: unknown, error: string): NormalizeResult {
  return { ok: false, error, raw };
}

/**
 * Validates and normalises one raw OVH v1 event (as produced by {@link parseEnvelope}, or any
 * already-parsed object) into an {@link OvhEvent}. Never throws.
 *
 * - Line events (`start_ringing`, `start_calling`, `end_ringing`, `end_calling`, `start_hold`,
 *   `end_hold`, `registered`) need `Data.CallId` (except `registered`).
 * - Queue events (both `member-count`/`members-count` and `bridge-agent-fail(ed)`) need a queue
 *   (`Data.Queue` or `Ressource`) and, except `members-count`, `Data.QueueMemberUUID`.
 * - Any other event name becomes `kind: 'unknown'`, passed through with `raw`.
 * - `at` comes from `Data.Ts` (epoch seconds, number or string), else `Timestamp` (ns), else `Date`;
 *   an event with none of them is invalid.
 * - Numbers in `0033…`, `+33…` or national notation are read with `defaultCountry` (default `FR`).
 */
export function normalizeEvent(raw: unknown, options: NormalizeOptions): NormalizeResult {
  try {
    return normalizeUnsafe(raw, options);
  } catch (error) {
    return failure(
      raw,
      `event could not be normalised: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function normalizeUnsafe(raw: unknown, options: NormalizeOptions): NormalizeResult {
  if (!isRawEvent(raw)) return failure(raw, 'event is not an object');
  let wire: WireEvent;
  if (fitsWireEvent(raw)) wire = raw as WireEvent;
  else {
    const parsed = wireEventSchema.safeParse(raw);
    if (!parsed.success) return failure(raw, `invalid event: ${summarise(parsed.error)}`);
    wire = parsed.data;
  }
  const country = options.defaultCountry ?? 'FR';
  const sentName = wire.Event;
  const name = normalizeEventName(sentName);
  const data = wire.Data ?? {};
  const timestampNs = toNanoseconds(wire.Timestamp);
  const atMs =
    secondsToMs(data.Ts) ??
    (timestampNs !== undefined && timestampNs > 0n ? Number(timestampNs / 1_000_000n) : undefined) ??
    parseOvhDate(wire.Date);
  if (atMs === undefined) return failure(raw, `${sentName}: no usable time (Data.Ts, Timestamp or Date)`);
  const token = str(wire.Token) ?? options.token;
  const service = str(wire.Service) ?? '';
  const resource = str(wire.Ressource) ?? '';
  const at = new Date(atMs);
  const details = toDetails(wire.Details);
  const rawEvent = raw as RawOvhEvent;

  if (LINE_EVENTS.has(name)) {
    let d: WireLineData;
    if (fitsSpec(data, WIRE_LINE_DATA_SPEC)) d = data as WireLineData;
    else {
      const line = wireLineDataSchema.safeParse(data);
      if (!line.success) return failure(raw, `${sentName}: invalid Data: ${summarise(line.error)}`);
      d = line.data;
    }
    const callId = str(d.CallId);
    if (callId === undefined && name !== 'registered')
      return failure(raw, `${sentName}: Data.CallId is missing`);
    const protocol = str(d.Protocol);
    const dialed = str(d.Dialed);
    const event: OvhLineEvent = {
      kind: 'line',
      name: name as LineEventName,
      token,
      service: service || (protocol ?? ''),
      resource,
      timestampNs,
      at,
      details,
      raw: rawEvent,
      callId: callId ?? '',
      calling: parsePhoneCached(str(d.Calling), country),
      called: parsePhoneCached(str(d.Called), country),
      dialed: dialed === undefined ? undefined : parsePhoneCached(dialed, country),
      line: parsePhoneCached(str(d.Billing) ?? resource, country),
      protocol,
    };
    return { ok: true, event };
  }

  if (QUEUE_EVENTS.has(sentName)) {
    let d: WireQueueData;
    if (fitsSpec(data, WIRE_QUEUE_DATA_SPEC)) d = data as WireQueueData;
    else {
      const queueData = wireQueueDataSchema.safeParse(data);
      if (!queueData.success) return failure(raw, `${sentName}: invalid Data: ${summarise(queueData.error)}`);
      d = queueData.data;
    }
    const queue = str(d.Queue) ?? resource;
    if (!queue) return failure(raw, `${sentName}: no queue (Data.Queue or Ressource)`);
    const memberUuid = str(d.QueueMemberUUID);
    if (memberUuid === undefined && name !== 'members-count') {
      return failure(raw, `${sentName}: Data.QueueMemberUUID is missing`);
    }
    const cidNumber = str(d.QueueMemberCIDNumber);
    const cidName = str(d.QueueMemberCIDName);
    const nameIsNumber = cidName !== undefined && NUMBER_LIKE.test(cidName);
    const callerRaw = cidNumber ?? (nameIsNumber ? cidName : undefined) ?? str(d.Calling);
    const agent = str(d.QueueAgent) ?? str(d.Agent);
    const agentNumber = agentNumberOf(agent);
    const count = d.Count === undefined || d.Count === null || d.Count === '' ? Number.NaN : Number(d.Count);
    // One literal with every key (absent values undefined): one stable object shape for all
    // queue events, which keeps this hot path and its consumers fast.
    const event: OvhQueueEvent = {
      kind: 'queue',
      name: name as QueueEventName,
      token,
      service: service || 'queues',
      resource,
      timestampNs,
      at,
      details,
      raw: rawEvent,
      queue,
      memberUuid,
      memberSessionUuid: str(d.QueueMemberSessionUUID),
      caller: callerRaw === undefined ? undefined : parsePhoneCached(callerRaw, country),
      callerName: cidName !== undefined && !nameIsNumber ? cidName : undefined,
      agent,
      agentNumber: agentNumber === undefined ? undefined : parsePhoneCached(agentNumber, country),
      cause: str(d.QueueCause),
      cancelReason: str(d.QueueCancelReason),
      hangupCause: str(d.QueueHangupCause),
      joinedAt: toDate(d.QueueMemberJoinedTime),
      leftAt: toDate(d.QueueMemberLeavingTime),
      agentCalledAt: toDate(d.QueueAgentCalledTime),
      agentAnsweredAt: toDate(d.QueueAgentAnsweredTime),
      bridgeTerminatedAt: toDate(d.QueueBridgeTerminatedTime),
      count: Number.isFinite(count) ? count : undefined,
    };
    return { ok: true, event };
  }

  const unknown: OvhUnknownEvent = {
    kind: 'unknown',
    name,
    token,
    service,
    resource,
    timestampNs,
    at,
    details,
    raw: rawEvent,
  };
  return { ok: true, event: unknown };
}

function toDate(seconds: unknown): Date | undefined {
  const ms = secondsToMs(seconds);
  return ms === undefined ? undefined : new Date(ms);
}

function summarise(error: ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}
