import type { ZodError } from 'zod';
import { DEFAULT_COUNTRY } from '../config/defaults.js';
import { parsePhoneCached } from '../phone/phone-cache.js';
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
  fitsWireEvent,
  isRawEvent,
  readLineData,
  readQueueData,
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
  /** Sequence number of the poll (per token) that brought the event; set as {@link OvhEventBase.poll}. */
  readonly poll?: number;
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

/** Every known name as sent → its kind and normalised name: one lookup per event on the hot path. */
const KNOWN_EVENTS: ReadonlyMap<string, KnownEvent> = new Map<string, KnownEvent>([
  ...[...LINE_EVENTS].map((name): [string, KnownEvent] => [name, { kind: 'line', name }]),
  ...[...QUEUE_EVENTS].map(([sent, name]): [string, KnownEvent] => [sent, { kind: 'queue', name }]),
]);

interface KnownEvent {
  readonly kind: 'line' | 'queue';
  readonly name: string;
}

/** Normalises an event name: `member-count` → `members-count`, `bridge-agent-failed` → `bridge-agent-fail`. */
export function normalizeEventName(name: string): string {
  return QUEUE_EVENTS.get(name) ?? name;
}

// Phone numbers: the same few numbers come back in every event, so parsed numbers are cached
// (bounded: see `phone/phone-cache.ts`). Exported from here, as before.

export { parsePhoneCached };

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
    const fast = digitsToBigInt(value);
    if (fast !== undefined) return fast;
    const text = value.trim();
    if (DIGITS.test(text)) return BigInt(text);
    const n = Number(text);
    return Number.isFinite(n) && text !== '' ? BigInt(Math.round(n)) : undefined;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return BigInt(Math.round(value));
  return undefined;
}

const BILLION = 1_000_000_000n;

/**
 * `BigInt(text)` for a plain string of 16 to 24 digits (what `Timestamp` is), read as two exact
 * doubles, which is faster than parsing the string as a bigint; undefined for anything else.
 */
function digitsToBigInt(text: string): bigint | undefined {
  const length = text.length;
  if (length < 16 || length > 24) return undefined;
  const cut = length - 9;
  let hi = 0;
  for (let i = 0; i < cut; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    hi = hi * 10 + digit;
  }
  let lo = 0;
  for (let i = cut; i < length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    lo = lo * 10 + digit;
  }
  // Consecutive events mostly fall in the same second: keep hi · 10^9 of the previous one.
  if (hi !== lastHi) {
    lastHi = hi;
    lastHiBig = BigInt(hi) * BILLION;
  }
  return lastHiBig + BigInt(lo);
}

let lastHi = 0;
let lastHiBig = 0n;

/**
 * Epoch seconds written `1767603600` or `1767603600.123` (at most 10 + 3 digits, no sign, no
 * spaces) → epoch ms, read from the characters: exactly `Math.round(Number(text) * 1000)` for these
 * shapes, without the string-to-double conversion. Undefined for any other shape.
 */
function plainSecondsToMs(text: string): number | undefined {
  const length = text.length;
  let seconds = 0;
  let i = 0;
  for (; i < length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) break;
    seconds = seconds * 10 + digit;
  }
  if (i === 0 || i > 10) return undefined;
  if (i === length) return seconds * 1000;
  if (text.charCodeAt(i) !== 46 /* . */ || length - i - 1 > 3 || length - i - 1 === 0) return undefined;
  let ms = 0;
  let scale = 100;
  for (i++; i < length; i++, scale /= 10) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    ms += digit * scale;
  }
  return seconds * 1000 + ms;
}

/** Epoch seconds (number or numeric string, decimals allowed) → epoch ms; undefined when unusable or ≤ 0. */
export function secondsToMs(value: unknown): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string') {
    const ms = plainSecondsToMs(value);
    if (ms !== undefined) return ms > 0 ? ms : undefined;
    if (value.trim() === '') return undefined;
    n = Number(value);
  } else if (typeof value === 'bigint') n = Number(value);
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

// Created on first use: building a time-zone formatter maps ICU's zone and locale data (about
// 6 MB of resident memory) and most events never need it (they carry `Ts` or a zone label).
let parisFormat: Intl.DateTimeFormat | undefined;

function parisOffsetMinutes(ms: number): number {
  parisFormat ??= new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Paris',
    timeZoneName: 'shortOffset',
  });
  const name = parisFormat.formatToParts(ms).find((part) => part.type === 'timeZoneName')?.value ?? '';
  const m = /GMT([+-]\d+)(?::(\d+))?/.exec(name);
  return m ? Number(m[1]) * 60 + Math.sign(Number(m[1])) * Number(m[2] ?? 0) : 0;
}

// ---------------------------------------------------------------------------------------------

/**
 * The longest text we keep from any field of an event (ids, numbers, names, labels). Real values
 * are far shorter; a hostile or broken stream must not make the tracker and its snapshots hold
 * megabytes per call.
 */
export const MAX_FIELD_LENGTH = 256;

let clipped = 0;

