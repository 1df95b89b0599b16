import { createHash } from 'node:crypto';
import { type CallRecord, formatPhone } from '@cti-bridge/core';
import { formatDuration } from '@cti-bridge/core/adapter';

const DIRECTION: Record<CallRecord['direction'], string> = {
  inbound: 'Inbound call',
  outbound: 'Outbound call',
  internal: 'Internal call',
};

const OUTCOME: Record<CallRecord['outcome'], string> = {
  answered: 'answered',
  missed: 'missed',
  busy: 'busy',
  cancelled: 'cancelled (not answered)',
};

/** Human-readable duration (`3 min 12 s`): the toolkit's shared format. */
export { formatDuration };

/**
 * The marker that makes a write findable again (idempotency): `[cti-bridge <key>]` when the key is
 * plain, else a hash of it. Only letters, digits, `:`, `.`, `-`, a space and the brackets (which
 * stop `abc` from matching `abcd`): never a LIKE wildcard (`%`, `_`), unchanged by HTML escaping.
 */
export function markerOf(idempotencyKey: string): string {
  const plain = /^[A-Za-z0-9:.-]{1,100}$/.test(idempotencyKey);
  const id = plain ? idempotencyKey : createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40);
  return `[cti-bridge ${id}]`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Intl formatters are costly to build: one per time zone and shape. */
function formatter(timeZone: string, withTime: boolean): Intl.DateTimeFormat {
  const key = `${timeZone}|${withTime}`;
  let cached = formatters.get(key);
  if (!cached) {
    cached = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      ...(withTime ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' } : {}),
    });
    formatters.set(key, cached);
  }
  return cached;
}

function dateTime(date: Date, timeZone: string): string {
  const parts = formatter(timeZone, true).formatToParts(date);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} (${timeZone})`;
}

/** `YYYY-MM-DD` of a date in a time zone (Odoo `date` fields). */
export function dayIn(date: Date, timeZone: string): string {
  return formatter(timeZone, false).format(date);
}

/** Who the call was with, for people: `Jane Doe (+33 6 12 34 56 78)` or the number. */
function remoteText(call: CallRecord): string {
  const number = formatPhone(call.remote);
  return call.remoteName ? `${call.remoteName} (${number})` : number;
}

/** One-line title: `Inbound call answered · 3 min 12 s` / `Missed call from +33 6 …`. */
export function callSummary(call: CallRecord): string {
  if (call.outcome === 'missed') return `Missed call from ${remoteText(call)}`;
  const base = `${DIRECTION[call.direction]} ${OUTCOME[call.outcome]}`;
  return call.outcome === 'answered' ? `${base} · ${formatDuration(call.talkSeconds)}` : base;
}

/**
 * The call as a few plain-text lines a salesperson reads in the chatter: direction and outcome,
 * durations, our line, queue and wait, agent, start time, and the reference last (with the
 * idempotency marker when given: it must appear once in what Odoo ends up showing).
 */
export function callDetails(call: CallRecord, options: { timeZone: string; marker?: string }): string[] {
  const toFrom = call.direction === 'outbound' ? 'to' : 'from';
  const lines = [`${DIRECTION[call.direction]} ${toFrom} ${remoteText(call)}: ${OUTCOME[call.outcome]}`];
  if (call.outcome === 'answered') {
    const extras = [`rang ${formatDuration(call.ringSeconds)}`];
    if (call.holdSeconds > 0) extras.push(`on hold ${formatDuration(call.holdSeconds)}`);
    lines.push(`Duration: ${formatDuration(call.talkSeconds)} (${extras.join(', ')})`);
  } else {
    lines.push(`Rang for ${formatDuration(call.ringSeconds)}`);
  }
  const line = formatPhone(call.line);
  lines.push(`Line: ${call.lineLabel ? `${call.lineLabel} (${line})` : line}`);
  if (call.queue) {
    const queueParts = [`waited ${formatDuration(call.queue.waitSeconds)}`];
    if (call.queue.agent) queueParts.push(`answered by agent ${call.queue.agent}`);
    else if (call.queue.outcome && call.queue.outcome !== 'answered') queueParts.push(call.queue.outcome);
    lines.push(`Queue: ${call.queue.queue}, ${queueParts.join(', ')}`);
  }
  lines.push(`Started: ${dateTime(call.startedAt, options.timeZone)}`);
  if (call.inferred) lines.push('Some details were inferred (events missing from the stream).');
  lines.push(`Ref: ${options.marker ? `${options.marker} · ` : ''}OVH call ${call.callId}`);
  return lines;
}

/** Escapes text for an Odoo Html field written over RPC (create/write are sanitized, not escaped). */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
