import { z } from 'zod';
import type { RawOvhEvent } from './types.js';

/**
 * Wire format of the OVH CTI v1 stream (`events.voip.ovh.net`), as zod 4 schemas.
 *
 * Everything is tolerant (see docs/ovh-stream.md §2): unknown keys pass through, numbers may come as strings,
 * `Timestamp`/`TsGet` exceed 2^53: the live stream reads them as numbers, to within 256 ns (see {@link parseEnvelope}).
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
 * The schemas above as field tables, with {@link fitsSpec} to check a value against one: the
 * reference that the hand-written checks of the hot path (further down) are tested against, so
 * that a fast check never accepts what zod rejects. When a fast check fails the zod schema runs
 * and produces the error message.
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

// Hand-written forms of the checks above for the hot path: one named property read per field
// (`fitsSpec` reads keys from a table, which V8 cannot turn into fast property loads). The tests
// check that each agrees with `fitsSpec` on its spec, and so never accepts what zod rejects.

/** `'s'`: absent, null or a string. */
function optString(value: unknown): boolean {
  return value === undefined || value === null || typeof value === 'string';
}

/** `'sn'`: absent, null, a string or a finite number. */
function optId(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    typeof value === 'string' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/** `'nsb'`: absent, null, a string, a finite number or a bigint. */
function optNumeric(value: unknown): boolean {
  return optId(value) || typeof value === 'bigint';
}

/** `'o'`: absent, null or a plain (non-array) object. */
function optObject(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'object' && !Array.isArray(value));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Fast check of `Details` ({@link WIRE_DETAILS_SPEC}), absent or null accepted. */
function fitsDetails(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (!isRecord(value)) return false;
  return (
    optString(value.Description) &&
    optId(value.Id) &&
    optId(value.IdBillingAccount) &&
    optId(value.SimultaneousLine) &&
    optString(value.Type)
  );
}

/** Fast check of a whole top-level event, `Details` included (not `Data`, checked per kind). */
export function fitsWireEvent(value: unknown): boolean {
  if (!isRecord(value)) return false;
  const name = value.Event;
  return (
    typeof name === 'string' &&
    name !== '' &&
    optString(value.Service) &&
    optString(value.Ressource) &&
    optString(value.Token) &&
    optNumeric(value.Timestamp) &&
    optString(value.Date) &&
    optObject(value.Data) &&
    fitsDetails(value.Details)
  );
}

/**
 * Reads the fields of a line event's `Data` named by {@link WIRE_LINE_DATA_SPEC}, each once, into a
 * new object of one fixed shape, and returns it when they all fit the spec (undefined otherwise).
 * `Data` objects come in many shapes; reading each field once and then working on one shape is
 * what keeps the hot path fast.
 */
export function readLineData(value: unknown): WireLineData | undefined {
  if (!isRecord(value)) return undefined;
  const d = {
    CallId: value.CallId,
    Calling: value.Calling,
    Called: value.Called,
    Dialed: value.Dialed,
    Billing: value.Billing,
    Protocol: value.Protocol,
    Body: value.Body,
    Cseq: value.Cseq,
    RelevantInfo: value.RelevantInfo,
    Event: value.Event,
    Ts: value.Ts,
    TsGet: value.TsGet,
  };
  return optString(d.CallId) &&
    optString(d.Calling) &&
    optString(d.Called) &&
    optString(d.Dialed) &&
    optString(d.Billing) &&
    optString(d.Protocol) &&
    optString(d.Body) &&
    optString(d.Cseq) &&
    optString(d.RelevantInfo) &&
    optString(d.Event) &&
    optNumeric(d.Ts) &&
    optNumeric(d.TsGet)
    ? (d as WireLineData)
    : undefined;
}

/** Fast check of a line event's `Data`: same answer as `fitsSpec(value, WIRE_LINE_DATA_SPEC)`. */
export function fitsLineData(value: unknown): boolean {
  return readLineData(value) !== undefined;
}

/**
 * Reads the fields of a queue event's `Data` named by {@link WIRE_QUEUE_DATA_SPEC}, each once,
 * into a new object of one fixed shape, and returns it when they all fit the spec (undefined
 * otherwise). See {@link readLineData}.
 */
export function readQueueData(value: unknown): WireQueueData | undefined {
  if (!isRecord(value)) return undefined;
  const d = {
    Queue: value.Queue,
    Action: value.Action,
    Count: value.Count,
    Agent: value.Agent,
    QueueAgent: value.QueueAgent,
    QueueAgentSystem: value.QueueAgentSystem,
    QueueAgentUUID: value.QueueAgentUUID,
    QueueMemberUUID: value.QueueMemberUUID,
    QueueMemberSessionUUID: value.QueueMemberSessionUUID,
    QueueMemberCIDName: value.QueueMemberCIDName,
    QueueMemberCIDNumber: value.QueueMemberCIDNumber,
    QueueMemberDNIS: value.QueueMemberDNIS,
    QueueCause: value.QueueCause,
    QueueCancelReason: value.QueueCancelReason,
    QueueHangupCause: value.QueueHangupCause,
    QueueMemberJoinedTime: value.QueueMemberJoinedTime,
    QueueMemberLeavingTime: value.QueueMemberLeavingTime,
    QueueAgentCalledTime: value.QueueAgentCalledTime,
    QueueAgentAnsweredTime: value.QueueAgentAnsweredTime,
    QueueBridgeTerminatedTime: value.QueueBridgeTerminatedTime,
    Calling: value.Calling,
    Called: value.Called,
    Ts: value.Ts,
    TsGet: value.TsGet,
  };
  return optString(d.Queue) &&
    optString(d.Action) &&
    optNumeric(d.Count) &&
    optString(d.Agent) &&
    optString(d.QueueAgent) &&
    optString(d.QueueAgentSystem) &&
    optString(d.QueueAgentUUID) &&
    optString(d.QueueMemberUUID) &&
    optString(d.QueueMemberSessionUUID) &&
    optString(d.QueueMemberCIDName) &&
    optString(d.QueueMemberCIDNumber) &&
    optString(d.QueueMemberDNIS) &&
    optString(d.QueueCause) &&
    optString(d.QueueCancelReason) &&
    optString(d.QueueHangupCause) &&
    optNumeric(d.QueueMemberJoinedTime) &&
    optNumeric(d.QueueMemberLeavingTime) &&
    optNumeric(d.QueueAgentCalledTime) &&
    optNumeric(d.QueueAgentAnsweredTime) &&
    optNumeric(d.QueueBridgeTerminatedTime) &&
    optString(d.Calling) &&
    optString(d.Called) &&
    optNumeric(d.Ts) &&
    optNumeric(d.TsGet)
    ? (d as WireQueueData)
    : undefined;
}

/** Fast check of a queue event's `Data`: same answer as `fitsSpec(value, WIRE_QUEUE_DATA_SPEC)`. */
export function fitsQueueData(value: unknown): boolean {
  return readQueueData(value) !== undefined;
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
  /** The raw events, as `JSON.parse` gives them (`Timestamp`/`TsGet` as numbers, to within 256 ns). */
  readonly events: readonly unknown[];
}

/** Result of {@link parseEnvelope}: never throws. */
export type ParseEnvelopeResult =
  | { readonly ok: true; readonly envelope: OvhEnvelope }
  | { readonly ok: false; readonly error: string };

/**
 * A number written under a `"Timestamp"` or `"TsGet"` key, with the key: group 1 is the key and the
 * separator, group 2 the number. The key counts only as a whole JSON string whose opening quote is
 * neither escaped nor glued to a word (so not inside a string value), and the number only as a whole
 * JSON number ending the value (followed by `,`, `}` or `]`): a shorter prefix of it is always
 * followed by another number character, so backtracking finds nothing else.
 */
const KEY_AND_NUMBER =
  /("(?<![\\_0-9A-Za-z]")(?:Timestamp|TsGet)"[ \t\r\n]*:[ \t\r\n]*)(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)(?=[ \t\r\n]*[,}\]])/g;

/**
 * Rewrites the raw JSON text so that numbers under the keys `Timestamp` and `TsGet` (nanoseconds,
 * ≈1.5 × 10^18, above 2^53) become JSON strings, so that `JSON.parse` loses no digit (used on
 * recordings; the live stream does without it, see {@link parseEnvelope}). Everything
 * else is left byte for byte. One `replace` with a replacement pattern: the regular-expression
 * engine scans and writes the new text in one go, flat (no rope of slices to flatten later).
 */
export function quoteBigTimestamps(text: string): string {
  return text.replace(KEY_AND_NUMBER, '$1"$2"');
}

/**
 * Parses a v1 response body from its raw text with `JSON.parse`. `Timestamp` and `TsGet`
 * (nanoseconds, ≈1.5 × 10^18, above 2^53) come out as JS numbers, exact to within 256 ns: ample for
 * their only uses, the de-duplication key and the order of a poll's events (docs/ovh-stream.md §2).
 * Keeping every digit would mean rewriting each body before parsing it ({@link quoteBigTimestamps},
 * which `cti-runner replay` still uses on recordings): about an eighth of the stream's time.
 * Never throws: a non-JSON body or a body that is not an envelope gives `{ ok: false, error }` with
 * a short, log-safe description.
 */
export function parseEnvelope(text: string): ParseEnvelopeResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
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
  return isRecord(value);
}
