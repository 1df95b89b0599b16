import { z } from 'zod';
import type { RawOvhEvent } from './types.js';

/**
 * Wire format of the OVH CTI v1 stream (`events.voip.ovh.net`), as zod 4 schemas.
 *
 * Everything is tolerant (see reference §6): unknown keys pass through, numbers may come as strings,
 * `Timestamp`/`TsGet` exceed 2^53 and are kept as digit strings (see {@link parseEnvelope}).
 */

/** A JSON number, a numeric string, or a bigint (big integers are carried as digit strings). */
export const wireNumeric = z.union([z.number(), z.string(), z.bigint()]);

/** `Details`: the OVH line (or queue) an event belongs to. Ids come as strings of digits or numbers. */
export const wireDetailsSchema = z.looseObject({
  Description: z.string().nullish(),
  Id: z.union([z.string(), z.number()]).nullish(),
  IdBillingAccount: z.union([z.string(), z.number()]).nullish(),
  SimultaneousLine: z.union([z.string(), z.number()]).nullish(),
  Type: z.string().nullish(),
});

/** What every v1 event has at the top level. Only `Event` is required. */
export const wireEventSchema = z.looseObject({
  Event: z.string().min(1),
  Service: z.string().nullish(),
  Ressource: z.string().nullish(),
  Token: z.string().nullish(),
  Timestamp: wireNumeric.nullish(),
  Date: z.string().nullish(),
  Details: wireDetailsSchema.nullish(),
  Data: z.looseObject({}).nullish(),
});

/** `Data` of a line (SIP/MGCP) event. `CallId` is required except on `registered`. */
export const wireLineDataSchema = z.looseObject({
  CallId: z.string().nullish(),
  Calling: z.string().nullish(),
  Called: z.string().nullish(),
  Dialed: z.string().nullish(),
  Billing: z.string().nullish(),
  Protocol: z.string().nullish(),
  Body: z.string().nullish(),
  Cseq: z.string().nullish(),
  RelevantInfo: z.string().nullish(),
  Event: z.string().nullish(),
  Ts: wireNumeric.nullish(),
  TsGet: wireNumeric.nullish(),
});

/**
 * `Data` of a queue (mod_callcenter) event: FreeSWITCH `CC-*` headers renamed `Queue*`, plus the
 * unprefixed `Queue`, `Action`, `Count`, `Agent` OVH adds. Times are epoch seconds as strings.
 */
export const wireQueueDataSchema = z.looseObject({
  Queue: z.string().nullish(),
  Action: z.string().nullish(),
  Count: wireNumeric.nullish(),
  Agent: z.string().nullish(),
  QueueAgent: z.string().nullish(),
  QueueAgentSystem: z.string().nullish(),
  QueueAgentUUID: z.string().nullish(),
  QueueMemberUUID: z.string().nullish(),
  QueueMemberSessionUUID: z.string().nullish(),
  QueueMemberCIDName: z.string().nullish(),
  QueueMemberCIDNumber: z.string().nullish(),
  QueueMemberDNIS: z.string().nullish(),
  QueueCause: z.string().nullish(),
  QueueCancelReason: z.string().nullish(),
  QueueHangupCause: z.string().nullish(),
  QueueMemberJoinedTime: wireNumeric.nullish(),
  QueueMemberLeavingTime: wireNumeric.nullish(),
  QueueAgentCalledTime: wireNumeric.nullish(),
  QueueAgentAnsweredTime: wireNumeric.nullish(),
  QueueBridgeTerminatedTime: wireNumeric.nullish(),
  Calling: z.string().nullish(),
  Called: z.string().nullish(),
  Ts: wireNumeric.nullish(),
  TsGet: wireNumeric.nullish(),
});

/**
 * The v1 response body: `{Session, Message, Events[]}`. `Events` items are validated one by one
 * later (a bad event must not reject its neighbours), so they are `unknown` here.
 */
export const wireEnvelopeSchema = z.looseObject({
  Session: z.string().nullish(),
  Message: z.string().nullish(),
  Events: z.array(z.unknown()).nullish(),
});

