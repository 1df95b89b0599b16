import {
  type Call,
  type CallRecord,
  CallTracker,
  type ContactMatch,
  type CrmAdapter,
  normalizeEvent,
} from '@cti-bridge/core';
import { createScenario, createTestAdapterContext } from '@cti-bridge/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { salesforce } from './index.js';
import { type FakeSalesforce, startFakeSalesforce } from './testing/index.js';

// A realistic OVH sequence (ring, answer, hang up) goes through core's normaliser and CallTracker;
// the adapter is called the way the pipeline calls it: a lookup on ring, a write on end. The fake
// records what jsforce actually sent.

let fake: FakeSalesforce | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function toRecord(call: Call): CallRecord {
  return {
    callId: call.id,
    token: call.token,
    direction: call.direction,
    outcome: call.outcome ?? 'answered',
    line: call.line,
    ...(call.lineLabel ? { lineLabel: call.lineLabel } : {}),
    remote: call.remote,
    startedAt: call.startedAt,
    ...(call.answeredAt ? { answeredAt: call.answeredAt } : {}),
    endedAt: call.endedAt ?? call.startedAt,
    ringSeconds: call.ringSeconds,
    talkSeconds: call.talkSeconds,
    holdSeconds: call.holdSeconds,
    inferred: call.inferred,
  };
}

async function ringAnswerEnd(adapter: CrmAdapter): Promise<{ types: string[]; call?: CallRecord }> {
  const token = 'TOKEN-1';
  const events = createScenario({ token })
    .inboundAnswered({
      from: '0612345678',
      to: '0972101010',
      ringSeconds: 6,
      talkSeconds: 84,
      holdSeconds: 10,
    })
    .events();
  const tracker = new CallTracker();
  const ctx = createTestAdapterContext();
  const types: string[] = [];
  let match: ContactMatch | undefined;
  let logged: CallRecord | undefined;
  for (const raw of events) {
    const normalized = normalizeEvent(raw, { token });
    if (!normalized.ok) throw new Error(normalized.error);
    for (const event of tracker.push(normalized.event)) {
      types.push(event.type);
      if (event.type === 'call.ringing') {
        [match] = await adapter.findContacts({ phone: event.call.remote }, ctx);
      }
      if (event.type === 'call.ended') {
        logged = toRecord(event.call);
        await adapter.logCall(logged, {
          ...ctx,
          idempotencyKey: `salesforce:${event.call.id}:call`,
          ...(match ? { match } : {}),
        });
      }
    }
  }
  return { types, ...(logged ? { call: logged } : {}) };
}

describe('requests jsforce sends for ring + answer + end', () => {
  it('with an External ID field: exactly one SOSL search and one Task upsert', async () => {
    fake = await startFakeSalesforce({ taskExternalIdField: 'Call_Id__c' });
    const contact = fake.insert('Contact', {
      FirstName: 'Alice',
      LastName: 'Martin',
      Phone: '+33 6 12 34 56 78',
    });
    const adapter = salesforce({
      auth: { type: 'token', instanceUrl: fake.url, accessToken: fake.credentials.accessToken },
      apiVersion: '62.0',
      task: { externalIdField: 'Call_Id__c' },
    });
    const { types, call } = await ringAnswerEnd(adapter);
    expect(types).toEqual(expect.arrayContaining(['call.ringing', 'call.answered', 'call.ended']));
    const requests = fake.requests();
    expect(requests.map((r) => `${r.method} ${r.path.replace(/[^/]+$/, ':key')}`)).toEqual([
      'GET /services/data/v62.0/:key',
      'PATCH /services/data/v62.0/sobjects/Task/Call_Id__c/:key',
    ]);
    expect(requests[0]?.path).toBe('/services/data/v62.0/search');
    expect(requests[1]?.path).toBe(
      `/services/data/v62.0/sobjects/Task/Call_Id__c/${encodeURIComponent(`salesforce:${call?.callId}:call`)}`,
    );
    expect(requests[1]?.body).toMatchObject({
      TaskSubtype: 'Call',
      CallType: 'Inbound',
      CallDurationInSeconds: call?.talkSeconds,
      CallObject: call?.callId,
      WhoId: contact,
    });
    expect(fake.records('Task')).toHaveLength(1);
  });

  it('without one: one search, one Task insert, and the CallObject query that makes it idempotent', async () => {
    fake = await startFakeSalesforce();
    fake.insert('Contact', { LastName: 'Martin', Phone: '06 12 34 56 78' });
    const adapter = salesforce({
      auth: { type: 'token', instanceUrl: fake.url, accessToken: fake.credentials.accessToken },
    });
    await ringAnswerEnd(adapter);
    expect(fake.requests().map((r) => `${r.method} ${r.family} ${r.path}`)).toEqual([
      'GET search /services/data/v62.0/search',
      'GET query /services/data/v62.0/query',
      'POST write /services/data/v62.0/sobjects/Task',
    ]);
    expect(fake.records('Task')).toHaveLength(1);
  });
});
