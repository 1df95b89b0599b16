import { type Connector, type ConnectorEvents, decodePayload, tokenTag } from '@cti-bridge/core';
import type { BoardMatch } from '../board/model.js';
import {
  type WebhookCallData,
  type WebhookLoggedData,
  type WebhookQueueData,
  webhookCall,
  webhookSession,
} from './payloads.js';
import type { WebhookEventType } from './schema.js';

/** Writes one webhook event to the outbox of every subscriber that takes its type. */
export type WebhookEnqueue = (
  type: WebhookEventType,
  subject: string,
  occurredAt: Date,
  data: unknown,
  suffix?: string,
) => void;

/**
 * Turns the connector's events into webhook events: `call.ringing` (with the contacts found),
 * `call.answered` / `call.ended`, the `queue.*` events and `call.logged`. Returns the unsubscribers.
 */
export function subscribeWebhookEvents(
  connector: Connector,
  enqueue: WebhookEnqueue,
  clock: () => number,
): Array<() => void> {
  const contacts = new Map<string, BoardMatch[]>();
  return [
    connector.on('screen-pop', (pop) => {
      const found = pop.matches.map(
        (m): BoardMatch => ({
          crm: pop.adapter ?? '',
          name: m.displayName,
          ...(m.companyName !== undefined ? { company: m.companyName } : {}),
          recordType: m.recordType,
          url: m.url,
          ambiguous: m.ambiguous,
        }),
      );
      if (contacts.size > 10_000) contacts.clear();
      contacts.set(pop.call.id, found);
      const data: WebhookCallData = { call: webhookCall(pop.call), contacts: found };
      enqueue('call.ringing', `${tokenTag(pop.token)}:${pop.call.id}`, pop.call.startedAt, data);
    }),
    connector.on('call-event', (event) => onCallEvent(event, contacts, enqueue, clock)),
    connector.on('delivered', (delivered) => onDelivered(delivered, enqueue)),
  ];
}

/** `call.answered` / `call.ended` with the contacts of its screen pop, and the `queue.*` events. */
function onCallEvent(
  event: ConnectorEvents['call-event'],
  contacts: Map<string, BoardMatch[]>,
  enqueue: WebhookEnqueue,
  clock: () => number,
): void {
  switch (event.type) {
    case 'call.answered':
    case 'call.ended': {
      const data: WebhookCallData = {
        call: webhookCall(event.call),
        contacts: contacts.get(event.call.id) ?? [],
      };
      if (event.type === 'call.ended') contacts.delete(event.call.id);
      const at =
        (event.type === 'call.ended' ? event.call.endedAt : event.call.answeredAt) ?? event.call.startedAt;
      enqueue(event.type, `${tokenTag(event.call.token)}:${event.call.id}`, at, data);
      break;
    }
    case 'queue.joined':
    case 'queue.offered':
    case 'queue.answered':
    case 'queue.left': {
      const session = event.session;
      const data: WebhookQueueData = {
        session: webhookSession(session),
        ...(event.type === 'queue.offered' ? { agent: event.agent } : {}),
      };
      const at =
        event.type === 'queue.left'
          ? (session.leftAt ?? session.joinedAt)
          : event.type === 'queue.answered'
            ? (session.answeredAt ?? session.joinedAt)
            : event.type === 'queue.offered'
              ? new Date(clock())
              : session.joinedAt;
      enqueue(
        event.type,
        `${tokenTag(session.token)}:${session.memberUuid}`,
        at,
        data,
        event.type === 'queue.offered' ? `:${event.agent}` : '',
      );
      break;
    }
    default:
      break;
  }
}

/** `call.logged`: a call delivered to a CRM (its activity, or why it was skipped). */
function onDelivered(delivered: ConnectorEvents['delivered'], enqueue: WebhookEnqueue): void {
  if (delivered.entry.kind !== 'log-call') return;
  // The call is in the entry's payload; its id (`<adapter>:<token tag>:<call id>:log-call`) says
  // the same, for a payload that cannot be read.
  const id = delivered.entry.id;
  let tag = id.slice(delivered.adapter.length + 1, delivered.adapter.length + 13);
  let callId = id.slice(delivered.adapter.length + 14, id.length - ':log-call'.length);
  try {
    const call = decodePayload(delivered.entry.payload).call;
    if (call) {
      callId = call.callId;
      tag = tokenTag(call.token);
    }
  } catch {
    // keep what the id says
  }
  const result = delivered.result;
  const data: WebhookLoggedData = {
    callId,
    tokenTag: tag,
    crm: delivered.adapter,
    ...('skipped' in result
      ? { skipped: result.skipped }
      : {
          activity: {
            id: result.id,
            ...(result.url !== undefined ? { url: result.url } : {}),
            created: result.created,
          },
        }),
  };
  enqueue(
    'call.logged',
    `${tag}:${callId}`,
    new Date(delivered.entry.updatedAt),
    data,
    `:${delivered.adapter}`,
  );
}
