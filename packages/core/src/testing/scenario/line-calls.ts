/** Calls on one of our lines: an answered inbound call, a missed inbound call, an outbound call. */
import { newCallId } from './random.js';
import { lineEvent } from './raw-events.js';
import type { InboundAnsweredOptions, InboundMissedOptions, OutboundOptions } from './scenario.js';
import type { ScenarioState } from './state.js';

/** `start_ringing` → `start_calling` → [`start_hold` → `end_hold`] → `end_calling`, on `to`. */
export function inboundAnswered(state: ScenarioState, o: InboundAnsweredOptions): void {
  const before = state.seq;
  const { t0, finish } = state.begin(o);
  const callId = o.callId ?? newCallId(state.random);
  const base = { line: o.to, callId, calling: o.from, called: o.to };
  const answer = t0 + o.ringSeconds * 1000;
  const hold = (o.holdSeconds ?? 0) * 1000;
  const end = answer + o.talkSeconds * 1000 + hold;
  lineEvent(state, 'start_ringing', t0, { ...base, body: 'SIP/2.0 180 Ringing', cseq: '1 INVITE' });
  lineEvent(state, 'start_calling', answer, { ...base, body: 'SIP/2.0 200 OK', cseq: '1 INVITE' });
  if (hold > 0) {
    const holdAt = answer + Math.floor((o.talkSeconds * 1000) / 2);
    lineEvent(state, 'start_hold', holdAt, { ...base, body: 'INVITE', cseq: '2 INVITE' });
    lineEvent(state, 'end_hold', holdAt + hold, { ...base, body: 'INVITE', cseq: '3 INVITE' });
  }
  lineEvent(state, 'end_calling', end, { ...base, body: 'BYE', cseq: '4 BYE' });
  finish(end);
  state.record(
    { kind: 'inbound-answered', callIds: [callId], startedAt: new Date(t0), endedAt: new Date(end) },
    before,
  );
}

/** `start_ringing` → `end_ringing` on `to`. */
export function inboundMissed(state: ScenarioState, o: InboundMissedOptions): void {
  const before = state.seq;
  const { t0, finish } = state.begin(o);
  const callId = o.callId ?? newCallId(state.random);
  const base = { line: o.to, callId, calling: o.from, called: o.to };
  const end = t0 + o.ringSeconds * 1000;
  lineEvent(state, 'start_ringing', t0, { ...base, body: 'SIP/2.0 180 Ringing', cseq: '1 INVITE' });
  lineEvent(state, 'end_ringing', end, {
    ...base,
    body: 'SIP/2.0 487 Request Terminated',
    cseq: '1 CANCEL',
  });
  finish(end);
  state.record(
    { kind: 'inbound-missed', callIds: [callId], startedAt: new Date(t0), endedAt: new Date(end) },
    before,
  );
}

/** `start_calling` → `end_calling` on `from`; a 487 `end_calling` when nobody answered. */
export function outbound(state: ScenarioState, o: OutboundOptions): void {
  const before = state.seq;
  const { t0, finish } = state.begin(o);
  const callId = o.callId ?? newCallId(state.random);
  const base = { line: o.from, callId, calling: o.from, called: o.to };
  const end = t0 + (o.ringSeconds + o.talkSeconds) * 1000;
  lineEvent(state, 'start_calling', t0, { ...base, body: 'INVITE', cseq: '1 INVITE' });
  if (o.talkSeconds > 0) lineEvent(state, 'end_calling', end, { ...base, body: 'BYE', cseq: '2 BYE' });
  else
    lineEvent(state, 'end_calling', end, {
      ...base,
      body: 'SIP/2.0 487 Request Terminated',
      cseq: '1 CANCEL',
    });
  finish(end);
  state.record(
    { kind: 'outbound', callIds: [callId], startedAt: new Date(t0), endedAt: new Date(end) },
    before,
  );
}
