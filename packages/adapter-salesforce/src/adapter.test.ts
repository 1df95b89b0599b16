import { AdapterError, type CrmAdapter, type LogCallItem, parsePhone } from '@cti-bridge/core';
import { createTestAdapterContext, sampleCallRecord } from '@cti-bridge/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { salesforce } from './index.js';
import type { SalesforceOptions } from './options.js';
import { type FakeSalesforce, type FakeSalesforceOptions, startFakeSalesforce } from './testing/index.js';

let fake: FakeSalesforce | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setup(
  fakeOptions: FakeSalesforceOptions = {},
  options: Partial<SalesforceOptions> = {},
): Promise<{ f: FakeSalesforce; adapter: CrmAdapter }> {
  fake = await startFakeSalesforce(fakeOptions);
  const adapter = salesforce({
    auth: { type: 'token', instanceUrl: fake.url, accessToken: fake.credentials.accessToken },
    apiVersion: '61.0',
    task: {
      timeZone: 'Europe/Paris',
      ...(fakeOptions.taskExternalIdField ? { externalIdField: fakeOptions.taskExternalIdField } : {}),
    },
    ...options,
  });
  return { f: fake, adapter };
}

const ctx = () => createTestAdapterContext();

async function errorOf(promise: Promise<unknown>): Promise<AdapterError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AdapterError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('salesforce() lookup', () => {
  it('finds numbers stored as "+33 6 12 34 56 78", "06 12 34 56 78" and "(415) 555-1212"', async () => {
    const { f, adapter } = await setup();
    const intl = f.insert('Contact', { LastName: 'Intl', Phone: '+33 6 12 34 56 78' });
    const national = f.insert('Lead', {
      LastName: 'National',
      Company: 'Acme',
      MobilePhone: '06 12 34 56 78',
    });
    const us = f.insert('Contact', { LastName: 'Us', OtherPhone: '(415) 555-1212' });
    const fr = await adapter.findContacts({ phone: parsePhone('0033612345678') }, ctx());
    expect(fr.map((m) => m.id)).toEqual([intl, national]);
    expect(fr.map((m) => m.quality)).toEqual(['exact', 'exact']);
    const usMatches = await adapter.findContacts({ phone: parsePhone('+14155551212') }, ctx());
    expect(usMatches.map((m) => [m.id, m.matchedPhone])).toEqual([[us, '(415) 555-1212']]);
  });

  it('sends one SOSL search on the explicit API version, escaped and over the configured objects', async () => {
    const { f, adapter } = await setup({}, { lookup: { objects: ['Lead', 'Contact'] } });
    await adapter.findContacts({ phone: parsePhone('+33612345678') }, ctx());
    const requests = f.requests();
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      method: 'GET',
      path: '/services/data/v61.0/search',
      apiVersion: '61.0',
    });
    expect(requests[0]?.q).toBe(
      'FIND {33612345678 OR 0033612345678 OR 0612345678 OR 612345678 OR "06 12 34 56 78" OR "\\+33 6 12 34 56 78"} IN PHONE FIELDS RETURNING ' +
        'Lead(Id, Name, Company, Phone, MobilePhone, OwnerId, Owner.Name, LastActivityDate WHERE IsConverted = false LIMIT 25), ' +
        'Contact(Id, Name, Phone, MobilePhone, HomePhone, OtherPhone, AssistantPhone, AccountId, Account.Name, OwnerId, Owner.Name, LastActivityDate LIMIT 25)',
    );
  });

  it('ranks by object priority, then match quality, then recent activity; fills URL, owner and company', async () => {
    const { f, adapter } = await setup({}, { lookup: { objects: ['Lead', 'Contact', 'Account'] } });
    const owner = f.insert('User', { FirstName: 'Sam', LastName: 'Seller' });
    const account = f.insert('Account', { Name: 'Acme', Phone: '+33612345678', OwnerId: owner });
    const contactOld = f.insert(
      'Contact',
      { LastName: 'Old', Phone: '0612345678', AccountId: account, LastActivityDate: '2025-01-01' },
      { system: true },
    );
    const contactNew = f.insert(
      'Contact',
      { LastName: 'New', Phone: '0612345678', AccountId: account, LastActivityDate: '2026-01-01' },
      { system: true },
    );
    const lead = f.insert('Lead', {
      LastName: 'Lead',
      Company: 'Lead Co',
      Phone: '+33 6 12 34 56 78',
      OwnerId: owner,
    });
    const suffixOnly = f.insert('Contact', { LastName: 'Suffix', Phone: '+44 612345678' });
    f.insert(
      'Lead',
      { LastName: 'Converted', Company: 'X', Phone: '0612345678', IsConverted: true },
      { system: true },
    );
    const matches = await adapter.findContacts({ phone: parsePhone('+33612345678') }, ctx());
    // Object priority first (Lead, Contact, Account), then exact before suffix, then recent activity.
    expect(matches.map((m) => m.id)).toEqual([lead, contactNew, contactOld, suffixOnly, account]);
    expect(matches[0]).toMatchObject({
      recordType: 'Lead',
      displayName: 'Lead',
      companyName: 'Lead Co',
      owner: { id: owner, name: 'Sam Seller' },
      url: `${f.url}/lightning/r/Lead/${lead}/view`,
      ambiguous: false,
    });
    expect(matches[1]).toMatchObject({
      companyName: 'Acme',
      kind: 'person',
      lastActivityAt: new Date('2026-01-01T00:00:00Z'),
    });
    expect(matches[3]).toMatchObject({ recordType: 'Contact', quality: 'suffix' });
    expect(matches[4]).toMatchObject({ recordType: 'Account', kind: 'company', quality: 'exact' });
  });

  it('builds Lightning URLs on the My Domain when the instance is *.my.salesforce.com', async () => {
    const { f } = await setup();
    const adapter = salesforce({
      auth: { type: 'token', instanceUrl: f.url, accessToken: f.credentials.accessToken },
      lightningBaseUrl: 'https://acme.lightning.force.com/',
    });
    const id = f.insert('Contact', { LastName: 'X', Phone: '+33612345678' });
    const [match] = await adapter.findContacts({ phone: parsePhone('+33612345678') }, ctx());
    expect(match?.url).toBe(`https://acme.lightning.force.com/lightning/r/Contact/${id}/view`);
  });

  it('does not call Salesforce for withheld or too short numbers', async () => {
    const { f, adapter } = await setup();
    expect(await adapter.findContacts({ phone: parsePhone('anonymous') }, ctx())).toEqual([]);
    expect(await adapter.findContacts({ phone: parsePhone('123') }, ctx())).toEqual([]);
    expect(f.requests()).toEqual([]);
  });
});

