import { z } from 'zod';
import type { CallRecord, ContactMatch } from '../adapter/contract.js';
import type { Call, QueueSession } from '../calls/types.js';
import type { PhoneNumber } from '../phone/index.js';

/** Options of {@link toCallRecord}. */
export interface ToCallRecordOptions {
  /** Labels of our lines by number (E.164 or as OVH writes it); win over the label OVH sent. */
  readonly lineLabels?: Readonly<Record<string, string>>;
  /** Name of the other party, when known (queue caller id name). */
  readonly remoteName?: string | undefined;
}

/**
 * The record adapters log for an ended call: the call with everything resolved. Throws when the
 * call has not ended (a programming error: only `call.ended` calls are logged).
 */
export function toCallRecord(call: Call, options: ToCallRecordOptions = {}): CallRecord {
  if (call.state !== 'ended' || !call.outcome || !call.endedAt) {
    throw new Error(`call ${call.id} has not ended: only ended calls become CallRecords`);
  }
  const labels = options.lineLabels ?? {};
  const lineLabel =
    (call.line.e164 !== undefined ? labels[call.line.e164] : undefined) ??
    labels[call.line.raw] ??
    call.lineLabel;
  return {
    callId: call.id,
    token: call.token,
    direction: call.direction,
    outcome: call.outcome,
    line: call.line,
    ...(lineLabel !== undefined ? { lineLabel } : {}),
    remote: call.remote,
    ...(options.remoteName !== undefined ? { remoteName: options.remoteName } : {}),
    startedAt: call.startedAt,
    ...(call.answeredAt ? { answeredAt: call.answeredAt } : {}),
    endedAt: call.endedAt,
    ringSeconds: call.ringSeconds,
    talkSeconds: call.talkSeconds,
    holdSeconds: call.holdSeconds,
    ...(call.queue
      ? {
          queue: {
            queue: call.queue.queue,
            waitSeconds: call.queue.waitSeconds,
            ...(call.queue.agent !== undefined ? { agent: call.queue.agent } : {}),
            ...(call.queue.outcome !== undefined ? { outcome: call.queue.outcome } : {}),
          },
        }
      : {}),
    inferred: call.inferred,
  };
}

const phoneSchema = z.object({
  raw: z.string(),
  e164: z.string().optional(),
  country: z.string().optional(),
  nationalNumber: z.string().optional(),
  withheld: z.boolean(),
});
const isoDate = z.iso.datetime({ offset: true }).transform((value) => new Date(value));
const seconds = z.number().int().nonnegative();
const queueOutcome = z.enum(['answered', 'abandoned', 'timeout', 'no-agent']);

/** Wire form of a CallRecord in the outbox (dates as ISO strings). */
const callRecordSchema = z.object({
  callId: z.string().min(1),
  token: z.string(),
  direction: z.enum(['inbound', 'outbound', 'internal']),
  outcome: z.enum(['answered', 'missed', 'busy', 'cancelled']),
  line: phoneSchema,
  lineLabel: z.string().optional(),
  remote: phoneSchema,
  remoteName: z.string().optional(),
  startedAt: isoDate,
  answeredAt: isoDate.optional(),
  endedAt: isoDate,
  ringSeconds: seconds,
  talkSeconds: seconds,
  holdSeconds: seconds,
  queue: z
    .object({
      queue: z.string(),
      waitSeconds: seconds,
      agent: z.string().optional(),
      outcome: queueOutcome.optional(),
    })
    .optional(),
  inferred: z.boolean(),
});

const queueSessionSchema = z.object({
  memberUuid: z.string().min(1),
  token: z.string(),
  queue: z.string(),
  caller: phoneSchema.optional(),
  callerName: z.string().optional(),
  state: z.enum(['waiting', 'offered', 'answered', 'ended']),
  outcome: queueOutcome.optional(),
  joinedAt: isoDate,
  answeredAt: isoDate.optional(),
  leftAt: isoDate.optional(),
  agentsOffered: z.array(z.string()),
  answeredBy: z.string().optional(),
  waitSeconds: seconds,
  talkSeconds: seconds,
  cause: z.string().optional(),
  cancelReason: z.string().optional(),
  callId: z.string().optional(),
  inferred: z.boolean(),
  inferredReason: z.string().optional(),
});

const matchSchema = z.object({
  recordType: z.string(),
  id: z.string(),
  displayName: z.string(),
  kind: z.enum(['person', 'company']),
  url: z.string(),
  companyName: z.string().optional(),
  owner: z.object({ id: z.string(), name: z.string().optional() }).optional(),
  matchedPhone: z.string(),
  quality: z.enum(['exact', 'suffix']),
  lastActivityAt: isoDate.optional(),
  ambiguous: z.boolean(),
});

