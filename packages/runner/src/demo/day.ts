import type { RawOvhEvent } from '@cti-bridge/core';
import { createScenario, type ScenarioCall } from '@cti-bridge/core/testing';

/** The OVH event token of the demo (simulated). */
export const DEMO_TOKEN = 'DE3A0000-C71B-4D6E-9F00-0000000D3E30';

/** Our OVH lines in the demo. */
export const LINES = {
  reception: '0033972101010',
  sales: '0033972101011',
  support: '0033972101012',
  queue: '0033972101020',
} as const;

/** Labels shown for our lines. */
export const LINE_LABELS: Record<string, string> = {
  [LINES.reception]: 'Reception',
  [LINES.sales]: 'Sales',
  [LINES.support]: 'Support',
  [LINES.queue]: 'Hotline queue',
};

/** A CRM contact of the demo, with the notation each CRM stored its number in. */
export interface DemoContact {
  readonly name: string;
  readonly kind: 'person' | 'company';
  /** Stored number per CRM (CRMs store numbers however users typed them). */
  readonly phones: { readonly salesforce: string; readonly hubspot: string; readonly odoo: string };
}

/** Contacts seeded in every CRM of the demo. */
export const CONTACTS: readonly DemoContact[] = [
  {
    name: 'Alice Martin',
    kind: 'person',
    phones: { salesforce: '+33 6 12 34 56 78', hubspot: '+33612345678', odoo: '06 12 34 56 78' },
  },
  {
    name: 'Bruno Dubois',
    kind: 'person',
    phones: { salesforce: '06.23.45.67.89', hubspot: '0623456789', odoo: '+33 6 23 45 67 89' },
  },
  {
    name: 'Chloé Bernard',
    kind: 'person',
    phones: { salesforce: '0033634567890', hubspot: '+33 6 34 56 78 90', odoo: '+33634567890' },
  },
  {
    name: 'Claire Petit',
    kind: 'person',
    phones: { salesforce: '+33645678901', hubspot: '06 45 67 89 01', odoo: '0645678901' },
  },
  {
    name: 'Durand Industries',
    kind: 'company',
    phones: { salesforce: '+33 1 45 67 89 00', hubspot: '0145678900', odoo: '+33 1 45 67 89 00' },
  },
];

/** A call the demo expects to find logged in every CRM, exactly once. */
export interface ExpectedCall {
  /** What happened, for the output. */
  readonly label: string;
  /** CallIds that may carry it (hunting legs have their own ids): logged once across all of them. */
  readonly callIds: readonly string[];
}

/** One part of the day, pushed to the fake OVH server as a batch. */
export interface DemoPhase {
  readonly title: string;
  /** Faults to inject in the CRMs before the phase's events are played (the outage). */
  readonly outage: boolean;
  /** Raw OVH events per call, in delivery order (played call by call). */
  readonly calls: ReadonlyArray<{ readonly label: string; readonly events: RawOvhEvent[] }>;
}

type Scenario = ReturnType<typeof createScenario>;

/** Builds the day's phases and expected calls as the scenario generates them, call by call. */
function dayRecorder(s: Scenario) {
  const phases: DemoPhase[] = [];
  const expected: ExpectedCall[] = [];
  let phase: { title: string; outage: boolean; calls: Array<DemoPhase['calls'][number]> } | undefined;
  let seen = 0;
  return {
    phases,
    expected,
    /** Starts a phase: the calls recorded from now on belong to it. */
    begin(title: string, outage: boolean): void {
      phase = { title, outage, calls: [] };
      phases.push(phase);
    },
    /** Records what the builder generated since the last step as one call. */
    step(label: string, logged: boolean): void {
      const events = s.events();
      const calls = s.calls();
      const call = calls[calls.length - 1] as ScenarioCall;
      phase?.calls.push({ label, events: events.slice(seen) });
      seen = events.length;
      if (logged && call.callIds.length > 0) expected.push({ label, callIds: call.callIds });
    },
  };
}

type DayRecorder = ReturnType<typeof dayRecorder>;