/**
 * Fast structural checks equivalent to the schemas above, for the hot path: a stream validates
 * tens of thousands of events, and most are well-formed. When a check fails the zod schema runs and
 * produces the error message (the tests check that a fast check never accepts what zod rejects).
 * Letters: s = string, n = finite number, b = bigint, o = plain object; `!` = required.
 */
type FieldSpec = Readonly<Record<string, string>>;

const NUMERIC = 'nsb';
const ID = 'sn';

/** Fast check spec of {@link wireEventSchema}. */
export const WIRE_EVENT_SPEC: FieldSpec = {
  Event: 's!',
  Service: 's',
  Ressource: 's',
  Token: 's',
  Timestamp: NUMERIC,
  Date: 's',
  Details: 'o',
  Data: 'o',
};

/** Fast check spec of {@link wireDetailsSchema}. */
export const WIRE_DETAILS_SPEC: FieldSpec = {
  Description: 's',
  Id: ID,
  IdBillingAccount: ID,
  SimultaneousLine: ID,
  Type: 's',
};

/** Fast check spec of {@link wireLineDataSchema}. */
export const WIRE_LINE_DATA_SPEC: FieldSpec = {
  CallId: 's',
  Calling: 's',
  Called: 's',
  Dialed: 's',
  Billing: 's',
  Protocol: 's',
  Body: 's',
  Cseq: 's',
  RelevantInfo: 's',
  Event: 's',
  Ts: NUMERIC,
  TsGet: NUMERIC,
};

/** Fast check spec of {@link wireQueueDataSchema}. */
export const WIRE_QUEUE_DATA_SPEC: FieldSpec = {
  Queue: 's',
  Action: 's',
  Count: NUMERIC,
  Agent: 's',
  QueueAgent: 's',
  QueueAgentSystem: 's',
  QueueAgentUUID: 's',
  QueueMemberUUID: 's',
  QueueMemberSessionUUID: 's',
  QueueMemberCIDName: 's',
  QueueMemberCIDNumber: 's',
  QueueMemberDNIS: 's',
  QueueCause: 's',
  QueueCancelReason: 's',
  QueueHangupCause: 's',
  QueueMemberJoinedTime: NUMERIC,
  QueueMemberLeavingTime: NUMERIC,
  QueueAgentCalledTime: NUMERIC,
  QueueAgentAnsweredTime: NUMERIC,
  QueueBridgeTerminatedTime: NUMERIC,
  Calling: 's',
  Called: 's',
  Ts: NUMERIC,
  TsGet: NUMERIC,
};

function fitsType(value: unknown, spec: string): boolean {
  switch (typeof value) {
    case 'string':
      return spec.includes('s') && (value !== '' || !spec.includes('!'));
    case 'number':
      return spec.includes('n') && Number.isFinite(value);
    case 'bigint':
      return spec.includes('b');
    case 'object':
      if (value === null) return !spec.includes('!');
      return spec.includes('o') && !Array.isArray(value);
    case 'undefined':
      return !spec.includes('!');
    default:
      return false;
  }
}

/**
 * True when every field named in `spec` has an accepted type (unknown fields are ignored, as the
 * loose schemas do). Never throws on plain data; a throwing getter propagates.
 */
export function fitsSpec(value: unknown, spec: FieldSpec): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  let entries = specEntries.get(spec);
  if (!entries) {
    entries = Object.entries(spec);
    specEntries.set(spec, entries);
  }
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as [string, string];
    if (!fitsType(record[entry[0]], entry[1])) return false;
  }
  return true;
}

const specEntries = new WeakMap<FieldSpec, Array<[string, string]>>();

/** Fast check of a whole top-level event, `Details` included (not `Data`, checked per kind). */
export function fitsWireEvent(value: unknown): boolean {
  if (!fitsSpec(value, WIRE_EVENT_SPEC)) return false;
  const details = (value as Record<string, unknown>).Details;
  return details === undefined || details === null || fitsSpec(details, WIRE_DETAILS_SPEC);
}