/** Turns a value with Dates into plain JSON (Dates → ISO strings, undefined dropped). */
function toJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

/** A CallRecord as JSON for the outbox (dates as ISO-8601 strings). */
export function serializeCallRecord(record: CallRecord): Record<string, unknown> {
  return toJson(record) as Record<string, unknown>;
}

/**
 * Reads a CallRecord back from the outbox, validated. Throws a descriptive error on a corrupt
 * payload (the pipeline turns it into an `invalid` dead letter).
 */
export function deserializeCallRecord(value: unknown): CallRecord {
  const parsed = callRecordSchema.safeParse(value);
  if (!parsed.success) throw new Error(`corrupt call record in the outbox: ${z.prettifyError(parsed.error)}`);
  return stripUndefined(parsed.data) as CallRecord;
}

/** A QueueSession as JSON for the outbox. */
export function serializeQueueSession(session: QueueSession): Record<string, unknown> {
  return toJson(session) as Record<string, unknown>;
}

/** Reads a QueueSession back from the outbox, validated. */
export function deserializeQueueSession(value: unknown): QueueSession {
  const parsed = queueSessionSchema.safeParse(value);
  if (!parsed.success)
    throw new Error(`corrupt queue session in the outbox: ${z.prettifyError(parsed.error)}`);
  return stripUndefined(parsed.data) as QueueSession;
}

/** What an outbox entry of the pipeline carries. */
export interface OutboxPayload {
  /** Serialised CallRecord (`log-call`, `follow-up`, `create-contact`) — absent for `queue-session`. */
  readonly call?: Record<string, unknown>;
  /** Serialised QueueSession (`queue-session`). */
  readonly session?: Record<string, unknown>;
  /** The match found by the screen-pop lookup; `null`: looked up, nobody; absent: not looked up yet. */
  readonly match?: Record<string, unknown> | null;
  /** CRM user id from the owner mapping. */
  readonly ownerId?: string;
  /** The caller's name, when the stream carried one. */
  readonly remoteName?: string;
}

const payloadSchema = z.object({
  call: z.record(z.string(), z.unknown()).optional(),
  session: z.record(z.string(), z.unknown()).optional(),
  match: z.union([z.record(z.string(), z.unknown()), z.null()]).optional(),
  ownerId: z.string().optional(),
  remoteName: z.string().optional(),
});

/** A decoded outbox payload. */
export interface DecodedPayload {
  readonly call?: CallRecord;
  readonly session?: QueueSession;
  /** `null`: looked up, nobody matched; `undefined`: not looked up yet. */
  readonly match?: ContactMatch | null | undefined;
  readonly ownerId?: string | undefined;
}

/** Builds the outbox payload of an entry. */
export function encodePayload(input: {
  call?: CallRecord | undefined;
  session?: QueueSession | undefined;
  match?: ContactMatch | null | undefined;
  ownerId?: string | undefined;
}): OutboxPayload {
  return {
    ...(input.call ? { call: serializeCallRecord(input.call) } : {}),
    ...(input.session ? { session: serializeQueueSession(input.session) } : {}),
    ...(input.match === null
      ? { match: null }
      : input.match
        ? { match: toJson(input.match) as Record<string, unknown> }
        : {}),
    ...(input.ownerId !== undefined ? { ownerId: input.ownerId } : {}),
  };
}

/** Reads an outbox payload back, validated. Throws on a corrupt payload. */
export function decodePayload(value: unknown): DecodedPayload {
  const parsed = payloadSchema.safeParse(value);
  if (!parsed.success) throw new Error(`corrupt outbox payload: ${z.prettifyError(parsed.error)}`);
  const p = parsed.data;
  let match: ContactMatch | null | undefined;
  if (p.match === null) match = null;
  else if (p.match !== undefined) {
    const m = matchSchema.safeParse(p.match);
    if (!m.success) throw new Error(`corrupt contact match in the outbox: ${z.prettifyError(m.error)}`);
    match = stripUndefined(m.data) as ContactMatch;
  }
  return {
    ...(p.call ? { call: deserializeCallRecord(p.call) } : {}),
    ...(p.session ? { session: deserializeQueueSession(p.session) } : {}),
    match,
    ownerId: p.ownerId,
  };
}

function stripUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map(stripUndefined) as T;
  if (value instanceof Date || typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = stripUndefined(v);
  return out as T;
}

/** A phone number's identity for maps: E.164 when known, else the raw text. */
export function phoneKey(phone: PhoneNumber): string {
  return phone.e164 ?? phone.raw;
}