describe('salesforce() call logging', () => {
  it('writes a Call Task with every call-center field, owner and Who from the match', async () => {
    const { f, adapter } = await setup({ taskExternalIdField: 'Call_Id__c' });
    const owner = f.insert('User', { LastName: 'Agent' });
    const contact = f.insert('Contact', { FirstName: 'Alice', LastName: 'Martin', Phone: '+33612345678' });
    const [match] = await adapter.findContacts({ phone: parsePhone('+33612345678') }, ctx());
    const call = sampleCallRecord({
      callId: 'ovh-call-1',
      talkSeconds: 125,
      holdSeconds: 10,
      queue: { queue: 'Support', waitSeconds: 32, agent: 'agent-7' },
    });
    const ref = await adapter.logCall(call, {
      ...ctx(),
      idempotencyKey: 'k-1',
      ...(match ? { match } : {}),
      ownerId: owner,
    });
    expect(ref.created).toBe(true);
    expect(ref.url).toBe(`${f.url}/lightning/r/Task/${ref.id}/view`);
    const [task] = f.records('Task');
    expect(task).toMatchObject({
      Id: ref.id,
      TaskSubtype: 'Call',
      CallType: 'Inbound',
      CallDurationInSeconds: 125,
      CallDisposition: 'Answered',
      CallObject: 'ovh-call-1',
      Status: 'Completed',
      ActivityDate: '2026-03-02',
      WhoId: contact,
      OwnerId: owner,
      Call_Id__c: 'k-1',
      Subject: 'Inbound call from Alice Martin (+33 6 12 34 56 78) via Support (2 min 5 s)',
    });
    expect(task?.WhatId).toBeUndefined();
    expect(task?.Description).toContain('Queue: Support, waited 32 s, answered by agent-7');
    expect(task?.Description).toContain('Our line: +33 9 72 10 10 10 (Accueil)');
    expect(task?.Description).toContain('On hold: 10 s');
    expect(task?.Description).toContain('Started: 2026-03-02 10:15 (Europe/Paris)');
  });

  it('links an Account match as WhatId and ignores an owner id that is not a User', async () => {
    const { f, adapter } = await setup();
    const account = f.insert('Account', { Name: 'Acme', Phone: '+33612345678' });
    const [match] = await adapter.findContacts({ phone: parsePhone('+33612345678') }, ctx());
    await adapter.logCall(sampleCallRecord({ callId: 'c-2', direction: 'outbound' }), {
      ...ctx(),
      idempotencyKey: 'k-2',
      ...(match ? { match } : {}),
      ownerId: 'not-a-user',
    });
    expect(f.records('Task')[0]).toMatchObject({
      WhatId: account,
      CallType: 'Outbound',
      OwnerId: f.apiUserId,
    });
  });

  it('upserts on the External ID field: a retried delivery finds the same Task (TaskSubtype is create-only)', async () => {
    const { f, adapter } = await setup({ taskExternalIdField: 'Call_Id__c' });
    const call = sampleCallRecord({ callId: 'c-3' });
    const first = await adapter.logCall(call, { ...ctx(), idempotencyKey: 'k/3?#' });
    f.clearRequests();
    const second = await adapter.logCall(call, { ...ctx(), idempotencyKey: 'k/3?#' });
    expect(second).toMatchObject({ id: first.id, created: false });
    // the upsert takes the update path, where Salesforce refuses TaskSubtype: the Task is read back
    expect(f.requests().map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'PATCH /services/data/v61.0/sobjects/Task/Call_Id__c/k%2F3%3F%23 400',
      'GET /services/data/v61.0/query 200',
    ]);
    expect(f.records('Task').map((t) => t.Call_Id__c)).toEqual(['k/3?#']);
  });

  it('without an External ID field, queries CallObject before inserting, and never inserts twice', async () => {
    const { f, adapter } = await setup();
    const call = sampleCallRecord({ callId: 'c-4' });
    const first = await adapter.logCall(call, { ...ctx(), idempotencyKey: 'k-4' });
    const second = await adapter.logCall(call, { ...ctx(), idempotencyKey: 'k-4' });
    expect(second).toMatchObject({ id: first.id, created: false });
    expect(f.records('Task')).toHaveLength(1);
    expect(f.requests().map((r) => `${r.method} ${r.family}`)).toEqual([
      'GET query',
      'POST write',
      'GET query',
    ]);
    // bounded by CreatedDate (indexed; CallObject is not): from a day before the call ended
    const since = new Date(call.endedAt.getTime() - 86_400_000).toISOString().slice(0, 19);
    expect(f.requests()[0]?.q).toBe(
      `SELECT Id, CallObject FROM Task WHERE CreatedDate >= ${since}Z AND TaskSubtype = 'Call' AND CallObject IN ('c-4') ORDER BY CreatedDate ASC LIMIT 5`,
    );
  });

  it('two concurrent deliveries of the same key make one Task (query mode has no unique constraint)', async () => {
    const { f, adapter } = await setup();
    const call = sampleCallRecord({ callId: 'race-1' });
    const [a, b] = await Promise.all([
      adapter.logCall(call, { ...ctx(), idempotencyKey: 'race' }),
      adapter.logCall(call, { ...ctx(), idempotencyKey: 'race' }),
    ]);
    expect(b.id).toBe(a.id);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect(f.records('Task')).toHaveLength(1);
  });

  it('logs a burst in collection requests: 450 calls, 3 requests, each item reported', async () => {
    const { f, adapter } = await setup({ taskExternalIdField: 'Call_Id__c' });
    const items: LogCallItem[] = Array.from({ length: 450 }, (_, i) => ({
      call: sampleCallRecord({ callId: `burst-${i}` }),
      idempotencyKey: `burst-${i}`,
    }));
    items.push(items[0] as LogCallItem);
    const results = await adapter.logCalls?.(items, ctx());
    expect(results).toHaveLength(451);
    expect(results?.every((r) => r.ok)).toBe(true);
    expect(results?.filter((r) => r.ok && r.ref.created)).toHaveLength(450);
    expect(f.records('Task')).toHaveLength(450);
    expect(f.requests().map((r) => `${r.method} ${r.path}`)).toEqual(
      Array(3).fill('PATCH /services/data/v61.0/composite/sobjects/Task/Call_Id__c'),
    );
  });

  it('reports a failed item in its slot and keeps the others (query mode, one collection request)', async () => {
    const { f, adapter } = await setup();
    const ok = sampleCallRecord({ callId: 'ok-1' });
    const bad = sampleCallRecord({ callId: 'bad-1' });
    const results = await adapter.logCalls?.(
      [
        { call: ok, idempotencyKey: 'ok-1' },
        // A deleted Contact id: Salesforce answers INVALID_CROSS_REFERENCE_KEY for this record only.
        {
          call: bad,
          idempotencyKey: 'bad-1',
          match: {
            recordType: 'Contact',
            id: '003Fk0000000999AAA',
            displayName: 'Gone',
            kind: 'person',
            url: 'https://x.invalid',
            matchedPhone: '+33612345678',
            quality: 'exact',
            ambiguous: false,
          },
        },
      ],
      ctx(),
    );
    expect(results?.[0]?.ok).toBe(true);
    expect(results?.[1]).toMatchObject({
      ok: false,
      error: { kind: 'invalid', code: 'INVALID_CROSS_REFERENCE_KEY' },
    });
    expect(f.requests().map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /services/data/v61.0/query',
      'POST /services/data/v61.0/composite/sobjects',
    ]);
  });

  it('creates an open follow-up Task due today for the line owner, once', async () => {
    const { f, adapter } = await setup();
    const owner = f.insert('User', { LastName: 'Owner' });
    const lead = f.insert('Lead', { LastName: 'Caller', Company: 'C', Phone: '+33612345678' });
    const [match] = await adapter.findContacts({ phone: parsePhone('+33612345678') }, ctx());
    const call = sampleCallRecord({ callId: 'missed-1', outcome: 'missed', talkSeconds: 0 });
    const logCtx = { ...ctx(), idempotencyKey: 'f-1', ...(match ? { match } : {}), ownerId: owner };
    await adapter.logCall(call, { ...logCtx, idempotencyKey: 'l-1' });
    const first = await adapter.createFollowUpTask?.(call, logCtx);
    const second = await adapter.createFollowUpTask?.(call, logCtx);
    expect(second).toMatchObject({ id: first?.id, created: false });
    const followUps = f.records('Task').filter((t) => t.TaskSubtype === 'Task');
    expect(followUps).toHaveLength(1);
    expect(followUps[0]).toMatchObject({
      Status: 'Not Started',
      IsClosed: false,
      Priority: 'High',
      OwnerId: owner,
      WhoId: lead,
      CallObject: 'missed-1',
      ActivityDate: new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date()),
      Subject: 'Call back Caller (+33 6 12 34 56 78) (missed call)',
    });
    expect(f.records('Task').filter((t) => t.TaskSubtype === 'Call')[0]?.Subject).toBe(
      'Missed call from Caller (+33 6 12 34 56 78)',
    );
  });

  it('logs an abandoned queue session as its own inbound Call Task, once', async () => {
    const { f, adapter } = await setup();
    const session = {
      memberUuid: 'member-1',
      token: 't',
      queue: 'Support',
      caller: parsePhone('0033612345678'),
      callerName: 'Alice',
      state: 'ended' as const,
      outcome: 'abandoned' as const,
      joinedAt: new Date('2026-03-02T09:15:00Z'),
      leftAt: new Date('2026-03-02T09:16:05Z'),
      agentsOffered: ['agent-1', 'agent-2'],
      waitSeconds: 65,
      talkSeconds: 0,
      inferred: false,
    };
    const first = await adapter.logQueueSession?.(session, { ...ctx(), idempotencyKey: 'q-1' });
    const again = await adapter.logQueueSession?.(session, { ...ctx(), idempotencyKey: 'q-1' });
    expect(again).toMatchObject({ id: first?.id, created: false });
    expect(f.records('Task')).toHaveLength(1);
    expect(f.records('Task')[0]).toMatchObject({
      TaskSubtype: 'Call',
      CallType: 'Inbound',
      CallDisposition: 'Abandoned',
      CallObject: 'queue:member-1',
      CallDurationInSeconds: 0,
      Subject: 'Queue Support: missed call from Alice (+33 6 12 34 56 78) after 1 min 5 s waiting',
    });
    expect(f.records('Task')[0]?.Description).toContain('Offered to: agent-1, agent-2');
  });

  it('creates a Lead for an unknown caller once, with the required Company', async () => {
    const { f, adapter } = await setup();
    const owner = f.insert('User', { LastName: 'Owner' });
    const input = { phone: parsePhone('0033699001122'), name: 'Jean de la Fontaine', ownerId: owner };
    const created = await adapter.createContact?.(input, { ...ctx(), idempotencyKey: 'lead-1' });
    const again = await adapter.createContact?.(input, { ...ctx(), idempotencyKey: 'lead-1' });
    expect(again?.id).toBe(created?.id);
    expect(f.records('Lead')).toHaveLength(1);
    expect(f.records('Lead')[0]).toMatchObject({
      FirstName: 'Jean de la',
      LastName: 'Fontaine',
      Company: '[not provided]',
      Phone: '+33699001122',
      LeadSource: 'Phone Inquiry',
      OwnerId: owner,
    });
    expect(created).toMatchObject({
      recordType: 'Lead',
      displayName: 'Jean de la Fontaine',
      quality: 'exact',
    });
  });
});

