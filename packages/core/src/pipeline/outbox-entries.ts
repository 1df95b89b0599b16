import type { CallRecord } from '../adapter/contract.js';
import type { Call, QueueSession } from '../calls/types.js';
import type { NewOutboxEntry } from '../store/types.js';
import { idempotencyKey } from './idempotency.js';
import type { LookupCache } from './lookup-cache.js';
import { encodePayload } from './records.js';
import type { Routing } from './routing.js';
import type { Route, RouteAdapter } from './types.js';

/** What building outbox entries reads: the routing (policies, owners) and the lookups' answers. */
export interface OutboxEntryContext {
  readonly routing: Routing;
  readonly cache: Pick<LookupCache, 'settledMatch'>;
  /** When the entries are created (clock). */
  readonly createdAt: number;
}

/**
 * The outbox entries of an ended call for one adapter of its route: its `log-call` entry, and a
 * `follow-up` entry for a missed inbound call when the policy asks for one and the adapter can; none
 * for an internal call the policy skips. The payload carries the call record, the caller's match
 * already known (from the screen pop's lookup) and the owner mapped from the line or queue agent.
 */
export function callEntries(
  call: Call,
  record: CallRecord,
  route: Route,
  target: RouteAdapter,
  context: OutboxEntryContext,
): NewOutboxEntry[] {
  const { routing, cache, createdAt } = context;
  const policies = routing.policiesOf(route, target);
  if (call.direction === 'internal' && policies.internalCalls === 'skip') return [];
  const ownerId = routing.ownerOf(target, route, [
    call.line.e164,
    call.line.raw,
    ...routing.agentKeys(call.queue?.agent, route),
  ]);
  const match = cache.settledMatch(target, call.remote);
  const payload = encodePayload({ call: record, match, ownerId });
  const entry = (kind: 'log-call' | 'follow-up'): NewOutboxEntry => ({
    id: idempotencyKey(target.name, call.token, call.id, kind),
    adapter: target.name,
    kind,
    payload,
    createdAt,
  });
  const entries = [entry('log-call')];
  if (
    policies.missedCallFollowUp &&
    call.outcome === 'missed' &&
    call.direction === 'inbound' &&
    target.adapter.capabilities.followUpTask &&
    target.adapter.createFollowUpTask
  ) {
    entries.push(entry('follow-up'));
  }
  return entries;
}

/**
 * The `queue-session` entry of a queue member who left, for one adapter of its route; none when
 * the policy or the adapter does not log queue sessions.
 */
export function queueSessionEntry(
  session: QueueSession,
  route: Route,
  target: RouteAdapter,
  context: OutboxEntryContext,
): NewOutboxEntry | undefined {
  const { routing, cache, createdAt } = context;
  const policies = routing.policiesOf(route, target);
  if (
    !policies.queueSessions ||
    !target.adapter.capabilities.queueSessions ||
    !target.adapter.logQueueSession
  ) {
    return undefined;
  }
  const ownerId = routing.ownerOf(target, route, routing.agentKeys(session.answeredBy, route));
  const match = session.caller ? cache.settledMatch(target, session.caller) : null;
  return {
    id: idempotencyKey(target.name, session.token, session.memberUuid, 'queue-session'),
    adapter: target.name,
    kind: 'queue-session',
    payload: encodePayload({ session, match, ownerId }),
    createdAt,
  };
}