/** How many fields were clipped to {@link MAX_FIELD_LENGTH} since the last call (then resets). */
export function takeClippedFieldCount(): number {
  const count = clipped;
  clipped = 0;
  return count;
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string') {
    if (value === '') return undefined;
    if (value.length <= MAX_FIELD_LENGTH) return value;
    clipped++;
    return value.slice(0, MAX_FIELD_LENGTH);
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function toDetails(details: WireEvent['Details']): OvhLineDetails {
  if (!details) return {};
  const description = str(details.Description);
  const id = str(details.Id);
  const billing = str(details.IdBillingAccount);
  const lines = details.SimultaneousLine;
  const n = typeof lines === 'number' ? lines : typeof lines === 'string' ? Number(lines) : Number.NaN;
  const simultaneous = Number.isFinite(n) && lines !== '';
  const type = str(details.Type);
  // Usually all there: one literal (one allocation, same key order as below).
  if (
    description !== undefined &&
    id !== undefined &&
    billing !== undefined &&
    simultaneous &&
    type !== undefined
  )
    return { description, id, billingAccountId: billing, simultaneousLines: n, type };
  const out: { -readonly [K in keyof OvhLineDetails]: OvhLineDetails[K] } = {};
  if (description !== undefined) out.description = description;
  if (id !== undefined) out.id = id;
  if (billing !== undefined) out.billingAccountId = billing;
  if (simultaneous) out.simultaneousLines = n;
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
  const country = options.defaultCountry ?? DEFAULT_COUNTRY;
  const sentName = wire.Event.length > MAX_FIELD_LENGTH ? wire.Event.slice(0, MAX_FIELD_LENGTH) : wire.Event;
  const known = KNOWN_EVENTS.get(sentName);
  const name = known === undefined ? sentName : known.name;
  const data = wire.Data ?? {};
  // Data's fields, read once each when they fit the spec of the event's kind (zod runs further down
  // when they do not, after the time, so that errors are reported in the same order).
  const fast =
    known === undefined ? undefined : known.kind === 'line' ? readLineData(data) : readQueueData(data);
  const timestampNs = toNanoseconds(wire.Timestamp);
  const atMs =
    secondsToMs(fast === undefined ? data.Ts : fast.Ts) ??
    (timestampNs !== undefined && timestampNs > 0n ? Number(timestampNs / 1_000_000n) : undefined) ??
    parseOvhDate(wire.Date);
  if (atMs === undefined) return failure(raw, `${sentName}: no usable time (Data.Ts, Timestamp or Date)`);
  const header: EventHeader = {
    sentName,
    name,
    country,
    token: str(wire.Token) ?? options.token,
    service: str(wire.Service) ?? '',
    resource: str(wire.Ressource) ?? '',
    timestampNs,
    at: new Date(atMs),
    details: toDetails(wire.Details),
    raw: raw as RawOvhEvent,
    poll: options.poll,
  };
  if (known?.kind === 'line') return lineEvent(raw, header, fast as WireLineData | undefined, data);
  if (known?.kind === 'queue') return queueEvent(raw, header, fast as WireQueueData | undefined, data);
  const unknown: OvhUnknownEvent = {
    kind: 'unknown',
    name,
    token: header.token,
    service: header.service,
    resource: header.resource,
    timestampNs,
    at: header.at,
    details: header.details,
    raw: header.raw,
    poll: options.poll,
  };
  return { ok: true, event: unknown };
}

/** What events of every kind share, read by {@link normalizeUnsafe} before the kind's own fields. */
interface EventHeader {
  /** The event name as sent (clipped). */
  readonly sentName: string;
  /** The normalised name. */
  readonly name: string;
  /** Country for national numbers. */
  readonly country: string;
  readonly token: string;
  readonly service: string;
  readonly resource: string;
  readonly timestampNs: bigint | undefined;
  readonly at: Date;
  readonly details: OvhLineDetails;
  readonly raw: RawOvhEvent;
  readonly poll: number | undefined;
}

/** A line event from its header and `Data` (`fast` when it fit the spec, else zod reads `data`). */
function lineEvent(
  raw: unknown,
  h: EventHeader,
  fast: WireLineData | undefined,
  data: unknown,
): NormalizeResult {
  const { sentName, name, country } = h;
  let d = fast;
  if (d === undefined) {
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
    token: h.token,
    service: h.service || (protocol ?? ''),
    resource: h.resource,
    timestampNs: h.timestampNs,
    at: h.at,
    details: h.details,
    raw: h.raw,
    poll: h.poll,
    callId: callId ?? '',
    calling: parsePhoneCached(str(d.Calling), country),
    called: parsePhoneCached(str(d.Called), country),
    dialed: dialed === undefined ? undefined : parsePhoneCached(dialed, country),
    line: parsePhoneCached(str(d.Billing) ?? h.resource, country),
    protocol,
  };
  return { ok: true, event };
}

/** A queue event from its header and `Data` (`fast` when it fit the spec, else zod reads `data`). */
function queueEvent(
  raw: unknown,
  h: EventHeader,
  fast: WireQueueData | undefined,
  data: unknown,
): NormalizeResult {
  const { sentName, name, country } = h;
  let d = fast;
  if (d === undefined) {
    const queueData = wireQueueDataSchema.safeParse(data);
    if (!queueData.success) return failure(raw, `${sentName}: invalid Data: ${summarise(queueData.error)}`);
    d = queueData.data;
  }
  const queue = str(d.Queue) ?? h.resource;
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
    token: h.token,
    service: h.service || 'queues',
    resource: h.resource,
    timestampNs: h.timestampNs,
    at: h.at,
    details: h.details,
    raw: h.raw,
    poll: h.poll,
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
