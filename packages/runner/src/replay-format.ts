import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Call, PhoneNumber, QueueSession, RawOvhEvent } from '@cti-bridge/core';
import { quoteBigTimestamps } from '@cti-bridge/core';
import { maskToken } from './ops/secrets.js';

/**
 * Reads a recording: JSON lines, each one raw OVH event (what `cti-runner record` writes) or a
 * whole v1 envelope `{ Session, Events: [...] }`. Blank lines and `#` comments are skipped.
 * `Timestamp`/`TsGet` keep every digit. Yields `{ line, raw }` or `{ line, error }`.
 */
export async function* readRecording(
  file: string,
): AsyncGenerator<{ line: number; raw: RawOvhEvent } | { line: number; error: string }> {
  const lines = createInterface({
    input: createReadStream(file, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let n = 0;
  for await (const text of lines) {
    n++;
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    let value: unknown;
    try {
      value = JSON.parse(quoteBigTimestamps(trimmed));
    } catch (error) {
      yield { line: n, error: `not JSON (${(error as Error).message})` };
      continue;
    }
    if (
      value !== null &&
      typeof value === 'object' &&
      Array.isArray((value as { Events?: unknown }).Events)
    ) {
      for (const raw of (value as { Events: unknown[] }).Events) {
        if (raw !== null && typeof raw === 'object') yield { line: n, raw: raw as RawOvhEvent };
      }
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      yield { line: n, raw: value as RawOvhEvent };
    } else {
      yield { line: n, error: 'expected a JSON object (one OVH event per line)' };
    }
  }
}

/** A phone number in replay JSON: E.164 when known, else the raw string; plus the raw string. */
export interface JsonPhone {
  readonly number: string;
  readonly raw: string;
  readonly withheld: boolean;
}

function phone(value: PhoneNumber | undefined): JsonPhone | null {
  if (value === undefined) return null;
  return { number: value.e164 ?? value.raw, raw: value.raw, withheld: value.withheld };
}

const iso = (date: Date | undefined): string | null => (date === undefined ? null : date.toISOString());

/** The JSON line `replay --format json` prints for a finished call (documented in the README). */
export function callToJson(call: Call): Record<string, unknown> {
  return {
    type: 'call',
    id: call.id,
    token: maskToken(call.token),
    direction: call.direction,
    outcome: call.outcome ?? null,
    line: phone(call.line),
    lineLabel: call.lineLabel ?? null,
    remote: phone(call.remote),
    linesRung: call.linesRung,
    startedAt: iso(call.startedAt),
    answeredAt: iso(call.answeredAt),
    endedAt: iso(call.endedAt),
    ringSeconds: call.ringSeconds,
    talkSeconds: call.talkSeconds,
    holdSeconds: call.holdSeconds,
    queue:
      call.queue === undefined
        ? null
        : {
            queue: call.queue.queue,
            memberUuid: call.queue.memberUuid,
            agent: call.queue.agent ?? null,
            waitSeconds: call.queue.waitSeconds,
            outcome: call.queue.outcome ?? null,
          },
    inferred: call.inferred,
    inferredReason: call.inferredReason ?? null,
  };
}

/** The JSON line `replay --format json` prints for a finished queue session. */
export function queueSessionToJson(session: QueueSession): Record<string, unknown> {
  return {
    type: 'queue-session',
    memberUuid: session.memberUuid,
    token: maskToken(session.token),
    queue: session.queue,
    caller: phone(session.caller),
    callerName: session.callerName ?? null,
    outcome: session.outcome ?? null,
    joinedAt: iso(session.joinedAt),
    answeredAt: iso(session.answeredAt),
    leftAt: iso(session.leftAt),
    agentsOffered: session.agentsOffered,
    answeredBy: session.answeredBy ?? null,
    waitSeconds: session.waitSeconds,
    talkSeconds: session.talkSeconds,
    cause: session.cause ?? null,
    cancelReason: session.cancelReason ?? null,
    callId: session.callId ?? null,
    inferred: session.inferred,
    inferredReason: session.inferredReason ?? null,
  };
}

/** One human line for a finished call. */
export function describeCall(call: Call): string {
  const remote = call.remote.e164 ?? call.remote.raw;
  const line = call.lineLabel ?? call.line.e164 ?? call.line.raw;
  const arrow = call.direction === 'outbound' ? '→' : '←';
  const queue = call.queue ? ` via queue ${call.queue.queue} (waited ${call.queue.waitSeconds}s)` : '';
  return `${call.direction.padEnd(8)} ${String(call.outcome ?? '?').padEnd(9)} ${line} ${arrow} ${remote}  ring ${call.ringSeconds}s talk ${call.talkSeconds}s${queue}${call.inferred ? ' (inferred)' : ''}`;
}

/** One human line for a finished queue session. */
export function describeQueueSession(session: QueueSession): string {
  const caller = session.caller?.e164 ?? session.caller?.raw ?? session.callerName ?? 'unknown caller';
  const by = session.answeredBy ? ` by ${session.answeredBy}` : '';
  return `queue    ${String(session.outcome ?? '?').padEnd(9)} ${session.queue} ← ${caller}  waited ${session.waitSeconds}s${by}`;
}
