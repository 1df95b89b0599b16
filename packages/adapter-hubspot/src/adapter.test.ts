import { AdapterError, type CrmAdapter, isAdapterError, parsePhone } from '@cti-bridge/core';
import { createTestAdapterContext, sampleCallRecord } from '@cti-bridge/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testContext } from './__fixtures__/support.js';
import { hubspot } from './index.js';
import type { HubSpotOptions } from './options.js';
import { type FakeHubSpot, type FakeHubSpotOptions, startFakeHubSpot } from './testing/index.js';

let fake: FakeHubSpot;
let adapter: CrmAdapter;

async function setup(fakeOptions: FakeHubSpotOptions = {}, adapterOptions: Partial<HubSpotOptions> = {}) {
  fake = await startFakeHubSpot(fakeOptions);
  adapter = hubspot({
    // the fake's private app token, unless the test signs in with OAuth (never both)
    ...(adapterOptions.oauth ? {} : { accessToken: fake.accessToken }),
    basePath: fake.url,
    batch: { windowMs: 0 },
    ...adapterOptions,
  });
}

afterEach(async () => {
  await adapter?.close?.();
  await fake?.close();
});

describe('findContacts', () => {
  beforeEach(() => setup());

  it('finds contacts whatever notation the number was stored in, ranked, with a record URL and owner', async () => {
    const owner = fake.seedOwner({ email: 'marie@example.com', firstName: 'Marie', lastName: 'Curie' });
    const spaced = fake.seed(
      'contacts',
      { firstname: 'Ada', lastname: 'Lovelace', phone: '+33 6 12 34 56 78', hubspot_owner_id: owner },
      { indexed: true },
    );
    const national = fake.seed(
      'contacts',
      {
        firstname: 'Alan',
        lastname: 'Turing',
        mobilephone: '06.12.34.56.78',
        notes_last_updated: '2026-01-01T00:00:00Z',
      },
      { indexed: true },
    );
    fake.seed('contacts', { firstname: 'Other', phone: '+33 6 99 99 99 99' }, { indexed: true });
    const company = fake.seed('companies', { name: 'ACME', phone: '0612345678' }, { indexed: true });

    const matches = await adapter.findContacts(
      { phone: parsePhone('0033612345678') },
      createTestAdapterContext(),
    );

    expect(matches.map((m) => m.id)).toEqual([national.id, spaced.id, company.id]);
    expect(matches[0]).toMatchObject({ recordType: 'contact', displayName: 'Alan Turing', ambiguous: true });
    expect(matches[1]).toMatchObject({
      displayName: 'Ada Lovelace',
      owner: { id: owner, name: 'Marie Curie' },
      url: `https://app.hubspot.com/contacts/${fake.portalId}/record/0-1/${spaced.id}`,
      quality: 'exact',
    });
    expect(matches[2]).toMatchObject({ recordType: 'company', kind: 'company', ambiguous: false });
    expect(matches[2]?.url).toBe(
      `https://app.hubspot.com/contacts/${fake.portalId}/record/0-2/${company.id}`,
    );
  });

  it('drops records the search returned whose number does not really match', async () => {
    // Same national digits, other country: the calculated property matches, the post-filter must not.
    fake.seed('contacts', { firstname: 'Faux', phone: '+1 612-345-678' }, { indexed: true });
    const matches = await adapter.findContacts(
      { phone: parsePhone('+33612345678') },
      createTestAdapterContext(),
    );
    expect(matches).toEqual([]);
  });

  it('makes no request for a withheld number', async () => {
    expect(
      await adapter.findContacts({ phone: parsePhone('anonymous') }, createTestAdapterContext()),
    ).toEqual([]);
    expect(fake.requests()).toEqual([]);
  });
});

