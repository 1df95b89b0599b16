import type { CrmAdapter } from '@cti-bridge/core';
import { createTestAdapterContext, sampleCallRecord } from '@cti-bridge/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { salesforce } from './index.js';
import { type FakeSalesforce, type FakeSalesforceOptions, startFakeSalesforce } from './testing/index.js';

// What the real Salesforce API refuses (shared/reference/crm-apis.md §7), and the fake refuses too.

let fake: FakeSalesforce | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setup(
  options: FakeSalesforceOptions = {},
): Promise<{ f: FakeSalesforce; adapter: CrmAdapter }> {
  fake = await startFakeSalesforce({ taskExternalIdField: 'Call_Id__c', ...options });
  const adapter = salesforce({
    auth: { type: 'token', instanceUrl: fake.url, accessToken: fake.credentials.accessToken },
    apiVersion: '61.0',
    task: { externalIdField: 'Call_Id__c', timeZone: 'UTC' },
  });
  return { f: fake, adapter };
}

const ctx = () => createTestAdapterContext();

describe('retried upserts on the External ID (TaskSubtype is not updateable)', () => {
  it('a batch retried after its answer was lost reports each Task as already logged, no duplicate', async () => {
    const { f, adapter } = await setup();
    const items = ['c-1', 'c-2', 'c-3'].map((callId) => ({
      call: sampleCallRecord({ callId }),
      idempotencyKey: `k-${callId}`,
    }));
    const first = await adapter.logCalls!(items, ctx());
    const again = await adapter.logCalls!(items, ctx());
    expect(again.map((r) => r.ok && r.ref.created)).toEqual([false, false, false]);
    expect(again.map((r) => r.ok && r.ref.id)).toEqual(first.map((r) => r.ok && r.ref.id));
    expect(f.records('Task')).toHaveLength(3);
    expect(f.records('Task').every((t) => t.TaskSubtype === 'Call')).toBe(true);
  });

  it('the fake refuses TaskSubtype on the update path, with Salesforce error code, and describes it', async () => {
    const { f } = await setup();
    const url = `${f.url}/services/data/v61.0/sobjects/Task/Call_Id__c/x-1`;
    const headers = {
      authorization: `Bearer ${f.credentials.accessToken}`,
      'content-type': 'application/json',
    };
    const body = JSON.stringify({ Subject: 'Call', TaskSubtype: 'Call', Status: 'Completed' });
    expect((await fetch(url, { method: 'PATCH', headers, body })).status).toBe(201);
    const update = await fetch(url, { method: 'PATCH', headers, body });
    expect(update.status).toBe(400);
    expect(await update.json()).toEqual([
      expect.objectContaining({ errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE', fields: ['TaskSubtype'] }),
    ]);
    const describe = (await (
      await fetch(`${f.url}/services/data/v61.0/sobjects/Task/describe`, { headers })
    ).json()) as { fields: Array<{ name: string; createable: boolean; updateable: boolean }> };
    expect(describe.fields.find((field) => field.name === 'TaskSubtype')).toMatchObject({
      createable: true,
      updateable: false,
    });
  });
});

describe('check', () => {
  it('requires the External ID field to be Unique as well, and says how to fix it', async () => {
    const { adapter } = await setup({ taskExternalIdUnique: false });
    const report = await adapter.check!(ctx());
    expect(report.ok).toBe(false);
    expect(report.message).toContain('Call_Id__c is an External ID but not Unique');
    expect(report.message).toContain('tick "Unique"');
  });

  it('passes with a Unique External ID', async () => {
    const { adapter } = await setup();
    expect((await adapter.check!(ctx())).ok).toBe(true);
  });
});

describe('the CallObject duplicate query (no External ID field)', () => {
  it('is bounded by CreatedDate, and the fake evaluates the bound: a Task from before the window is not taken', async () => {
    fake = await startFakeSalesforce();
    const adapter = salesforce({
      auth: { type: 'token', instanceUrl: fake.url, accessToken: fake.credentials.accessToken },
      apiVersion: '61.0',
      task: { timeZone: 'UTC' },
    });
    // a Task with the same CallObject, created (fake clock: now) before a call that ends in 2 days
    fake.insert('Task', { Subject: 'old', TaskSubtype: 'Call', CallObject: 'c-9', Status: 'Completed' });
    const endsLater = new Date(Date.now() + 2 * 86_400_000);
    const call = sampleCallRecord({
      callId: 'c-9',
      endedAt: endsLater,
      startedAt: new Date(endsLater.getTime() - 60_000),
    });
    const ref = await adapter.logCall(call, { ...ctx(), idempotencyKey: 'k-9' });
    expect(ref.created).toBe(true);
    expect(fake.records('Task')).toHaveLength(2);
    expect(fake.requests()[0]?.q).toMatch(/WHERE CreatedDate >= \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z AND /);
  });
});
