/** Writers of raw v1 events: a line (`sip`) event and a queue (`queues`) event, exactly as OVH sends them. */
import type { ScenarioState } from './state.js';
import { timeFields } from './time.js';

/** What a line event says about its call. */
export interface LineEventInput {
  /** Our line the event is on. */
  readonly line: string;
  readonly callId: string;
  readonly calling: string;
  readonly called: string;
  /** `Data.Body`: the SIP message (`SIP/2.0 180 Ringing`, `BYE`…). */
  readonly body: string;
  /** `Data.Cseq` (`1 INVITE`). */
  readonly cseq: string;
}

/** Adds the line event `name` at `at` (epoch ms). */
export function lineEvent(state: ScenarioState, name: string, at: number, input: LineEventInput): void {
  const { ovh, national, lineId } = state.numbers;
  const t = timeFields(state.random, state.seq, at);
  const line = ovh(input.line);
  state.push(at, {
    Data: {
      Billing: line,
      Body: input.body,
      CallId: input.callId,
      Called: ovh(input.called),
      Calling: ovh(input.calling),
      Cseq: input.cseq,
      Datetime: t.Datetime,
      Dialed: ovh(input.called),
      Event: name,
      Protocol: 'sip',
      RelevantInfo: '',
      Ts: t.Ts,
      TsGet: t.TsGet,
    },
    Date: t.Date,
    Details: {
      Description: `Poste ${national(input.line)}`,
      Id: lineId(input.line),
      IdBillingAccount: state.billingAccount,
      SimultaneousLine: '2',
      Type: 'sipCirpack',
    },
    Event: name,
    Ressource: line,
    Service: 'sip',
    Timestamp: t.Timestamp,
    Token: state.token,
  });
}

/** Adds the queue event `name` at `at` (epoch ms) with `data` after the common `Data` fields. */
export function queueEvent(
  state: ScenarioState,
  name: string,
  at: number,
  queue: string,
  data: Record<string, unknown>,
  timestampNs?: bigint,
): void {
  const { ovh, national, lineId } = state.numbers;
  const t = timeFields(state.random, state.seq, at, timestampNs);
  state.push(at, {
    Data: {
      Action: name,
      Protocol: 'sip',
      Queue: ovh(queue),
      Ts: t.Ts,
      TsGet: t.TsGet,
      ...data,
    },
    Date: t.Date,
    Details: {
      Description: `File ${national(queue)}`,
      Id: lineId(queue),
      IdBillingAccount: state.billingAccount,
      SimultaneousLine: '0',
      Type: 'easyHunting',
    },
    Event: name,
    Ressource: ovh(queue),
    Service: 'queues',
    Timestamp: t.Timestamp,
    Token: state.token,
  });
}