describe('logCall', () => {
  beforeEach(() => setup({}, { portalId: 4242424 }));

  it('writes a call engagement with the HubSpot properties and associations', async () => {
    const owner = fake.seedOwner({ email: 'agent@example.com', firstName: 'Agent' });
    const contact = fake.seed(
      'contacts',
      { firstname: 'Ada', phone: '+33612345678', associatedcompanyid: '' },
      { indexed: true },
    );
    const ctx = createTestAdapterContext();
    const [match] = await adapter.findContacts({ phone: parsePhone('+33612345678') }, ctx);
    const ref = await adapter.logCall(
      sampleCallRecord({
        queue: { queue: 'Support', waitSeconds: 42, agent: '0033972101011', outcome: 'answered' },
      }),
      { ...ctx, idempotencyKey: 'k1', ...(match ? { match } : {}), ownerId: owner },
    );
    expect(ref.created).toBe(true);
    const [call] = fake.records('calls');
    expect(call?.id).toBe(ref.id);
    expect(call?.properties).toMatchObject({
      hs_timestamp: '2026-03-02T09:15:00.000Z',
      hs_call_direction: 'INBOUND',
      hs_call_duration: '95000',
      hs_call_status: 'COMPLETED',
      hs_call_disposition: 'f240bbac-87c9-4f6e-bf70-924b57d47db7',
      hs_call_from_number: '+33612345678',
      hs_call_to_number: '+33972101010',
      hs_call_external_id: 'conformance-call-1',
      hubspot_owner_id: owner,
    });
    expect(call?.properties.hs_call_title).toBe('Inbound call from +33 6 12 34 56 78, answered (1 min 35 s)');
    expect(call?.properties.hs_call_body).toContain('Queue: Support, waited 42 s, answered');
    expect(call?.associations).toEqual([{ toType: 'contacts', toId: contact.id, typeId: 194 }]);
  });

  it('also associates the contact’s primary company (type 182)', async () => {
    const company = fake.seed('companies', { name: 'ACME' }, { indexed: true });
    fake.seed(
      'contacts',
      { firstname: 'Ada', phone: '+33612345678', associatedcompanyid: company.id },
      { indexed: true },
    );
    const ctx = createTestAdapterContext();
    const [match] = await adapter.findContacts({ phone: parsePhone('+33612345678') }, ctx);
    await adapter.logCall(sampleCallRecord(), { ...ctx, idempotencyKey: 'k1', ...(match ? { match } : {}) });
    expect(fake.records('calls')[0]?.associations.map((a) => a.typeId)).toEqual([194, 182]);
  });

  it('maps missed, busy and cancelled calls to HubSpot statuses and (mappable) outcomes', async () => {
    const custom = '17b47fee-58de-441e-a44c-c6300d46f273';
    await adapter.close?.();
    adapter = hubspot({
      accessToken: fake.accessToken,
      basePath: fake.url,
      portalId: 1,
      batch: { windowMs: 0 },
      dispositions: { busy: custom },
    });
    const ctx = createTestAdapterContext();
    await adapter.logCall(sampleCallRecord({ callId: 'm', outcome: 'missed', talkSeconds: 0 }), {
      ...ctx,
      idempotencyKey: 'm',
    });
    await adapter.logCall(sampleCallRecord({ callId: 'b', outcome: 'busy', talkSeconds: 0 }), {
      ...ctx,
      idempotencyKey: 'b',
    });
    await adapter.logCall(
      sampleCallRecord({ callId: 'c', direction: 'outbound', outcome: 'cancelled', talkSeconds: 0 }),
      { ...ctx, idempotencyKey: 'c' },
    );
    const byId = Object.fromEntries(
      fake.records('calls').map((r) => [r.properties.hs_call_external_id, r.properties]),
    );
    expect(byId.m).toMatchObject({
      hs_call_status: 'MISSED',
      hs_call_disposition: '73a0d17f-1163-4015-bdd5-ec830791da20',
    });
    expect(byId.b).toMatchObject({ hs_call_status: 'BUSY', hs_call_disposition: custom });
    expect(byId.c).toMatchObject({
      hs_call_status: 'CANCELED',
      hs_call_direction: 'OUTBOUND',
      hs_call_from_number: '+33972101010',
      hs_call_to_number: '+33612345678',
    });
    expect(byId.m?.hs_call_title).toBe('Inbound call from +33 6 12 34 56 78, missed');
  });

  it('is idempotent on the key: the second delivery makes no request at all', async () => {
    const ctx = createTestAdapterContext();
    const first = await adapter.logCall(sampleCallRecord(), { ...ctx, idempotencyKey: 'k1' });
    fake.clearRequests();
    const second = await adapter.logCall(sampleCallRecord(), { ...ctx, idempotencyKey: 'k1' });
    expect(second).toEqual({ id: first.id, created: false });
    expect(fake.records('calls')).toHaveLength(1);
    expect(fake.requests()).toEqual([]);
  });

  it('finds an engagement written earlier (local record lost) through hs_call_external_id', async () => {
    const first = await adapter.logCall(sampleCallRecord(), {
      ...createTestAdapterContext(),
      idempotencyKey: 'k1',
    });
    fake.flushIndex();
    const again = await adapter.logCall(sampleCallRecord(), {
      ...createTestAdapterContext(),
      idempotencyKey: 'k1',
    });
    expect(again).toEqual({ id: first.id, created: false });
    expect(fake.records('calls')).toHaveLength(1);
  });

  it('with index lag, a retry after a lost answer (the write happened) makes no second engagement', async () => {
    fake.setIndexLag(60_000);
    const ctx = createTestAdapterContext();
    fake.inject({ kind: 'drop-after-commit', on: 'write' });
    const lost = await adapter
      .logCall(sampleCallRecord(), { ...ctx, idempotencyKey: 'k1' })
      .catch((e: unknown) => e);
    expect(isAdapterError(lost) && lost.kind).toBe('transient');
    expect(fake.records('calls')).toHaveLength(1);

    // Retried at once: search does not see the call yet; the adapter must not write it again.
    const early = await adapter
      .logCall(sampleCallRecord(), { ...ctx, idempotencyKey: 'k1' })
      .catch((e: unknown) => e);
    expect(early).toBeInstanceOf(AdapterError);
    expect((early as AdapterError).kind).toBe('transient');
    expect((early as AdapterError).retryAfterMs).toBeGreaterThan(1000);
    expect(fake.records('calls')).toHaveLength(1);

    // Once the index caught up, the retry finds the first write.
    fake.flushIndex();
    const late = await adapter.logCall(sampleCallRecord(), { ...ctx, idempotencyKey: 'k1' });
    expect(late).toEqual({ id: fake.records('calls')[0]?.id, created: false });
    expect(fake.records('calls')).toHaveLength(1);
  });

  it('after a client timeout (the write went through late), holds back instead of writing twice', async () => {
    await adapter.close?.();
    adapter = hubspot({
      accessToken: fake.accessToken,
      basePath: fake.url,
      portalId: 1,
      batch: { windowMs: 0 },
      // the create's answer never comes in time; the searches must answer within this on a busy
      // machine too (a 150 ms timeout once cut a search short under load)
      requestTimeoutMs: 1_000,
    });
    fake.setIndexLag(60_000);
    const ctx = createTestAdapterContext();
    fake.inject({ kind: 'delay', ms: 60_000, on: 'write' });
    const timedOut = await adapter
      .logCall(sampleCallRecord(), { ...ctx, idempotencyKey: 'k1' })
      .catch((e: unknown) => e);
    expect(timedOut).toMatchObject({ kind: 'transient', code: 'TIMEOUT' });
    const held = await adapter
      .logCall(sampleCallRecord(), { ...ctx, idempotencyKey: 'k1' })
      .catch((e: unknown) => e);
    expect(held).toMatchObject({ kind: 'transient', code: 'OUTCOME_UNKNOWN' });
    expect(fake.records('calls')).toHaveLength(1);
    expect(fake.requests().filter((r) => r.path === '/crm/v3/objects/calls')).toHaveLength(1);
  });

  it('writes again at once after HubSpot refused (5xx with an error body, 400), holds back after a 504', async () => {
    const ctx = testContext();
    fake.inject({ status: 503, on: 'write' });
    const failed = await adapter
      .logCall(sampleCallRecord(), { ...ctx, idempotencyKey: 'k1' })
      .catch((e: unknown) => e);
    expect((failed as AdapterError).kind).toBe('transient');
    // HubSpot's correlationId is on the error and in the log line, for support tickets.
    expect((failed as AdapterError).correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(
      ctx.logger.lines.some((line) => line.includes((failed as AdapterError).correlationId ?? '?')),
    ).toBe(true);
    expect((await adapter.logCall(sampleCallRecord(), { ...ctx, idempotencyKey: 'k1' })).created).toBe(true);

    fake.inject({ status: 400, on: 'write' });
    const invalid = await adapter
      .logCall(sampleCallRecord({ callId: 'x' }), { ...ctx, idempotencyKey: 'k2' })
      .catch((e: unknown) => e);
    expect((invalid as AdapterError).kind).toBe('invalid');
    expect([...ctx.state.entries.keys()].filter((key) => key.includes('k2'))).toEqual([]);
    expect(
      (await adapter.logCall(sampleCallRecord({ callId: 'x' }), { ...ctx, idempotencyKey: 'k2' })).created,
    ).toBe(true);

    // A gateway timeout may hide a write that went through: wait for search to tell.
    fake.inject({ status: 504, on: 'write' });
    await adapter
      .logCall(sampleCallRecord({ callId: 'y' }), { ...ctx, idempotencyKey: 'k3' })
      .catch(() => undefined);
    const held = await adapter
      .logCall(sampleCallRecord({ callId: 'y' }), { ...ctx, idempotencyKey: 'k3' })
      .catch((e: unknown) => e);
    expect((held as AdapterError).code).toBe('OUTCOME_UNKNOWN');
    expect(fake.records('calls').map((r) => r.properties.hs_call_external_id)).toEqual([
      'conformance-call-1',
      'x',
    ]);
  });
});

describe('logQueueSession', () => {
  beforeEach(() => setup({}, { portalId: 1 }));

  it('logs an abandoned queue session once, as a missed inbound call with the wait', async () => {
    const session = {
      memberUuid: 'm-1',
      token: 'tok',
      queue: '0033972101020',
      caller: parsePhone('0033612345678'),
      state: 'ended' as const,
      outcome: 'abandoned' as const,
      joinedAt: new Date('2026-03-02T09:15:00Z'),
      leftAt: new Date('2026-03-02T09:16:10Z'),
      agentsOffered: [],
      waitSeconds: 70,
      talkSeconds: 0,
      inferred: false,
    };
    const ctx = createTestAdapterContext();
    const first = await adapter.logQueueSession?.(session, { ...ctx, idempotencyKey: 'q1' });
    const again = await adapter.logQueueSession?.(session, { ...ctx, idempotencyKey: 'q1' });
    expect(again).toEqual({ id: first?.id, created: false });
    const [call] = fake.records('calls');
    expect(fake.records('calls')).toHaveLength(1);
    expect(call?.properties).toMatchObject({
      hs_call_external_id: 'queue-m-1',
      hs_call_status: 'MISSED',
      hs_call_to_number: '+33972101020',
      hs_call_duration: '0',
    });
    expect(call?.properties.hs_call_body).toContain(
      'Queue: 0033972101020, waited 1 min 10 s, caller hung up while waiting',
    );
  });
});

describe('requests per ring + end', () => {
  it('costs one contact search and one company search on ring (plus one property read, once), one call search and one create on end', async () => {
    await setup({}, { portalId: 4242424 });
    fake.seed('contacts', { firstname: 'Ada', phone: '+33612345678' }, { indexed: true });
    const ctx = createTestAdapterContext();
    const [match] = await adapter.findContacts({ phone: parsePhone('0033612345678') }, ctx);
    await adapter.logCall(sampleCallRecord(), { ...ctx, idempotencyKey: 'k', ...(match ? { match } : {}) });
    const requests = fake.requests().map((r) => `${r.method} ${r.path} ${r.status}`);
    // the ring's requests run in parallel: their order varies
    expect(requests.slice(0, 3).sort()).toEqual([
      // once per adapter: whether companies have the calculated phone property (they do not)
      'GET /crm/v3/properties/companies/hs_searchable_calculated_phone_number 404',
      'POST /crm/v3/objects/companies/search 200',
      'POST /crm/v3/objects/contacts/search 200',
    ]);
    expect(requests.slice(3)).toEqual([
      'POST /crm/v3/objects/calls/search 200',
      'POST /crm/v3/objects/calls 201',
    ]);
  });
});

describe('bursts and rate limits', () => {
  it('logs a burst of 1,000 ended calls once each, batched, under the rate limit counted at the fake', async () => {
    await setup({}, { portalId: 1, batch: { windowMs: 20 } });
    const ctx = createTestAdapterContext();
    const calls = Array.from({ length: 1000 }, (_, i) => sampleCallRecord({ callId: `burst-${i}` }));
    const refs = await Promise.all(
      calls.map((call) => adapter.logCall(call, { ...ctx, idempotencyKey: call.callId })),
    );
    expect(refs.every((ref) => ref.created)).toBe(true);
    expect(new Set(refs.map((ref) => ref.id)).size).toBe(1000);
    const logged = fake.records('calls').map((r) => r.properties.hs_call_external_id);
    expect(new Set(logged).size).toBe(1000);
    expect(logged).toHaveLength(1000);
    expect(fake.rateStats().rejected).toBe(0);
    expect(fake.rateStats().maxInWindow).toBeLessThanOrEqual(190);
    const requests = fake.requests();
    expect(requests.length / 1000).toBeLessThanOrEqual(0.05);
    expect(requests.filter((r) => r.path === '/crm/v3/objects/calls/batch/create')).toHaveLength(10);
  });

  it('keeps within a tight configured limit (no 429 at the fake) when every call is its own request', async () => {
    const limits = { max: 8, intervalMs: 500, searchPerSecond: 40 };
    await setup(
      { rateLimit: limits },
      { portalId: 1, rateLimit: limits, batch: { windowMs: 0, maxSize: 1 } },
    );
    const ctx = createTestAdapterContext();
    const calls = Array.from({ length: 16 }, (_, i) => sampleCallRecord({ callId: `tight-${i}` }));
    await Promise.all(calls.map((call) => adapter.logCall(call, { ...ctx, idempotencyKey: call.callId })));
    expect(fake.records('calls')).toHaveLength(16);
    expect(fake.rateStats()).toMatchObject({ rejected: 0, accepted: 32 });
    expect(fake.rateStats().maxInWindow).toBeLessThanOrEqual(8);
  });

  it('turns HubSpot’s own 429 into a rate-limit error, then writes nothing for HubSpot’s window', async () => {
    await setup(
      { rateLimit: { max: 1, intervalMs: 60_000 } },
      { portalId: 1, searchCompanies: false, rateLimit: { maxWaitMs: 1_000 } },
    );
    const ctx = createTestAdapterContext();
    await adapter.logCall(sampleCallRecord({ callId: 'w-1' }), { ...ctx, idempotencyKey: 'w-1' });
    // the window holds one request: the second write is refused (searches are exempt from it)
    const error = await adapter
      .logCall(sampleCallRecord({ callId: 'w-2' }), { ...ctx, idempotencyKey: 'w-2' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdapterError);
    expect(error).toMatchObject({ kind: 'rate-limit', status: 429, retryAfterMs: 60_000 });
    expect((error as AdapterError).message).toContain('TEN_SECONDLY_ROLLING');
    const writes = () => fake.requests().filter((r) => r.family === 'write').length;
    const sent = writes();
    // The adapter pauses its own requests for HubSpot's longest window (10 s; the pipeline honours
    // the rest of a longer Retry-After, up to its cap): the next write fails fast without reaching HubSpot.
    const next = await adapter
      .logCall(sampleCallRecord({ callId: 'w-3' }), { ...ctx, idempotencyKey: 'w-3' })
      .catch((e: unknown) => e);
    expect(next).toMatchObject({ kind: 'rate-limit', code: 'CLIENT_RATE_LIMIT' });
    expect((next as AdapterError).retryAfterMs).toBeGreaterThan(5_000);
    expect((next as AdapterError).retryAfterMs).toBeLessThanOrEqual(10_000);
    expect(writes()).toBe(sent);
  });

  it('logCalls writes one batch, reports per item, and isolates an item HubSpot refuses', async () => {
    await setup({}, { portalId: 1 });
    const owner = fake.seedOwner({ email: 'a@x.io' });
    const ctx = createTestAdapterContext();
    const items = [
      { call: sampleCallRecord({ callId: 'a' }), idempotencyKey: 'a', ownerId: owner },
      { call: sampleCallRecord({ callId: 'b' }), idempotencyKey: 'b', ownerId: '999999' }, // unknown owner: refused
      { call: sampleCallRecord({ callId: 'c' }), idempotencyKey: 'c' },
    ];
    const results = await adapter.logCalls?.(items, ctx);
    expect(results?.map((r) => r.ok)).toEqual([true, false, true]);
    const failed = results?.[1];
    expect(failed && !failed.ok && failed.error.kind).toBe('invalid');
    expect(
      fake
        .records('calls')
        .map((r) => r.properties.hs_call_external_id)
        .sort(),
    ).toEqual(['a', 'c']);
    expect(fake.requests().map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'POST /crm/v3/objects/calls/search 200',
      'POST /crm/v3/objects/calls/batch/create 400',
      'POST /crm/v3/objects/calls 201',
      'POST /crm/v3/objects/calls 400',
      'POST /crm/v3/objects/calls 201',
    ]);
  });
});

describe('OAuth', () => {
  const app = {
    clientId: 'client-id-1',
    clientSecret: 'client-secret-xyz',
    refreshToken: 'refresh-token-abc',
  };

  it('renews the access token when missing and after HubSpot says it expired; never logs secrets', async () => {
    await setup({ oauth: app }, { oauth: app, portalId: 1 });
    const ctx = testContext();
    await adapter.findContacts({ phone: parsePhone('+33612345678') }, ctx);
    fake.expireTokens();
    await adapter.logCall(sampleCallRecord(), { ...ctx, idempotencyKey: 'k' });
    expect(fake.records('calls')).toHaveLength(1);
    const paths = fake.requests().map((r) => `${r.path} ${r.status}`);
    expect(paths.filter((p) => p.startsWith('/oauth/v1/token'))).toEqual([
      '/oauth/v1/token 200',
      '/oauth/v1/token 200',
    ]);
    expect(paths).toContain('/crm/v3/objects/calls/search 401');
    const logs = ctx.logger.lines.join('\n');
    expect(logs).toContain('renew');
    for (const secret of [app.clientSecret, app.refreshToken, 'fake-oauth-'])
      expect(logs).not.toContain(secret);
  });

  it('renews once when many requests in flight meet the expired token together', async () => {
    const limits = { searchPerSecond: 50 };
    await setup(
      { oauth: app, rateLimit: limits },
      { oauth: app, portalId: 1, searchCompanies: false, rateLimit: limits },
    );
    const ctx = createTestAdapterContext();
    await adapter.findContacts({ phone: parsePhone('+33612345678') }, ctx);
    fake.expireTokens();
    fake.clearRequests();
    await Promise.all(
      Array.from({ length: 6 }, () => adapter.findContacts({ phone: parsePhone('+33612345678') }, ctx)),
    );
    const paths = fake.requests().map((r) => `${r.path} ${r.status}`);
    expect(paths.filter((p) => p.startsWith('/oauth/'))).toEqual(['/oauth/v1/token 200']);
    expect(paths.filter((p) => p.endsWith(' 200') && p.includes('search'))).toHaveLength(6);
  });

  it('reports a refused refresh token as an auth error asking to re-authorise', async () => {
    await setup({ oauth: app }, { oauth: { ...app, refreshToken: 'revoked' }, portalId: 1 });
    const error = await adapter
      .findContacts({ phone: parsePhone('+33612345678') }, createTestAdapterContext())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'auth', code: 'BAD_REFRESH_TOKEN' });
    expect((error as Error).message).toContain('Re-authorise');
    expect((error as Error).message).not.toContain('revoked');
  });
});

