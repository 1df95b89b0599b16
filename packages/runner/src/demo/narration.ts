import { type Call, type ContactMatch, decodePayload, parsePhone } from '@cti-bridge/core';
import type { Runner } from '../runtime.js';
import { CONTACTS, LINE_LABELS } from './day.js';

const clockTime = (date: Date | undefined) =>
  date === undefined
    ? '--:--:--'
    : date.toLocaleTimeString('en-GB', { timeZone: 'Europe/Paris', hour12: false });

/** "call with Alice Martin (inbound, missed)" from an outbox payload. */
function describeEntry(kind: string, payload: unknown): string {
  try {
    const decoded = decodePayload(payload);
    if (decoded.call) {
      const number = decoded.call.remote.e164 ?? decoded.call.remote.raw;
      const name = decoded.match?.displayName ?? directory.get(number) ?? number;
      const what = kind === 'log-call' ? 'call' : kind;
      return `${what} ${decoded.call.direction === 'outbound' ? 'to' : 'from'} ${name} (${decoded.call.outcome})`;
    }
    if (decoded.session) return `queue session (${decoded.session.outcome ?? 'ended'})`;
  } catch {
    // Unknown payload shape: fall back to the kind.
  }
  return kind;
}

/** Contact names by E.164, to name the caller in delivery lines. */
const directory = new Map(CONTACTS.map((c) => [parsePhone(c.phones.salesforce).e164 ?? '', c.name]));

const labels = new Map(
  Object.entries(LINE_LABELS).map(([number, label]) => [parsePhone(number).e164 ?? number, label]),
);
const lineName = (call: Call) =>
  labels.get(call.line.e164 ?? '') ?? call.lineLabel ?? call.line.e164 ?? call.line.raw;

function who(call: Call, match: ContactMatch | undefined): string {
  const number = call.remote.e164 ?? call.remote.raw;
  return match === undefined ? `${number} (unknown caller)` : `${match.displayName} ${number}`;
}

function duration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}

/**
 * Prints what the demo's runner does as it happens: screen pops, ended calls, abandoned queue
 * sessions, deliveries and dead letters (counted per adapter in `deadBy`).
 */
export function printDemoActivity(
  runner: Runner,
  labelOf: (name: string) => string,
  print: (line: string) => void,
  deadBy: Map<string, number>,
): void {
  runner.connector.on('screen-pop', (pop) => {
    const match = pop.matches[0];
    const where =
      pop.adapter === undefined
        ? ''
        : ` — ${labelOf(pop.adapter)} ${match?.recordType ?? ''} ${match?.url ?? ''}`;
    const also = pop.matches.length > 1 ? ` (+${pop.matches.length - 1} more)` : '';
    print(
      `  ☎  ${clockTime(pop.call.startedAt)}  ${lineName(pop.call)}: ${who(pop.call, match)}${also}${where}`,
    );
  });
  runner.connector.on('call', (call) => {
    print(
      `  ■  ${clockTime(call.endedAt)}  ${lineName(call)}: ${call.direction} call ${call.outcome ?? ''}, talk ${duration(call.talkSeconds)}${call.queue ? `, waited ${call.queue.waitSeconds}s in queue` : ''}${call.linesRung.length > 1 ? `, rang ${call.linesRung.length} lines` : ''}`,
    );
  });
  runner.connector.on('queue-session', (session) => {
    if (session.outcome !== 'answered') {
      print(
        `  ■  ${clockTime(session.leftAt)}  queue ${session.queue}: caller ${session.outcome} after ${session.waitSeconds}s`,
      );
    }
  });
  runner.connector.on('delivered', (delivery) => {
    const retried = delivery.entry.attempts > 0 ? ` after ${delivery.entry.attempts} failed attempt(s)` : '';
    print(
      `     ✔ ${describeEntry(delivery.entry.kind, delivery.entry.payload)} logged in ${labelOf(delivery.adapter)}${retried}`,
    );
  });
  runner.connector.on('dead-letter', (dead) => {
    deadBy.set(dead.adapter, (deadBy.get(dead.adapter) ?? 0) + 1);
    print(`     ✖ ${labelOf(dead.adapter)}: gave up (${dead.error.message})`);
  });
}