/** Wire type of a v1 event (top level). */
export type WireEvent = z.infer<typeof wireEventSchema>;
/** Wire type of a line event's `Data`. */
export type WireLineData = z.infer<typeof wireLineDataSchema>;
/** Wire type of a queue event's `Data`. */
export type WireQueueData = z.infer<typeof wireQueueDataSchema>;

/** A parsed v1 response body. */
export interface OvhEnvelope {
  /** The session cursor to echo on the next poll; empty string when the server sent none. */
  readonly session: string;
  /** `Message` as sent (content undocumented); empty string when absent. */
  readonly message: string;
  /** The raw events, `Timestamp`/`TsGet` as digit strings when they were integers on the wire. */
  readonly events: readonly unknown[];
}

/** Result of {@link parseEnvelope}: never throws. */
export type ParseEnvelopeResult =
  | { readonly ok: true; readonly envelope: OvhEnvelope }
  | { readonly ok: false; readonly error: string };

/**
 * Finds every number written under a `"Timestamp"` or `"TsGet"` key in raw JSON text, in text order,
 * and calls `visit(isTimestamp, start, end)` with its position. A key is recognised only as a whole
 * JSON string (not the tail of an escaped one) followed by `:`, and a number only when it ends the
 * value. No copy of the text.
 */
function scanBigNumbers(
  text: string,
  visit: (isTimestamp: boolean, start: number, end: number) => void,
): void {
  const { stamps, gets } = scanKeys(text);
  // Merge both lists (each in text order) so that visits come in text order.
  let a = 0;
  let b = 0;
  while (a < stamps.length || b < gets.length) {
    const sa = a < stamps.length ? (stamps[a] as number) : Number.POSITIVE_INFINITY;
    const sb = b < gets.length ? (gets[b] as number) : Number.POSITIVE_INFINITY;
    if (sa < sb) {
      visit(true, sa, stamps[a + 1] as number);
      a += 2;
    } else {
      visit(false, sb, gets[b + 1] as number);
      b += 2;
    }
  }
}

function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9;
}

/** A key and the number after it; checked further by hand in {@link scanKeys}. */
const KEY_AND_NUMBER = /"(Timestamp|TsGet)"[ \t\r\n]*:[ \t\r\n]*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

/**
 * Positions `[start, end, start, end, …]` of the numbers written under `"Timestamp"` and `"TsGet"`,
 * in text order. One regular-expression pass (faster here than repeated `indexOf`), then two
 * checks by hand: the key's quote is not escaped nor glued to a word, and the number ends the value.
 */
function scanKeys(text: string): { stamps: number[]; gets: number[] } {
  const stamps: number[] = [];
  const gets: number[] = [];
  const pattern = new RegExp(KEY_AND_NUMBER);
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const at = match.index;
    const before = at > 0 ? text.charCodeAt(at - 1) : 32;
    if (
      before === 92 /* \ */ ||
      before === 95 /* _ */ ||
      (before >= 48 && before <= 57) ||
      (before >= 65 && before <= 90) ||
      (before >= 97 && before <= 122)
    ) {
      continue;
    }
    const number = match[2] as string;
    const end = at + match[0].length;
    let j = end;
    while (j < text.length && isSpace(text.charCodeAt(j))) j++;
    const next = text.charCodeAt(j);
    if (next !== 44 && next !== 125 && next !== 93) continue; // , } ]
    (match[1] === 'Timestamp' ? stamps : gets).push(end - number.length, end);
  }
  return { stamps, gets };
}

/**
 * Rewrites the raw JSON text so that numbers under the keys `Timestamp` and `TsGet` (nanoseconds,
 * ≈1.5 × 10^18, above 2^53) become JSON strings, so that `JSON.parse` loses no digit. Everything
 * else is left byte for byte.
 */