describe('follow-up tasks and contacts', () => {
  beforeEach(() => setup({}, { portalId: 77 }));

  it('creates one missed-call task per key, associated to the contact, due after the call', async () => {
    const contact = fake.seed('contacts', { firstname: 'Ada', phone: '+33612345678' }, { indexed: true });
    const ctx = createTestAdapterContext();
    const [match] = await adapter.findContacts({ phone: parsePhone('+33612345678') }, ctx);
    const call = sampleCallRecord({ outcome: 'missed', talkSeconds: 0 });
    const first = await adapter.createFollowUpTask?.(call, {
      ...ctx,
      idempotencyKey: 't',
      ...(match ? { match } : {}),
    });
    const second = await adapter.createFollowUpTask?.(call, {
      ...ctx,
      idempotencyKey: 't',
      ...(match ? { match } : {}),
    });
    expect(first?.created).toBe(true);
    expect(second).toEqual({ id: first?.id, created: false });
    const [task] = fake.records('tasks');
    expect(fake.records('tasks')).toHaveLength(1);
    expect(task?.properties).toMatchObject({
      hs_task_subject: 'Call back +33 6 12 34 56 78',
      hs_task_status: 'NOT_STARTED',
      hs_task_type: 'CALL',
      hs_task_priority: 'HIGH',
      hs_timestamp: new Date(call.endedAt.getTime() + 3_600_000).toISOString(),
    });
    expect(task?.associations).toEqual([{ toType: 'contacts', toId: contact.id, typeId: 204 }]);
  });

  it('creates a contact for an unknown caller once, and reuses an existing one', async () => {
    const ctx = createTestAdapterContext();
    const phone = parsePhone('0033699001122');
    const created = await adapter.createContact?.(
      { phone, name: 'Jean Dupont' },
      { ...ctx, idempotencyKey: 'c1' },
    );
    expect(created).toMatchObject({ recordType: 'contact', displayName: 'Jean Dupont', quality: 'exact' });
    expect(created?.url).toBe(`https://app.hubspot.com/contacts/77/record/0-1/${created?.id}`);
    expect(fake.records('contacts')[0]?.properties).toMatchObject({
      firstname: 'Jean',
      lastname: 'Dupont',
      phone: '+33699001122',
    });
    // retried with the same state while search does not see the contact yet: no second contact
    const retried = await adapter.createContact?.(
      { phone, name: 'Jean Dupont' },
      { ...ctx, idempotencyKey: 'c1' },
    );
    expect(retried?.id).toBe(created?.id);
    // with a fresh state, once HubSpot's index caught up, the contact is found by its number
    fake.flushIndex();
    const again = await adapter.createContact?.(
      { phone, name: 'Jean Dupont' },
      { ...createTestAdapterContext(), idempotencyKey: 'c1' },
    );
    expect(again?.id).toBe(created?.id);
    expect(fake.records('contacts')).toHaveLength(1);
  });
});

