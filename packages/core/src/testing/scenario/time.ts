/** Event times: Paris wall time and the time fields of a raw event (`Timestamp`, `TsGet`, `Date`, `Ts`). */
import type { Random } from './random.js';

const parisParts = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Paris',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
  timeZoneName: 'short',
});

/** Paris wall time of an instant: `{ day: '2026-01-05', time: '10:00:00', label: 'CET' }`. */
export function parisWall(ms: number): { day: string; time: string; label: string } {
  const parts: Record<string, string> = {};
  for (const part of parisParts.formatToParts(ms)) parts[part.type] = part.value;
  const label = parts.timeZoneName === 'GMT+2' || parts.timeZoneName === 'CEST' ? 'CEST' : 'CET';
  return {
    day: `${parts.year}-${parts.month}-${parts.day}`,
    time: `${parts.hour}:${parts.minute}:${parts.second}`,
    label,
  };
}

/** The time fields of one event. */
export interface TimeFields {
  /** Nanoseconds, a little after the event time. */
  readonly Timestamp: bigint;
  /** Nanoseconds, a little before `Timestamp`. */
  readonly TsGet: bigint;
  /** `2026-01-05T10:00:00.123456 (CET)`. */
  readonly Date: string;
  /** `2026-01-05 10:00:00`. */
  readonly Datetime: string;
  /** Epoch seconds with milliseconds: a string for even `seq`, a number for odd ones, as OVH alternates. */
  readonly Ts: string | number;
}

/**
 * The time fields of the event number `seq` happening at `atMs`, with random sub-second parts.
 * `timestampNs` forces the `Timestamp` (events OVH sends with the same one).
 */
export function timeFields(random: Random, seq: number, atMs: number, timestampNs?: bigint): TimeFields {
  const ns =
    timestampNs ??
    BigInt(atMs + 120 + Math.floor(random() * 80)) * 1_000_000n + BigInt(Math.floor(random() * 1_000_000));
  const tsGet = ns - BigInt(5_000_000 + Math.floor(random() * 25_000_000));
  const wall = parisWall(atMs);
  const micros = String((atMs % 1000) * 1000 + Math.floor(random() * 1000)).padStart(6, '0');
  const ts = (atMs / 1000).toFixed(3);
  return {
    Timestamp: ns,
    TsGet: tsGet,
    Date: `${wall.day}T${wall.time}.${micros} (${wall.label})`,
    Datetime: `${wall.day} ${wall.time}`,
    Ts: seq % 2 === 0 ? ts : Number(ts),
  };
}

/** Whole epoch seconds as a string, as queue events write times (`"1767603600"`). */
export function epoch(ms: number): string {
  return String(Math.floor(ms / 1000));
}
