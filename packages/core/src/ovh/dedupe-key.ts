import type { OvhEvent } from './types.js';

/**
 * The de-duplication key of an event. OVH events carry no id, so the key is made of: token, event
 * name as sent, server `Timestamp` (ns; falls back to `Data.Ts` as sent when absent), `CallId` or
 * `QueueMemberUUID`, and `QueueAgent` (several `agent-offering` events share one timestamp).
 * `TsGet` is left out on purpose: it may differ between two deliveries of the same event.
 */
export function dedupeKey(event: OvhEvent): string {
  return `${keyTime(event)}\u0000${keySubject(event)}\u0000${keyName(event)}\u0000${keyAgent(event)}\u0000${event.token}`;
}

/** The raw `Data` of an event, for the key parts the normalised event does not carry. */
function rawData(event: OvhEvent): Record<string, unknown> | null | undefined {
  return event.raw.Data as Record<string, unknown> | null | undefined;
}

/** Key part: the server `Timestamp` digits, else `ts:` + `Data.Ts` as sent. */
export function keyTime(event: OvhEvent): string {
  const stamp = event.raw.Timestamp;
  if (typeof stamp === 'string') return stamp;
  if (event.timestampNs !== undefined) return event.timestampNs.toString();
  return `ts:${String(rawData(event)?.Ts ?? '')}`;
}

/** Key part: the `CallId` or the queue member's uuid. */
export function keySubject(event: OvhEvent): string {
  if (event.kind === 'line') return event.callId;
  if (event.kind === 'queue') return event.memberUuid ?? '';
  const data = rawData(event);
  return String(data?.CallId ?? data?.QueueMemberUUID ?? '');
}

/** Key part: the queue agent (several `agent-offering` events share one timestamp). */
export function keyAgent(event: OvhEvent): string {
  if (event.kind === 'line') return '';
  if (event.kind === 'queue') return event.agent ?? '';
  return String(rawData(event)?.QueueAgent ?? '');
}

/** Key part: the event name as sent. */
export function keyName(event: OvhEvent): string {
  const name = event.raw.Event;
  return typeof name === 'string' ? name : event.name;
}