describe('salesforce() errors', () => {
  it('maps REQUEST_LIMIT_EXCEEDED (403) to rate-limit with a wait', async () => {
    const { f, adapter } = await setup({ apiLimit: 0 });
    const error = await errorOf(adapter.findContacts({ phone: parsePhone('+33612345678') }, ctx()));
    expect(error).toMatchObject({ kind: 'rate-limit', code: 'REQUEST_LIMIT_EXCEEDED', status: 403 });
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(f.requests()).toHaveLength(1);
  });

  it('warns once when the daily API usage passes 90% (Sforce-Limit-Info)', async () => {
    const { adapter } = await setup({ apiLimit: 10 });
    const warnings: string[] = [];
    const logger = {
      debug() {},
      info() {},
      error() {},
      warn(_: Record<string, unknown>, message?: string) {
        warnings.push(message ?? '');
      },
      child() {
        return logger;
      },
    };
    for (let i = 0; i < 10; i++) {
      await adapter.findContacts({ phone: parsePhone('+33612345678') }, { ...ctx(), logger });
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/above 90%/);
  });

  it('fails a lookup on 503 at once (no 15 s of jsforce retries) as transient', async () => {
    const { f, adapter } = await setup();
    f.inject({ status: 503, on: 'search', times: 3 });
    const error = await errorOf(adapter.findContacts({ phone: parsePhone('+33612345678') }, ctx()));
    expect(error).toMatchObject({ kind: 'transient', status: 503, code: 'SERVER_UNAVAILABLE' });
    expect(f.requests()).toHaveLength(1);
  });

  it('maps MALFORMED_SEARCH and REQUIRED_FIELD_MISSING to invalid, DUPLICATE_VALUE to conflict', async () => {
    const { f, adapter } = await setup();
    f.inject({ status: 400, on: 'search' });
    expect(await errorOf(adapter.findContacts({ phone: parsePhone('+33612345678') }, ctx()))).toMatchObject({
      kind: 'invalid',
      code: 'MALFORMED_SEARCH',
    });
    f.inject({ status: 400, on: 'write' });
    const write = await errorOf(
      adapter.logCall(sampleCallRecord({ callId: 'e-1' }), { ...ctx(), idempotencyKey: 'e-1' }),
    );
    expect(write).toMatchObject({ kind: 'invalid', code: 'REQUIRED_FIELD_MISSING' });
    expect(write.message).toMatch(/^Salesforce call logging failed \(REQUIRED_FIELD_MISSING: /);
    f.inject({ status: 400, on: 'write', errorCode: 'DUPLICATE_VALUE', message: 'duplicate value found' });
    expect(
      await errorOf(
        adapter.logCall(sampleCallRecord({ callId: 'e-2' }), { ...ctx(), idempotencyKey: 'e-2' }),
      ),
    ).toMatchObject({ kind: 'conflict' });
  });

  it('maps an unreachable Salesforce to transient', async () => {
    const { f } = await setup();
    const url = f.url;
    await f.close();
    fake = undefined;
    const adapter = salesforce({ auth: { type: 'token', instanceUrl: url, accessToken: 'x' } });
    // The adapter turns jsforce's own retries off (the outbox retries): one refused connection fails at once.
    const error = await errorOf(adapter.logCall(sampleCallRecord(), { ...ctx(), idempotencyKey: 'net' }));
    expect(error.kind).toBe('transient');
  });

  it('gives up after timeoutMs as transient, and does not start when the caller already aborted', async () => {
    const { f, adapter } = await setup({ latencyMs: 3000 }, { timeoutMs: 100 });
    const error = await errorOf(adapter.findContacts({ phone: parsePhone('+33612345678') }, ctx()));
    expect(error).toMatchObject({ kind: 'transient' });
    expect(error.message).toContain('no answer within 100 ms');
    f.setLatency(0);
    f.clearRequests();
    const controller = new AbortController();
    controller.abort();
    const aborted = await errorOf(
      adapter.findContacts({ phone: parsePhone('+33612345678') }, { ...ctx(), signal: controller.signal }),
    );
    expect(aborted.kind).toBe('transient');
    expect(f.requests()).toEqual([]);
  });

  it('check() reports the External ID field it relies on', async () => {
    const { adapter } = await setup({}, { task: { externalIdField: 'Call_Id__c' } });
    const report = await adapter.check?.(ctx());
    expect(report).toMatchObject({ ok: false });
    expect(report?.message).toContain('Call_Id__c');
  });

  it('rejects bad options naming the key, without echoing secrets', () => {
    expect(() =>
      salesforce({ auth: { type: 'token', instanceUrl: 'nope', accessToken: 'SECRET-123' } }),
    ).toThrow(/auth\.instanceUrl/);
    try {
      salesforce({ auth: { type: 'jwt', clientId: 'c', username: 'u', privateKey: 'SECRET-KEY' } });
      throw new Error('should have thrown');
    } catch (error) {
      expect((error as Error).message).toMatch(/auth\.privateKey: must be a PEM private key/);
      expect((error as Error).message).not.toContain('SECRET-KEY');
    }
    expect(() =>
      salesforce({
        auth: { type: 'token', instanceUrl: 'https://acme.lightning.force.com', accessToken: 'x' },
      }),
    ).toThrow(/My Domain/);
    expect(() =>
      salesforce({
        auth: { type: 'token', instanceUrl: 'https://acme.my.salesforce.com', accessToken: 'x' },
        task: { externalIdField: "x' OR" },
      }),
    ).toThrow(/task\.externalIdField/);
  });
});
