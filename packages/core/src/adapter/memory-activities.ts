import type { QueueSession } from '../calls/types.js';
import { formatPhone } from '../phone/index.js';
import type { CallRecord, ContactMatch, LogCallContext } from './contract.js';
import type { MemoryActivity } from './memory-adapter.js';

/** What an activity holds besides its id, type and idempotency key. */
export type MemoryActivityFields = Omit<MemoryActivity, 'id' | 'type' | 'idempotencyKey'>;

/** One line describing a call, its outcome in words. */
export function callSubject(call: CallRecord): string {
  const who = formatPhone(call.remote);
  switch (call.outcome) {
    case 'missed':
      return `Missed ${call.direction} call from ${who}`;
    case 'busy':
      return `Busy: ${call.direction} call with ${who} not answered`;
    case 'cancelled':
      return `Cancelled ${call.direction} call to ${who} (not answered)`;
    default:
      return call.direction === 'outbound'
        ? `Outbound call to ${who}`
        : `${call.direction === 'internal' ? 'Internal' : 'Inbound'} call from ${who}`;
  }
}

/** The body of a call activity: line, ring, talk and hold times, queue. */
export function callBody(call: CallRecord): string {
  const parts = [
    `Line ${call.lineLabel ? `${call.lineLabel} ` : ''}${formatPhone(call.line)}`,
    `rang ${call.ringSeconds} s`,
    `talked ${call.talkSeconds} s`,
  ];
  if (call.holdSeconds > 0) parts.push(`on hold ${call.holdSeconds} s`);
  if (call.queue) parts.push(`queue ${call.queue.queue}, waited ${call.queue.waitSeconds} s`);
  if (call.inferred) parts.push('partly inferred');
  return `${parts.join(', ')}.`;
}

/** The subject of a queue session activity. */
export function queueSessionSubject(session: QueueSession): string {
  return `Queue ${session.queue}: ${session.outcome ?? 'unknown'} after ${session.waitSeconds} s`;
}

/** The body of a queue session activity: caller, agents offered, who answered. */
export function queueSessionBody(session: QueueSession): string {
  return `Caller ${session.caller ? formatPhone(session.caller) : 'unknown'}; agents offered: ${
    session.agentsOffered.join(', ') || 'none'
  }; answered by ${session.answeredBy ?? 'nobody'}.`;
}

/** The fields of a logged call. */
export function callActivity(call: CallRecord, match?: ContactMatch, ownerId?: string): MemoryActivityFields {
  return {
    externalId: call.callId,
    ...(match ? { contactId: match.id } : {}),
    ...(ownerId === undefined ? {} : { ownerId }),
    direction: call.direction,
    outcome: call.outcome,
    durationSeconds: call.talkSeconds,
    subject: callSubject(call),
    body: callBody(call),
    record: call,
  };
}

/** The fields of a follow-up task for a missed call. */
export function followUpTaskActivity(call: CallRecord, ctx: LogCallContext): MemoryActivityFields {
  return {
    externalId: call.callId,
    ...(ctx.match ? { contactId: ctx.match.id } : {}),
    ...(ctx.ownerId === undefined ? {} : { ownerId: ctx.ownerId }),
    direction: call.direction,
    outcome: call.outcome,
    subject: `Call back ${formatPhone(call.remote)} (missed call)`,
    body: callBody(call),
    record: call,
  };
}

/** The fields of a logged queue session. */
export function queueSessionActivity(session: QueueSession, ctx: LogCallContext): MemoryActivityFields {
  return {
    externalId: session.memberUuid,
    ...(ctx.match ? { contactId: ctx.match.id } : {}),
    ...(ctx.ownerId === undefined ? {} : { ownerId: ctx.ownerId }),
    outcome: session.outcome ?? 'unknown',
    durationSeconds: session.talkSeconds,
    subject: queueSessionSubject(session),
    body: queueSessionBody(session),
    record: session,
  };
}