/** A realistic day in the life of a small company's phone lines, in three phases. */
export function demoDay(start: Date): { phases: DemoPhase[]; expected: ExpectedCall[] } {
  const s = createScenario({ token: DEMO_TOKEN, start, billingAccount: 'ovhtel-demo-1' });
  const day = dayRecorder(s);
  morning(s, day);
  midday(s, day);
  afternoon(s, day);
  return { phases: day.phases, expected: day.expected };
}

/** Morning: answered, missed, called back, hunting. */
function morning(s: Scenario, day: DayRecorder): void {
  const { begin, step } = day;
  begin('Morning', false);
  s.inboundAnswered({
    from: '+33 6 12 34 56 78',
    to: LINES.reception,
    ringSeconds: 8,
    talkSeconds: 185,
    callId: 'demo-0001',
  });
  step('Alice Martin calls Reception, answered', true);
  s.wait(240);
  s.inboundMissed({ from: '06 23 45 67 89', to: LINES.sales, ringSeconds: 25, callId: 'demo-0002' });
  step('Bruno Dubois calls Sales, nobody picks up (missed)', true);
  s.wait(420);
  s.outbound({
    from: LINES.sales,
    to: '06 23 45 67 89',
    ringSeconds: 6,
    talkSeconds: 240,
    callId: 'demo-0003',
  });
  step('Sales calls Bruno Dubois back (outbound)', true);
  s.wait(900);
  s.hunting({
    from: '+33 1 45 67 89 00',
    lines: [LINES.reception, LINES.sales, LINES.support],
    answeredBy: LINES.support,
    ringSeconds: 12,
    talkSeconds: 95,
    sharedCallId: false,
    callId: 'demo-0004',
  });
  step('Durand Industries rings 3 lines at once; Support answers (one call, not 3)', true);
}

/** Midday: the CRMs fail (429, 5xx) through queue calls, an unknown caller, an unanswered call. */
function midday(s: Scenario, day: DayRecorder): void {
  const { begin, step } = day;
  begin('Midday — the CRMs fail: 429 rate limits and 5xx errors', true);
  s.wait(1800);
  s.queueAnswered({
    queue: LINES.queue,
    caller: '0645678901',
    callerName: 'Claire Petit',
    agents: [LINES.sales, LINES.support],
    answeredBy: LINES.support,
    waitSeconds: 35,
    talkSeconds: 300,
    withLineEvents: true,
    memberUuid: 'demo-member-0005',
  });
  step('Claire Petit waits 35 s in the hotline queue, Support takes it', true);
  s.wait(600);
  s.inboundAnswered({
    from: '+44 20 7946 0958',
    to: LINES.reception,
    ringSeconds: 5,
    talkSeconds: 60,
    callId: 'demo-0006',
  });
  step('An unknown caller from London, answered by Reception', true);
  s.wait(300);
  s.queueAbandoned({
    queue: LINES.queue,
    caller: '+33 7 88 99 00 11',
    agents: [LINES.sales, LINES.support],
    waitSeconds: 50,
    reason: 'BREAK_OUT',
    memberUuid: 'demo-member-0007',
  });
  step('An unknown caller hangs up after 50 s in the queue (abandoned)', false);
  s.wait(120);
  s.outbound({
    from: LINES.support,
    to: '0033634567890',
    ringSeconds: 20,
    talkSeconds: 0,
    callId: 'demo-0008',
  });
  step('Support calls Chloé Bernard, no answer', true);
}

/** Afternoon: the CRMs are back. */
function afternoon(s: Scenario, day: DayRecorder): void {
  const { begin, step } = day;
  begin('Afternoon — the CRMs are back', false);
  s.wait(3600);
  s.inboundAnswered({
    from: '0033634567890',
    to: LINES.sales,
    ringSeconds: 4,
    talkSeconds: 420,
    holdSeconds: 30,
    callId: 'demo-0009',
  });
  step('Chloé Bernard calls Sales back (put on hold 30 s)', true);
  s.wait(500);
  s.inboundMissed({ from: '+33 6 12 34 56 78', to: LINES.support, ringSeconds: 18, callId: 'demo-0010' });
  step('Alice Martin calls Support, missed', true);
}