export function quoteBigTimestamps(text: string): string {
  let out = '';
  let copied = 0;
  scanBigNumbers(text, (_isTimestamp, start, end) => {
    out += `${text.slice(copied, start)}"${text.slice(start, end)}"`;
    copied = end;
  });
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * After a plain `JSON.parse` of an envelope, puts back the exact digits of each event's
 * `Timestamp` and `Data.TsGet` (as strings), read from the text. Events are in text order, so the
 * n-th `Timestamp` number of the text belongs to the n-th event that has a numeric `Timestamp`;
 * every pairing is checked (same count, same value once rounded). Returns false, having possibly
 * changed some events, when anything does not line up (a nested `Timestamp` key, say): the caller
 * then parses the quoted text instead.
 */
function restoreBigNumbers(value: unknown, text: string): boolean {
  const { stamps: stampAt, gets: getAt } = scanKeys(text);
  // Two short slices (V8 copies slices under 13 characters) joined: the result does not keep the
  // whole body alive the way one long slice of it would.
  const digitsAt = (positions: number[], k: number): string | undefined => {
    const start = positions[k];
    const end = positions[k + 1];
    if (start === undefined || end === undefined) return undefined;
    const mid = Math.min(end, start + 10);
    return text.slice(start, mid) + text.slice(mid, end);
  };
  const stamps = { length: stampAt.length / 2 };
  const gets = { length: getAt.length / 2 };
  if (stamps.length === 0 && gets.length === 0) return true;
  const events = (value as { Events?: unknown } | null)?.Events;
  if (!Array.isArray(events)) return false;
  let s = 0;
  let g = 0;
  for (const event of events) {
    if (event === null || typeof event !== 'object') continue;
    const record = event as Record<string, unknown>;
    if (typeof record.Timestamp === 'number') {
      const digits = digitsAt(stampAt, 2 * s++);
      if (digits === undefined || Number(digits) !== record.Timestamp) return false;
      record.Timestamp = digits;
    }
    const data = record.Data;
    if (
      data !== null &&
      typeof data === 'object' &&
      typeof (data as { TsGet?: unknown }).TsGet === 'number'
    ) {
      const digits = digitsAt(getAt, 2 * g++);
      if (digits === undefined || Number(digits) !== (data as { TsGet: number }).TsGet) return false;
      (data as { TsGet: unknown }).TsGet = digits;
    }
  }
  return s === stamps.length && g === gets.length;
}

/** `JSON.parse` with `Timestamp`/`TsGet` kept exact: parse, then restore digits; else parse quoted text. */
function parseLossless(text: string): unknown {
  const value: unknown = JSON.parse(text);
  if (restoreBigNumbers(value, text)) return value;
  return JSON.parse(quoteBigTimestamps(text));
}

/**
 * Parses a v1 response body from its raw text. `Timestamp` and `TsGet` are read from the text
 * itself (not from a JS number), so they keep every digit; they come out as strings of digits, which
 * {@link normalizeEvent} turns into bigint. Never throws: a non-JSON body or a body that is not an
 * envelope gives `{ ok: false, error }` with a short, log-safe description.
 */
export function parseEnvelope(text: string): ParseEnvelopeResult {
  let value: unknown;
  try {
    value = parseLossless(text);
  } catch {
    const preview = text.slice(0, 80).replace(/\s+/g, ' ');
    return {
      ok: false,
      error: `body is not JSON (${text.length} bytes, starts with ${JSON.stringify(preview)})`,
    };
  }
  // The common shape first: no need to run the schema for a plain, well-formed envelope.
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    const session = record.Session;
    const message = record.Message;
    const events = record.Events;
    if (
      (session === undefined || session === null || typeof session === 'string') &&
      (message === undefined || message === null || typeof message === 'string') &&
      (events === undefined || events === null || Array.isArray(events))
    ) {
      return {
        ok: true,
        envelope: { session: session ?? '', message: message ?? '', events: events ?? [] },
      };
    }
  }
  const parsed = wireEnvelopeSchema.safeParse(value);
  if (!parsed.success) {
    return { ok: false, error: `body is not an OVH v1 envelope: ${z.prettifyError(parsed.error)}` };
  }
  return {
    ok: true,
    envelope: {
      session: parsed.data.Session ?? '',
      message: parsed.data.Message ?? '',
      events: parsed.data.Events ?? [],
    },
  };
}

/** Narrowing helper: a plain object (what an event must be). */
export function isRawEvent(value: unknown): value is RawOvhEvent {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
