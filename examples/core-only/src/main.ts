/**
 * cti-bridge core as a plain library: follow an OVH CTI event stream, turn its events into calls
 * and queue sessions with a CallTracker, and print them. No runner, no CRM.
 *
 * - With `OVH_EVENT_TOKEN` set, it follows the real stream (`events.voip.ovh.net`) until Ctrl-C.
 * - Without, it starts the fake OVH events server on 127.0.0.1, plays a scripted morning of calls
 *   from the scenario builder through it, prints what the tracker made of them, and exits.
 */
import { pathToFileURL } from 'node:url';
import {
  type Call,
  CallTracker,
  createEventStream,
  formatPhone,
  type OvhEvent,
  type QueueSession,
} from '@cti-bridge/core';
import { createScenario, startFakeOvhEventsServer } from '@cti-bridge/core/testing';

/** One printed line per ended call. */
export function describeCall(call: Call): string {
  const who = formatPhone(call.remote);
  const line = call.lineLabel ?? formatPhone(call.line);
  const times = `rang ${call.ringSeconds} s, talked ${call.talkSeconds} s${call.holdSeconds ? ` (hold ${call.holdSeconds} s)` : ''}`;
  const queue = call.queue ? `, via queue ${call.queue.queue} after ${call.queue.waitSeconds} s` : '';
  const inferred = call.inferred ? ` [inferred: ${call.inferredReason}]` : '';
  return `call  ${call.id}  ${call.direction} ${call.outcome} ${call.direction === 'outbound' ? 'to' : 'from'} ${who} on ${line}: ${times}${queue}${inferred}`;
}

/** One printed line per ended queue session. */
export function describeSession(session: QueueSession): string {
  const caller = session.caller ? formatPhone(session.caller) : 'unknown caller';
  const name = session.callerName ? ` (${session.callerName})` : '';
  const agent = session.answeredBy ? `, answered by ${session.answeredBy}` : '';
  const offered = session.agentsOffered.length ? `, offered to ${session.agentsOffered.length} agent(s)` : '';
  return `queue ${session.queue}  ${session.outcome} ${caller}${name}: waited ${session.waitSeconds} s, talked ${session.talkSeconds} s${offered}${agent}`;
}

/** Feeds events to a tracker and prints every call and queue session that ends. */
async function follow(
  events: AsyncIterable<OvhEvent>,
  write: (line: string) => void,
  stopAfter?: number,
): Promise<void> {
  const tracker = new CallTracker();
  let seen = 0;
  for await (const event of events) {
    for (const out of tracker.push(event)) {
      if (out.type === 'call.ringing')
        write(`ring  ${out.call.id}  ${formatPhone(out.call.remote)} → ${formatPhone(out.call.line)}`);
      if (out.type === 'call.ended') write(describeCall(out.call));
      if (out.type === 'queue.left') write(describeSession(out.session));
    }
    if (stopAfter !== undefined && ++seen >= stopAfter) return;
  }
}

/** The offline demo: a scripted morning through the fake OVH server, each line handed to `write`. */
export async function runDemo(write: (line: string) => void = console.log): Promise<void> {
  const token = 'DEMO0000-0000-4000-8000-000000000000';
  const scenario = createScenario({ token })
    .inboundAnswered({
      from: '06 12 34 56 78',
      to: '09 72 10 10 10',
      ringSeconds: 8,
      talkSeconds: 185,
      holdSeconds: 30,
    })
    .inboundMissed({ from: '+33 6 98 76 54 32', to: '09 72 10 10 11', ringSeconds: 22 })
    .outbound({ from: '09 72 10 10 12', to: '01 44 55 66 77', ringSeconds: 6, talkSeconds: 240 })
    .hunting({
      from: '06 11 22 33 44',
      lines: ['09 72 10 10 10', '09 72 10 10 11', '09 72 10 10 12'],
      answeredBy: '09 72 10 10 11',
      ringSeconds: 5,
      talkSeconds: 95,
      sharedCallId: false,
    })
    .queueAnswered({
      queue: '09 72 10 10 20',
      caller: '06 55 44 33 22',
      callerName: 'Chloé Durand',
      agents: ['09 72 10 10 10', '09 72 10 10 11'],
      answeredBy: '09 72 10 10 10',
      waitSeconds: 42,
      talkSeconds: 300,
      withLineEvents: true,
    })
    .queueAbandoned({
      queue: '09 72 10 10 20',
      caller: '07 12 12 12 12',
      agents: ['09 72 10 10 11'],
      waitSeconds: 75,
    });
  const server = await startFakeOvhEventsServer({ holdMs: 1_000 });
  const raw = scenario.events();
  server.push(token, raw);
  const stream = createEventStream({ tokens: [token], baseUrl: server.url, watchdogMs: 0 });
  try {
    await follow(stream, write, raw.length);
  } finally {
    await stream.close();
    await server.close();
  }
}

async function main(): Promise<void> {
  const token = process.env.OVH_EVENT_TOKEN;
  if (!token) {
    await runDemo();
    return;
  }
  const stream = createEventStream({ tokens: [token] });
  const stop = () => void stream.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  console.log('following the OVH event stream; Ctrl-C to stop');
  await follow(stream, console.log);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