describe('options and health', () => {
  it('rejects bad options naming the key, without echoing secrets', () => {
    expect(() => hubspot({})).toThrow(/accessToken: give exactly one/);
    expect(() =>
      hubspot({
        accessToken: 'pat-secret-1',
        oauth: { clientId: 'a', clientSecret: 'b', refreshToken: 'c' },
      }),
    ).toThrow(AdapterError);
    let message = '';
    try {
      hubspot({
        accessToken: 'pat-secret-1',
        basePath: 'not a url',
        dispositions: { answered: 'Connected' },
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('basePath');
    expect(message).toContain('dispositions.answered');
    expect(message).not.toContain('pat-secret-1');
  });

  it('check() reads the account details; a revoked token gives a report to act on', async () => {
    await setup();
    const ok = await adapter.check?.(createTestAdapterContext());
    expect(ok).toMatchObject({ ok: true, details: { portalId: String(fake.portalId), auth: 'private-app' } });
    const bad = hubspot({ accessToken: 'pat-na1-revoked', basePath: fake.url });
    const report = await bad.check?.(createTestAdapterContext());
    expect(report?.ok).toBe(false);
    expect(report?.message).toContain('access token');
  });

  it('reads the portal id from the account-info API once when not configured', async () => {
    await setup();
    fake.seed('contacts', { firstname: 'Ada', phone: '+33612345678' }, { indexed: true });
    const [a] = await adapter.findContacts({ phone: parsePhone('+33612345678') }, createTestAdapterContext());
    await adapter.findContacts({ phone: parsePhone('+33612345678') }, createTestAdapterContext());
    expect(a?.url).toBe(`https://app.hubspot.com/contacts/${fake.portalId}/record/0-1/${a?.id}`);
    expect(fake.requests().filter((r) => r.path === '/account-info/v3/details')).toHaveLength(1);
  });
});
