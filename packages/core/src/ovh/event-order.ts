import type { OvhEvent } from './types.js';

/** An event's time in nanoseconds: the server's `Timestamp` when sent, else `Data.Ts` (`at`). */
function eventTimeNs(event: OvhEvent): bigint {
  return event.timestampNs ?? BigInt(event.at.getTime()) * 1_000_000n;
}

/**
 * Sorts the events of one poll by their own time, in place; events with the same time keep their
 * order in the answer (a stable sort). See docs/ovh-stream.md §1: no order is promised.
 */
export function sortByEventTime(events: OvhEvent[]): OvhEvent[] {
  return events.sort((a, b) => {
    const x = eventTimeNs(a);
    const y = eventTimeNs(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}
