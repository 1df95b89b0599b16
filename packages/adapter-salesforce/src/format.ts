import { type CallRecord, type ContactMatch, formatPhone, type QueueSession } from '@cti-bridge/core';
import { formatDuration } from '@cti-bridge/core/adapter';

/** Human-readable duration (`3 min 12 s`): the toolkit's shared format. */
export { formatDuration };

/** Intl formatters are slow to build: one per time zone and shape. */
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(kind: 'date' | 'time', timeZone: string | undefined): Intl.DateTimeFormat {
  const key = `${kind}|${timeZone ?? ''}`;
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(
      'en-CA',
      kind === 'date'
        ? { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }
        : { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
    );
    formatters.set(key, format);
  }
  return format;
}

/** `YYYY-MM-DD` of an instant in a time zone (Task.ActivityDate). */
export function dateIn(date: Date, timeZone?: string): string {
  const parts = formatter('date', timeZone).formatToParts(date);
  const get = (type: string) => parts.find((part) => part.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** `2026-03-02 10:15 (Europe/Paris)`. */
export function timeIn(date: Date, timeZone?: string): string {
  const parts = formatter('time', timeZone).formatToParts(date);
  const get = (type: string) => parts.find((part) => part.type === type)?.value ?? '';
  const zone = timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  return `${dateIn(date, timeZone)} ${get('hour')}:${get('minute')} (${zone})`;
}

/** Who the call was with, for people: the matched record, the caller name, or the number. */
export function counterpart(call: CallRecord, match?: ContactMatch): string {
  const number = formatPhone(call.remote);
  const name = match?.displayName ?? call.remoteName;
  return name ? `${name} (${number})` : number;
}

const DIRECTION_LABEL = { inbound: 'Inbound', outbound: 'Outbound', internal: 'Internal' } as const;

/** Task.CallType picklist value. */
export function callType(call: CallRecord): 'Inbound' | 'Outbound' | 'Internal' {
  return DIRECTION_LABEL[call.direction];
}

/** Task.CallDisposition ("Call Result"). */
export function callDisposition(call: CallRecord): string {
  switch (call.outcome) {
    case 'answered':
      return 'Answered';
    case 'missed':
      return 'Missed';
    case 'busy':
      return 'Busy';
    case 'cancelled':
      return 'No answer';
  }
}

/** Default Task subject: what happened, with whom, for how long. At most 255 characters. */
export function defaultSubject(call: CallRecord, match?: ContactMatch): string {
  const who = counterpart(call, match);
  const queue = call.queue ? ` via ${call.queue.queue}` : '';
  let subject: string;
  if (call.direction === 'internal') {
    subject =
      call.outcome === 'answered'
        ? `Internal call with ${who} (${formatDuration(call.talkSeconds)})`
        : `Internal call with ${who}: no answer`;
  } else if (call.direction === 'outbound') {
    subject =
      call.outcome === 'answered'
        ? `Outbound call to ${who} (${formatDuration(call.talkSeconds)})`
        : `Outbound call to ${who}: no answer`;
  } else if (call.outcome === 'answered') {
    subject = `Inbound call from ${who}${queue} (${formatDuration(call.talkSeconds)})`;
  } else {
    subject = `Missed call from ${who}${queue}${call.outcome === 'busy' ? ' (line busy)' : ''}`;
  }
  return subject.length > 255 ? `${subject.slice(0, 252)}...` : subject;
}

const OUTCOME_TEXT = {
  answered: 'answered',
  missed: 'missed (nobody answered)',
  busy: 'missed (line busy)',
  cancelled: 'not answered by the other party',
} as const;

/** Default Task description: one fact per line, for a salesperson opening the Task. */
export function defaultDescription(call: CallRecord, match?: ContactMatch, timeZone?: string): string {
  const lines = [
    `Direction: ${call.direction}`,
    `Outcome: ${OUTCOME_TEXT[call.outcome]}`,
    `${call.direction === 'outbound' ? 'Called number' : 'Caller'}: ${counterpart(call, match)}`,
    `Our line: ${formatPhone(call.line)}${call.lineLabel ? ` (${call.lineLabel})` : ''}`,
    `Started: ${timeIn(call.startedAt, timeZone)}`,
    `Ringing: ${formatDuration(call.ringSeconds)}`,
  ];
  if (call.outcome === 'answered') {
    lines.push(`Talk time: ${formatDuration(call.talkSeconds)}`);
    if (call.holdSeconds > 0) lines.push(`On hold: ${formatDuration(call.holdSeconds)}`);
  }
  if (call.queue) {
    const agent = call.queue.agent ? `, answered by ${call.queue.agent}` : '';
    const outcome = call.queue.outcome && call.queue.outcome !== 'answered' ? `, ${call.queue.outcome}` : '';
    lines.push(
      `Queue: ${call.queue.queue}, waited ${formatDuration(call.queue.waitSeconds)}${agent}${outcome}`,
    );
  }
  if (call.inferred)
    lines.push('Note: part of this call was reconstructed (some telephony events were missing).');
  lines.push(`OVH call id: ${call.callId}`);
  return lines.join('\n');
}

/** Subject of the follow-up Task of a missed call. */
export function followUpSubject(call: CallRecord, match?: ContactMatch): string {
  const subject = `Call back ${counterpart(call, match)} (missed call)`;
  return subject.length > 255 ? `${subject.slice(0, 252)}...` : subject;
}

const QUEUE_OUTCOME_TEXT = {
  answered: 'answered',
  abandoned: 'abandoned: the caller hung up while waiting (missed)',
  timeout: 'not answered before the queue timeout (missed)',
  'no-agent': 'no agent available (missed)',
} as const;

/** Who waited in the queue, for people. */
function queueCaller(session: QueueSession, match?: ContactMatch): string {
  const number = session.caller ? formatPhone(session.caller) : 'unknown number';
  const name = match?.displayName ?? session.callerName;
  return name ? `${name} (${number})` : number;
}

/** Subject of the Task logging a queue session. */
export function queueSubject(session: QueueSession, match?: ContactMatch): string {
  const who = queueCaller(session, match);
  const wait = formatDuration(session.waitSeconds);
  const subject =
    session.outcome === 'answered' || session.outcome === undefined
      ? `Queue ${session.queue}: call from ${who} answered after ${wait}`
      : `Queue ${session.queue}: missed call from ${who} after ${wait} waiting`;
  return subject.length > 255 ? `${subject.slice(0, 252)}...` : subject;
}

/** Description of the Task logging a queue session. */
export function queueDescription(session: QueueSession, match?: ContactMatch, timeZone?: string): string {
  const lines = [
    'Direction: inbound',
    `Queue: ${session.queue}`,
    `Outcome: ${session.outcome ? QUEUE_OUTCOME_TEXT[session.outcome] : 'unknown'}`,
    `Caller: ${queueCaller(session, match)}`,
    `Joined the queue: ${timeIn(session.joinedAt, timeZone)}`,
    `Waited: ${formatDuration(session.waitSeconds)}`,
  ];
  if (session.agentsOffered.length > 0) lines.push(`Offered to: ${session.agentsOffered.join(', ')}`);
  if (session.answeredBy) lines.push(`Answered by: ${session.answeredBy}`);
  if (session.talkSeconds > 0) lines.push(`Talk time: ${formatDuration(session.talkSeconds)}`);
  if (session.inferred) lines.push('Note: part of this queue session was reconstructed.');
  lines.push(`OVH queue member id: ${session.memberUuid}`);
  return lines.join('\n');
}
