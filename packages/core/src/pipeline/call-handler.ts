import { performance } from 'node:perf_hooks';
import { STRAY_END_REASON } from '../calls/call-tracker.js';
import type { Call, CallEvent, QueueSession } from '../calls/types.js';
import type { SeenCallJournal } from '../healing/journal.js';
import type { Logger } from '../logger.js';
import type { ConnectorEmitter } from './connector-events.js';
import type { LookupCache } from './lookup-cache.js';
import { callEntries, queueSessionEntry } from './outbox-entries.js';
import type { OutboxWriter } from './outbox-writer.js';
import { toCallRecord } from './records.js';
import type { Routing } from './routing.js';

/** The call counters a connector reports in its stats. */
export interface CallCounters {
  calls: number;
  queueSessions: number;
  screenPops: number;
  strayEnds: number;
}

/** What a {@link CallHandler} needs. */
export interface CallHandlerOptions {
  readonly routing: Routing;
  readonly cache: LookupCache;
  readonly writer: Pick<OutboxWriter, 'enqueue'>;
  readonly journal: Pick<SeenCallJournal, 'record'>;
  readonly events: ConnectorEmitter;
  readonly counters: CallCounters;
  readonly logger: Logger;
  readonly clock: () => number;
  /** How long a screen pop waits for each adapter's lookup (ms). */
  readonly lookupTimeoutMs: number;
}

/** Turns the tracker's call events into screen pops and outbox entries. */
export interface CallHandler {
  /**
   * Handles the tracker's events in order: a screen pop (beside the stream) on a call's first ring
   * or answer, the outbox entries of an ended call or a queue member who left. A failure is
   * reported and the next event is handled.
   */
  handle(events: readonly CallEvent[], arrivedAt: number): Promise<void>;
  /** The screen pops in flight. */
  pending(): ReadonlySet<Promise<void>>;
}

/** Creates a {@link CallHandler}. */
export function createCallHandler(options: CallHandlerOptions): CallHandler {
  const { events } = options;
  const popped = new Set<string>();
  const callerNames = new Map<string, string>();
  const pending = new Set<Promise<void>>();
  const track = (promise: Promise<void>) => {
    pending.add(promise);
    void promise.finally(() => pending.delete(promise));
  };
  const popOnce = (call: Call, arrivedAt: number) => {
    if (popped.has(call.id)) return;
    popped.add(call.id);
    track(
      screenPop(call, arrivedAt, options).catch((error: unknown) =>
        events.report(error, 'screen pop failed'),
      ),
    );
  };
  const handleOne = async (event: CallEvent, arrivedAt: number) => {
    switch (event.type) {
      case 'call.ringing':
      case 'call.answered':
        popOnce(event.call, arrivedAt);
        break;
      case 'call.ended': {
        popped.delete(event.call.id);
        const remoteName = callerNames.get(event.call.id);
        callerNames.delete(event.call.id);
        await onCallEnded(event.call, remoteName, options);
        break;
      }
      case 'queue.joined':
      case 'queue.answered':
        if (event.session.callId !== undefined && event.session.callerName !== undefined) {
          callerNames.set(event.session.callId, event.session.callerName);
        }
        break;
      case 'queue.left':
        await onSessionLeft(event.session, options);
        break;
      default:
        break;
    }
  };
  return {
    async handle(list, arrivedAt) {
      for (const event of list) {
        events.emit('call-event', event);
        try {
          await handleOne(event, arrivedAt);
        } catch (error) {
          events.report(error, `handling ${event.type} failed`);
        }
      }
    },
    pending: () => pending,
  };
}

/** Looks the caller up (adapters in order, the first match wins) and emits the screen pop. */
async function screenPop(call: Call, arrivedAt: number, options: CallHandlerOptions): Promise<void> {
  const { routing, cache, events } = options;
  const route = routing.routeOf(call.token);
  if (!route) return;
  if (call.direction === 'internal' && routing.policiesOf(route).internalCalls === 'skip') return;
  const { matches, adapter } = call.remote.withheld
    ? { matches: [], adapter: undefined }
    : await cache.firstMatch(route.adapters, call.remote, options.lookupTimeoutMs, (error, name) =>
        events.report(error, `caller lookup failed on ${name}; trying the next adapter`, name),
      );
  options.counters.screenPops++;
  const best = matches[0];
  events.emit('screen-pop', {
    token: call.token,
    call,
    matches,
    ...(adapter !== undefined ? { adapter } : {}),
    ...(best ? { url: best.url } : {}),
    latencyMs: performance.now() - arrivedAt,
  });
}

/** Journals an ended call as seen and writes its outbox entries, adapter by adapter. */
async function onCallEnded(call: Call, remoteName: string | undefined, options: CallHandlerOptions) {
  const { routing, events, counters } = options;
  counters.calls++;
  events.emit('call', call);
  // A stray end (no start, no answer, and still none after the settle window): the only thing
  // known is that something ended. It is not logged — OVH's call records tell whether it was a
  // call (healing logs it then, with what the record knows) — and not journaled as seen, so
  // healing does not take it for the record's call.
  if (call.inferredReason?.includes(STRAY_END_REASON)) {
    counters.strayEnds++;
    options.logger.warn(
      { callId: call.id.slice(0, 64), line: call.line.e164 ?? call.line.raw },
      'an end event for a call never seen: not logged (healing from OVH call records logs it if OVH billed a call)',
    );
    return;
  }
  // what healing matches OVH's call records against (healed calls too: healing a window again
  // then finds them, and reports nothing missing)
  await options.journal
    .record(call)
    .catch((error: unknown) => events.report(error, 'recording a seen call failed'));
  const route = routing.routeOf(call.token);
  if (!route) return;
  const record = toCallRecord(call, { lineLabels: routing.lineLabelsOf(route), remoteName });
  const context = { routing, cache: options.cache, createdAt: options.clock() };
  for (const target of route.adapters) {
    for (const entry of callEntries(call, record, route, target, context))
      await options.writer.enqueue(entry);
  }
}

/** Writes the queue-session entries of a queue member who left. */
async function onSessionLeft(session: QueueSession, options: CallHandlerOptions) {
  const { routing, events } = options;
  options.counters.queueSessions++;
  events.emit('queue-session', session);
  const route = routing.routeOf(session.token);
  if (!route) return;
  const context = { routing, cache: options.cache, createdAt: options.clock() };
  for (const target of route.adapters) {
    const entry = queueSessionEntry(session, route, target, context);
    if (entry) await options.writer.enqueue(entry);
  }
}
