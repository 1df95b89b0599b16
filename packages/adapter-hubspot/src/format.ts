import { type CallRecord, formatPhone, type PhoneNumber } from '@cti-bridge/core';
import { formatDuration } from '@cti-bridge/core/adapter';
import { DEFAULT_DISPOSITIONS, type ResolvedHubSpotOptions } from './options.js';

/** HubSpot association type ids used by the adapter (HUBSPOT_DEFINED). */
export const ASSOCIATION = {
  callToContact: 194,
  callToCompany: 182,
  taskToContact: 204,
  taskToCompany: 192,
} as const;

const OUTCOME_WORDS: Record<CallRecord['outcome'], string> = {
  answered: 'answered',
  missed: 'missed',
  busy: 'busy',
  cancelled: 'not answered',
};

/**
 * `hs_call_status` by outcome. A missed inbound call is `MISSED`, the status HubSpot gives calls
 * that rang for the team and nobody answered; `NO_ANSWER` says the other party did not pick up,
 * which is what an unanswered outbound call is.
 */
const STATUS: Record<CallRecord['outcome'], string> = {
  answered: 'COMPLETED',
  missed: 'MISSED',
  busy: 'BUSY',
  cancelled: 'CANCELED',
};

const QUEUE_OUTCOME: Record<string, string> = {
  answered: 'answered',
  abandoned: 'caller hung up while waiting',
  timeout: 'wait timed out',
  'no-agent': 'no agent available',
};

/** Human-readable duration (`3 min 12 s`): the toolkit's shared format. */
export { formatDuration };

function numberFor(phone: PhoneNumber): string {
  return phone.e164 ?? phone.raw;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The call title a salesperson sees in the timeline: direction, party, outcome, duration. */
export function callTitle(call: CallRecord): string {
  const who = call.remoteName ? `${call.remoteName} (${formatPhone(call.remote)})` : formatPhone(call.remote);
  const direction =
    call.direction === 'inbound'
      ? `Inbound call from ${who}`
      : call.direction === 'outbound'
        ? `Outbound call to ${who}`
        : `Internal call with ${who}`;
  const outcome = OUTCOME_WORDS[call.outcome];
  return call.outcome === 'answered'
    ? `${direction}, ${outcome} (${formatDuration(call.talkSeconds)})`
    : `${direction}, ${outcome}`;
}

/** The call notes (`hs_call_body`, rich text): one fact per line. */
export function callBody(call: CallRecord): string {
  const lines: string[] = [];
  const line = call.lineLabel ? `${call.lineLabel} (${formatPhone(call.line)})` : formatPhone(call.line);
  lines.push(`${call.direction === 'outbound' ? 'From our line' : 'On our line'}: ${line}`);
  lines.push(`${call.direction === 'outbound' ? 'Called' : 'Caller'}: ${formatPhone(call.remote)}`);
  lines.push(`Outcome: ${OUTCOME_WORDS[call.outcome]}`);
  if (call.outcome === 'answered') {
    lines.push(`Talk time: ${formatDuration(call.talkSeconds)}`);
    if (call.holdSeconds > 0) lines.push(`On hold: ${formatDuration(call.holdSeconds)}`);
  }
  lines.push(`Ringing: ${formatDuration(call.ringSeconds)}`);
  if (call.queue) {
    const queueOutcome = call.queue.outcome
      ? `, ${QUEUE_OUTCOME[call.queue.outcome] ?? call.queue.outcome}`
      : '';
    lines.push(`Queue: ${call.queue.queue}, waited ${formatDuration(call.queue.waitSeconds)}${queueOutcome}`);
    if (call.queue.agent) lines.push(`Agent: ${call.queue.agent}`);
  }
  if (call.inferred) lines.push('Some details were inferred (incomplete telephony events).');
  lines.push(`OVH call id: ${call.callId}`);
  return lines.map((text) => `<p>${escapeHtml(text)}</p>`).join('');
}

/** The outcome GUID for a call (`hs_call_disposition`), from the options or HubSpot's defaults. */
export function dispositionFor(call: CallRecord, options: ResolvedHubSpotOptions): string {
  const mapped = options.dispositions[call.outcome];
  if (mapped) return mapped;
  switch (call.outcome) {
    case 'answered':
      return DEFAULT_DISPOSITIONS.connected;
    case 'busy':
      return DEFAULT_DISPOSITIONS.busy;
    default:
      return DEFAULT_DISPOSITIONS.noAnswer;
  }
}

/** Every property of the call engagement for one OVH call. */
export function callProperties(
  call: CallRecord,
  options: ResolvedHubSpotOptions,
  ownerId: string | undefined,
): Record<string, string> {
  const inbound = call.direction === 'inbound';
  const properties: Record<string, string> = {
    hs_timestamp: call.startedAt.toISOString(),
    hs_call_title: callTitle(call),
    hs_call_body: callBody(call),
    hs_call_direction: inbound ? 'INBOUND' : 'OUTBOUND',
    hs_call_duration: String(Math.max(0, Math.round(call.talkSeconds * 1000))),
    hs_call_status:
      call.outcome === 'missed' && call.direction === 'outbound' ? 'NO_ANSWER' : STATUS[call.outcome],
    hs_call_disposition: dispositionFor(call, options),
    hs_call_from_number: numberFor(inbound ? call.remote : call.line),
    hs_call_to_number: numberFor(inbound ? call.line : call.remote),
    hs_call_external_id: call.callId,
  };
  if (ownerId) properties.hubspot_owner_id = ownerId;
  return properties;
}

/** Subject of the missed-call follow-up task. */
export function taskSubject(call: CallRecord): string {
  const who = call.remoteName ? `${call.remoteName} (${formatPhone(call.remote)})` : formatPhone(call.remote);
  return `Call back ${who}`;
}

/** Body of the missed-call follow-up task. */
export function taskBody(call: CallRecord): string {
  const when = call.startedAt.toISOString().replace('T', ' ').slice(0, 16);
  const line = call.lineLabel ? `${call.lineLabel} (${formatPhone(call.line)})` : formatPhone(call.line);
  const lines = [`Missed call at ${when} UTC on ${line}.`];
  if (call.queue) lines.push(`Queue ${call.queue.queue}: waited ${formatDuration(call.queue.waitSeconds)}.`);
  lines.push(`OVH call id: ${call.callId}`);
  return lines.map((text) => `<p>${escapeHtml(text)}</p>`).join('');
}
