import type { Call, PhoneNumber, QueueSession } from '@cti-bridge/core';
import { tokenTag } from '@cti-bridge/core';
import type { BoardMatch } from '../board/model.js';
import type { WebhookEventType } from './schema.js';

/** Version of the payload schema (docs/webhooks.md). Additions keep it; a breaking change bumps it. */
export const WEBHOOK_SCHEMA_VERSION = 1;

/** A call in a webhook payload. */
export interface WebhookCall {
  readonly id: string;
  readonly tokenTag: string;
  readonly direction: Call['direction'];
  readonly state: Call['state'];
  readonly outcome?: Call['outcome'];
  readonly line: string;
  readonly lineLabel?: string;
  readonly linesRung: readonly string[];
  /** E.164 when known; null when withheld. */
  readonly caller: string | null;
  readonly startedAt: string;
  readonly answeredAt?: string;
  readonly endedAt?: string;
  readonly ringSeconds: number;
  readonly talkSeconds: number;
  readonly holdSeconds: number;
  readonly queue?: { readonly name: string; readonly agent?: string; readonly waitSeconds: number };
}

/** A queue caller's stay in a webhook payload. */
export interface WebhookQueueSession {
  readonly memberUuid: string;
  readonly tokenTag: string;
  readonly queue: string;
  readonly caller: string | null;
  readonly callerName?: string;
  readonly state: QueueSession['state'];
  readonly outcome?: QueueSession['outcome'];
  readonly joinedAt: string;
  readonly answeredAt?: string;
  readonly leftAt?: string;
  readonly answeredBy?: string;
  readonly agentsOffered: readonly string[];
  readonly waitSeconds: number;
  readonly talkSeconds: number;
  readonly callId?: string;
}

/** The JSON body of every webhook request. */
export interface WebhookEnvelope<T = unknown> {
  readonly version: typeof WEBHOOK_SCHEMA_VERSION;
  /** Unique and stable: a retry carries the same id (deduplicate on it). */
  readonly id: string;
  readonly type: WebhookEventType;
  /** When it happened (event time from OVH; for call.logged, when the CRM confirmed). */
  readonly occurredAt: string;
  readonly data: T;
}

const numberOrNull = (phone: PhoneNumber | undefined): string | null =>
  phone === undefined || phone.withheld ? null : (phone.e164 ?? phone.raw);
const iso = (date: Date | undefined) => (date === undefined ? {} : date.toISOString());

/** A call as webhooks carry it (no token: a 12-hex tag of it). */
export function webhookCall(call: Call): WebhookCall {
  const answeredAt = iso(call.answeredAt);
  const endedAt = iso(call.endedAt);
  return {
    id: call.id,
    tokenTag: tokenTag(call.token),
    direction: call.direction,
    state: call.state,
    ...(call.outcome !== undefined ? { outcome: call.outcome } : {}),
    line: call.line.e164 ?? call.line.raw,
    ...(call.lineLabel !== undefined ? { lineLabel: call.lineLabel } : {}),
    linesRung: [...call.linesRung],
    caller: numberOrNull(call.remote),
    startedAt: call.startedAt.toISOString(),
    ...(typeof answeredAt === 'string' ? { answeredAt } : {}),
    ...(typeof endedAt === 'string' ? { endedAt } : {}),
    ringSeconds: call.ringSeconds,
    talkSeconds: call.talkSeconds,
    holdSeconds: call.holdSeconds,
    ...(call.queue !== undefined
      ? {
          queue: {
            name: call.queue.queue,
            ...(call.queue.agent !== undefined ? { agent: call.queue.agent } : {}),
            waitSeconds: call.queue.waitSeconds,
          },
        }
      : {}),
  };
}

/** A queue session as webhooks carry it. */
export function webhookSession(session: QueueSession): WebhookQueueSession {
  const answeredAt = iso(session.answeredAt);
  const leftAt = iso(session.leftAt);
  return {
    memberUuid: session.memberUuid,
    tokenTag: tokenTag(session.token),
    queue: session.queue,
    caller: numberOrNull(session.caller),
    ...(session.callerName !== undefined ? { callerName: session.callerName } : {}),
    state: session.state,
    ...(session.outcome !== undefined ? { outcome: session.outcome } : {}),
    joinedAt: session.joinedAt.toISOString(),
    ...(typeof answeredAt === 'string' ? { answeredAt } : {}),
    ...(typeof leftAt === 'string' ? { leftAt } : {}),
    ...(session.answeredBy !== undefined ? { answeredBy: session.answeredBy } : {}),
    agentsOffered: [...session.agentsOffered],
    waitSeconds: session.waitSeconds,
    talkSeconds: session.talkSeconds,
    ...(session.callId !== undefined ? { callId: session.callId } : {}),
  };
}

/** `data` of call.ringing, call.answered and call.ended. */
export interface WebhookCallData {
  readonly call: WebhookCall;
  /** CRM records found for the caller, best first (empty: unknown or not looked up). */
  readonly contacts: readonly BoardMatch[];
}

/** `data` of call.logged. */
export interface WebhookLoggedData {
  readonly callId: string;
  readonly tokenTag: string;
  /** Adapter name from the config. */
  readonly crm: string;
  /** The CRM activity, or why nothing was written (`skipped`). */
  readonly activity?: { readonly id: string; readonly url?: string; readonly created: boolean };
  readonly skipped?: string;
}

/** `data` of queue.* events. */
export interface WebhookQueueData {
  readonly session: WebhookQueueSession;
  /** queue.offered: the agent offered the caller. */
  readonly agent?: string;
}
