/** A number ringing several of our lines at once (hunting / simultaneous ring). */
import { newCallId } from './random.js';
import { type LineEventInput, lineEvent } from './raw-events.js';
import type { HuntingOptions } from './scenario.js';
import type { ScenarioState } from './state.js';

/**
 * `start_ringing` on every line (40 ms apart), then at the answer `start_calling` + `end_calling` on the
 * answering line and `end_ringing` on the others (20 ms apart).
 */
export function hunting(state: ScenarioState, o: HuntingOptions): void {
  const before = state.seq;
  const { t0, finish } = state.begin(o);
  const first = o.callId ?? newCallId(state.random);
  const callIds = o.lines.map((_, i) => (o.sharedCallId || i === 0 ? first : newCallId(state.random)));
  const leg = (line: string, i: number) => ({
    line,
    callId: callIds[i] ?? first,
    calling: o.from,
    called: line,
  });
  const answerAt = t0 + o.ringSeconds * 1000;
  const winner = o.answeredBy === undefined ? -1 : o.lines.indexOf(o.answeredBy);
  o.lines.forEach((line, i) => {
    lineEvent(state, 'start_ringing', t0 + i * 40, {
      ...leg(line, i),
      body: 'SIP/2.0 180 Ringing',
      cseq: '1 INVITE',
    });
  });
  let end = answerAt;
  o.lines.forEach((line, i) => {
    if (i === winner) end = answerLeg(state, leg(line, i), answerAt, o.talkSeconds);
    else stopRinging(state, leg(line, i), answerAt + 20 * (i + 1), winner >= 0);
  });
  finish(end);
  state.record(
    {
      kind: 'hunting',
      callIds: [...new Set(callIds)],
      startedAt: new Date(t0),
      endedAt: new Date(Math.max(end, answerAt + 20 * o.lines.length)),
    },
    before,
  );
}

type Leg = Omit<LineEventInput, 'body' | 'cseq'>;

/** The answering line: `start_calling` at `answerAt`, `end_calling` after the talk; returns the end. */
function answerLeg(state: ScenarioState, leg: Leg, answerAt: number, talkSeconds: number): number {
  lineEvent(state, 'start_calling', answerAt, { ...leg, body: 'SIP/2.0 200 OK', cseq: '1 INVITE' });
  const end = answerAt + talkSeconds * 1000;
  lineEvent(state, 'end_calling', end, { ...leg, body: 'BYE', cseq: '2 BYE' });
  return end;
}

/** A line that stops ringing: 487 when another line answered, 408 when nobody did. */
function stopRinging(state: ScenarioState, leg: Leg, at: number, answered: boolean): void {
  lineEvent(state, 'end_ringing', at, {
    ...leg,
    body: answered ? 'SIP/2.0 487 Request Terminated' : 'SIP/2.0 408 Request Timeout',
    cseq: '1 CANCEL',
  });
}
