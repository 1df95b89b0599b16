import { generateKeyPairSync } from 'node:crypto';
import { type AdapterError, type CrmAdapter, parsePhone } from '@cti-bridge/core';
import { createTestAdapterContext, sampleCallRecord } from '@cti-bridge/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { JWT_LIFETIME_SECONDS, signJwtAssertion } from './client.js';
import { salesforce } from './index.js';
import { type FakeSalesforce, type FakeSalesforceOptions, startFakeSalesforce } from './testing/index.js';

// What the real Salesforce API refuses, per its public docs (see the adapter README), and the fake too.

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

describe('API limits (both answer 403 REQUEST_LIMIT_EXCEEDED)', () => {
  it('the concurrent limit: a rate-limit of seconds, not a daily-quota wait', async () => {
    fake = await startFakeSalesforce({ concurrentLimit: 1, latencyMs: 50 });
    const adapter = salesforce({
      auth: { type: 'token', instanceUrl: fake.url, accessToken: fake.credentials.accessToken },
      apiVersion: '61.0',
    });
    const results = await Promise.allSettled([
      adapter.findContacts({ phone: parsePhone('+33612345678') }, ctx()),
      adapter.findContacts({ phone: parsePhone('+33612345679') }, ctx()),
    ]);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    const reason = refused?.reason as AdapterError | undefined;
    expect(reason).toMatchObject({ kind: 'rate-limit', code: 'REQUEST_LIMIT_EXCEEDED', status: 403 });
    expect(reason?.message).toContain('ConcurrentPerOrgLongTxn');
    expect(reason?.retryAfterMs).toBeLessThanOrEqual(10_000);
    expect(reason?.quota).toBeUndefined();
  });

  it('the daily limit: a daily-quota wait, probed again within the rolling window', async () => {
    fake = await startFakeSalesforce({ apiLimit: 0 });
    const adapter = salesforce({
      auth: { type: 'token', instanceUrl: fake.url, accessToken: fake.credentials.accessToken },
      apiVersion: '61.0',
    });
    const error = await adapter
      .findContacts({ phone: parsePhone('+33612345678') }, ctx())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'rate-limit', quota: 'daily', status: 403 });
    expect((error as AdapterError).message).toContain('TotalRequests');
    expect((error as AdapterError).retryAfterMs).toBeGreaterThanOrEqual(15 * 60_000);
  });
});

describe('JWT bearer assertions', () => {
  it('the fake refuses an exp more than 3 minutes ahead; ours stays well within it', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    fake = await startFakeSalesforce({ jwtPublicKey: publicKey });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const token = (assertion: string) =>
      fetch(`${fake?.url}/services/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
      });
    const base = {
      clientId: fake.credentials.clientId,
      username: fake.credentials.username,
      privateKey: pem,
    };
    const audience = fake.url;
    // signed as if our clock were 2 minutes ahead: exp 3.5 minutes ahead of the server
    const ahead = signJwtAssertion({ ...base, audience, now: Date.now() + 120_000 });
    expect((await token(ahead)).status).toBe(400);
    // our assertion, with our clock 60 s ahead of Salesforce's: accepted
    const ours = signJwtAssertion({ ...base, audience, now: Date.now() + 60_000 });
    expect((await token(ours)).status).toBe(200);
    expect(JWT_LIFETIME_SECONDS).toBeLessThanOrEqual(120);
  });
});

describe('search index lag (SOSL is eventually consistent)', () => {
  it('a Lead created for an unknown caller is not found by search at once, and no second Lead is made', async () => {
    fake = await startFakeSalesforce({ searchIndexLagMs: 60_000 });
    const adapter = salesforce({
      auth: { type: 'token', instanceUrl: fake.url, accessToken: fake.credentials.accessToken },
      apiVersion: '61.0',
    });
    const phone = parsePhone('+33699001122');
    const first = await adapter.createContact!(
      { phone, name: 'New Caller' },
      { ...ctx(), idempotencyKey: 'lead-1' },
    );
    // the next call from the same number: search does not see the Lead yet…
    expect(await adapter.findContacts({ phone }, ctx())).toEqual([]);
    // …and the unknown-caller policy creates again, under another key: the Lead is found by SOQL
    const second = await adapter.createContact!(
      { phone, name: 'New Caller' },
      { ...ctx(), idempotencyKey: 'lead-2' },
    );
    expect(second.id).toBe(first.id);
    expect(fake.records('Lead')).toHaveLength(1);
  });
});

describe('phone search, whichever way Salesforce tokenises stored numbers', () => {
  for (const phoneTokenisation of ['digits', 'tokens'] as const) {
    it(`finds spaced, dotted and plain numbers (${phoneTokenisation})`, async () => {
      fake = await startFakeSalesforce({ phoneTokenisation });
      const adapter = salesforce({
        auth: { type: 'token', instanceUrl: fake.url, accessToken: fake.credentials.accessToken },
        apiVersion: '61.0',
      });
      const spaced = fake.insert('Contact', { LastName: 'Spaced', Phone: '+33 6 12 34 56 78' });
      const national = fake.insert('Lead', {
        LastName: 'National',
        Company: 'Acme',
        MobilePhone: '06 12 34 56 78',
      });
      const dotted = fake.insert('Contact', { LastName: 'Dotted', MobilePhone: '06.12.34.56.78' });
      const plain = fake.insert('Contact', { LastName: 'Plain', OtherPhone: '0033612345678' });
      const matches = await adapter.findContacts({ phone: parsePhone('0033612345678') }, ctx());
      expect(matches.map((m) => m.id).sort()).toEqual([spaced, national, dotted, plain].sort());
      expect(fake.requests().filter((r) => r.family === 'search')).toHaveLength(1);
    });
  }
});
