import { Client } from '@hubspot/api-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeHubSpot, startFakeHubSpot } from './server.js';

// Every test talks to the fake through the real @hubspot/api-client 13.5, as the adapter does.

let fake: FakeHubSpot;
let client: Client;

type SearchBody = Parameters<Client['crm']['contacts']['searchApi']['doSearch']>[0];
type CreateBody = Parameters<Client['crm']['objects']['calls']['basicApi']['create']>[0];
type BatchBody = Parameters<Client['crm']['objects']['calls']['batchApi']['create']>[0];

const search = (body: unknown) => client.crm.contacts.searchApi.doSearch(body as SearchBody);
const createCall = (body: unknown) => client.crm.objects.calls.basicApi.create(body as CreateBody);
const fail = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) =>
      error as { code: number; body: Record<string, unknown>; headers: Record<string, string> },
  );

beforeEach(async () => {
  fake = await startFakeHubSpot({ rateLimit: false });
  client = new Client({ accessToken: fake.accessToken, basePath: fake.url });
});
afterEach(() => fake.close());

describe('search', () => {
  beforeEach(() => {
    fake.seed(
      'contacts',
      { firstname: 'Ada', lastname: 'Lovelace', phone: '+33 6 12 34 56 78', email: 'ada@x.io' },
      { indexed: true },
    );
    fake.seed(
      'contacts',
      { firstname: 'Alan', lastname: 'Turing', mobilephone: '06.12.34.56.78' },
      { indexed: true },
    );
    fake.seed(
      'contacts',
      { firstname: 'Grace', lastname: 'Hopper', phone: '(415) 555-1212' },
      { indexed: true },
    );
  });

  const names = (answer: { results: Array<{ properties: Record<string, string | null> }> }) =>
    answer.results.map((r) => r.properties.firstname);

  it('computes hs_searchable_calculated_* as the national number and matches EQ on it', async () => {
    const answer = await search({
      filterGroups: [
        {
          filters: [
            { propertyName: 'hs_searchable_calculated_phone_number', operator: 'EQ', value: '612345678' },
          ],
        },
        {
          filters: [
            { propertyName: 'hs_searchable_calculated_mobile_number', operator: 'EQ', value: '612345678' },
          ],
        },
      ],
      properties: ['firstname', 'phone'],
    });
    expect(names(answer)).toEqual(['Ada', 'Alan']);
    expect(answer.results[0]?.properties.phone).toBe('+33 6 12 34 56 78');
    expect(answer.results[0]?.createdAt).toBeInstanceOf(Date);
  });

  it('ORs filter groups and ANDs filters within a group', async () => {
    const and = await search({
      filterGroups: [
        {
          filters: [
            { propertyName: 'firstname', operator: 'EQ', value: 'ada' },
            { propertyName: 'lastname', operator: 'EQ', value: 'Turing' },
          ],
        },
      ],
    });
    expect(and.total).toBe(0);
    const or = await search({
      filterGroups: [
        { filters: [{ propertyName: 'firstname', operator: 'EQ', value: 'ada' }] },
        { filters: [{ propertyName: 'lastname', operator: 'EQ', value: 'Turing' }] },
      ],
    });
    expect(names(or)).toEqual(['Ada', 'Alan']);
  });

  it('supports IN, CONTAINS_TOKEN with wildcards, HAS_PROPERTY and NOT_HAS_PROPERTY', async () => {
    expect(
      names(
        await search({
          filterGroups: [
            { filters: [{ propertyName: 'phone', operator: 'IN', values: ['(415) 555-1212', '+1'] }] },
          ],
        }),
      ),
    ).toEqual(['Grace']);
    expect(
      names(
        await search({
          filterGroups: [
            { filters: [{ propertyName: 'email', operator: 'CONTAINS_TOKEN', value: '*@x.io' }] },
          ],
        }),
      ),
    ).toEqual(['Ada']);
    expect(
      names(
        await search({
          filterGroups: [{ filters: [{ propertyName: 'mobilephone', operator: 'HAS_PROPERTY' }] }],
        }),
      ),
    ).toEqual(['Alan']);
    expect(
      names(
        await search({
          filterGroups: [{ filters: [{ propertyName: 'phone', operator: 'NOT_HAS_PROPERTY' }] }],
        }),
      ),
    ).toEqual(['Alan']);
  });

  it('enforces 5 groups, 6 filters per group, 18 filters and limit 200 with VALIDATION_ERROR', async () => {
    const filter = { propertyName: 'firstname', operator: 'EQ', value: 'x' };
    const tooManyGroups = await fail(
      search({ filterGroups: Array.from({ length: 6 }, () => ({ filters: [filter] })) }),
    );
    expect(tooManyGroups.code).toBe(400);
    expect(tooManyGroups.body).toMatchObject({ category: 'VALIDATION_ERROR' });
    expect(typeof tooManyGroups.body.correlationId).toBe('string');
    expect(
      (await fail(search({ filterGroups: [{ filters: Array.from({ length: 7 }, () => filter) }] }))).code,
    ).toBe(400);
    const nineteen = [6, 6, 6, 1].map((n) => ({ filters: Array.from({ length: n }, () => filter) }));
    expect((await fail(search({ filterGroups: nineteen }))).code).toBe(400);
    expect((await fail(search({ limit: 201 }))).code).toBe(400);
    const eighteen = [6, 6, 6].map((n) => ({ filters: Array.from({ length: n }, () => filter) }));
    expect((await search({ filterGroups: eighteen })).total).toBe(0);
  });

  it('pages with after', async () => {
    const first = await search({ limit: 2 });
    expect(first.total).toBe(3);
    expect(first.paging?.next?.after).toBe('2');
    const second = await search({ limit: 2, after: '2' });
    expect(names(second)).toEqual(['Grace']);
    expect(second.paging).toBeUndefined();
  });

  it('hides new records until the index caught up (search lag)', async () => {
    fake.setIndexLag(60_000);
    const call = await createCall({
      properties: { hs_timestamp: '2026-01-01T00:00:00Z', hs_call_external_id: 'c1' },
    });
    const query = {
      filterGroups: [{ filters: [{ propertyName: 'hs_call_external_id', operator: 'EQ', value: 'c1' }] }],
    };
    expect((await client.crm.objects.calls.searchApi.doSearch(query as SearchBody)).total).toBe(0);
    fake.flushIndex();
    const found = await client.crm.objects.calls.searchApi.doSearch(query as SearchBody);
    expect(found.results.map((r) => r.id)).toEqual([call.id]);
  });
});

describe('calls', () => {
  it('creates a call (201) with associations and validates properties like HubSpot', async () => {
    const contact = fake.seed('contacts', { firstname: 'Ada' });
    const owner = fake.seedOwner({ email: 'o@x.io' });
    const created = await createCall({
      properties: {
        hs_timestamp: '2026-01-01T00:00:00Z',
        hs_call_direction: 'INBOUND',
        hubspot_owner_id: owner,
      },
      associations: [
        {
          to: { id: contact.id },
          types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 194 }],
        },
      ],
    });
    expect(created.properties.hs_call_direction).toBe('INBOUND');
    expect(fake.records('calls')[0]?.associations).toEqual([
      { toType: 'contacts', toId: contact.id, typeId: 194 },
    ]);

    for (const properties of [
      { hs_call_title: 'no timestamp' },
      { hs_timestamp: '2026-01-01T00:00:00Z', hs_call_direction: 'SIDEWAYS' },
      { hs_timestamp: '2026-01-01T00:00:00Z', hs_call_disposition: '00000000-0000-0000-0000-000000000000' },
      { hs_timestamp: '2026-01-01T00:00:00Z', hs_call_duration: '1.5s' },
      { hs_timestamp: '2026-01-01T00:00:00Z', hubspot_owner_id: '999' },
      { hs_timestamp: '2026-01-01T00:00:00Z', no_such_property: 'x' },
    ]) {
      const error = await fail(createCall({ properties }));
      expect(error.code, JSON.stringify(properties)).toBe(400);
      expect(error.body.category).toBe('VALIDATION_ERROR');
    }
    const badAssociation = await fail(
      createCall({
        properties: { hs_timestamp: '2026-01-01T00:00:00Z' },
        associations: [
          {
            to: { id: contact.id },
            types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 204 }],
          },
        ],
      }),
    );
    expect(badAssociation.code).toBe(400);
  });

  it('batch-creates up to 100 calls (results not in input order) and refuses 101', async () => {
    const inputs = Array.from({ length: 3 }, (_, i) => ({
      properties: { hs_timestamp: '2026-01-01T00:00:00Z', hs_call_external_id: `c${i}` },
    }));
    const answer = await client.crm.objects.calls.batchApi.create({ inputs } as BatchBody);
    expect(answer.status).toBe('COMPLETE');
    expect(answer.results.map((r) => r.properties.hs_call_external_id)).toEqual(['c2', 'c1', 'c0']);
    const tooMany = Array.from({ length: 101 }, () => inputs[0]);
    expect(
      (await fail(client.crm.objects.calls.batchApi.create({ inputs: tooMany } as BatchBody))).code,
    ).toBe(400);
    // One invalid input fails the whole batch.
    const mixed = [inputs[0], { properties: { hs_call_title: 'no timestamp' } }];
    expect((await fail(client.crm.objects.calls.batchApi.create({ inputs: mixed } as BatchBody))).code).toBe(
      400,
    );
    expect(fake.records('calls')).toHaveLength(3);
  });
});

describe('auth, limits and faults', () => {
  it('answers 401 INVALID_AUTHENTICATION to an unknown token', async () => {
    const other = new Client({ accessToken: 'pat-na1-wrong', basePath: fake.url });
    const error = await fail(other.crm.contacts.searchApi.doSearch({} as SearchBody));
    expect(error.code).toBe(401);
    expect(error.body.category).toBe('INVALID_AUTHENTICATION');
  });

  it('issues OAuth tokens on refresh and expires them', async () => {
    const oauthFake = await startFakeHubSpot({
      oauth: { clientId: 'cid', clientSecret: 'csecret', refreshToken: 'rtok' },
    });
    try {
      const anonymous = new Client({ basePath: oauthFake.url });
      const tokens = await anonymous.oauth.tokensApi.create(
        'refresh_token',
        undefined,
        undefined,
        'cid',
        'csecret',
        'rtok',
      );
      expect(tokens.expiresIn).toBe(1800);
      const authed = new Client({ accessToken: tokens.accessToken, basePath: oauthFake.url });
      expect((await authed.crm.contacts.searchApi.doSearch({} as SearchBody)).total).toBe(0);
      oauthFake.expireTokens();
      const expired = await fail(authed.crm.contacts.searchApi.doSearch({} as SearchBody));
      expect(expired.code).toBe(401);
      expect(expired.body.category).toBe('EXPIRED_AUTHENTICATION');
      const bad = await fail(
        anonymous.oauth.tokensApi.create('refresh_token', undefined, undefined, 'cid', 'csecret', 'nope'),
      );
      expect(bad.code).toBe(400);
    } finally {
      await oauthFake.close();
    }
  });

  it('limits requests per rolling window with HubSpot 429 bodies and rate-limit headers', async () => {
    const limited = await startFakeHubSpot({ rateLimit: { max: 2, intervalMs: 60_000, searchPerSecond: 1 } });
    try {
      const c = new Client({ accessToken: limited.accessToken, basePath: limited.url });
      const owners = await c.crm.owners.ownersApi.getPageWithHttpInfo();
      expect(owners.headers['x-hubspot-ratelimit-max']).toBe('2');
      expect(owners.headers['x-hubspot-ratelimit-remaining']).toBe('1');
      await c.crm.owners.ownersApi.getPage();
      const error = await fail(c.crm.owners.ownersApi.getPage());
      expect(error.code).toBe(429);
      // The SDK keeps only message/correlationId/category of error bodies; the message names the policy.
      expect(error.body.message).toBe('You have reached your ten_secondly_rolling limit.');
      expect(error.headers['x-hubspot-ratelimit-interval-milliseconds']).toBe('60000');
      expect(limited.rateStats()).toMatchObject({ maxInWindow: 2, rejected: 1, accepted: 2 });
    } finally {
      await limited.close();
    }
  });

  it('applies injected faults to the targeted family only, with Retry-After', async () => {
    fake.inject({ status: 429, on: 'write', retryAfterSeconds: 3 });
    expect((await search({})).total).toBe(0);
    const error = await fail(createCall({ properties: { hs_timestamp: '2026-01-01T00:00:00Z' } }));
    expect(error.code).toBe(429);
    expect(error.headers['retry-after']).toBe('3');
    await createCall({ properties: { hs_timestamp: '2026-01-01T00:00:00Z' } });
    expect(fake.requests().map((r) => `${r.family} ${r.status}`)).toEqual([
      'search 200',
      'write 429',
      'write 201',
    ]);
  });

  it('drop-after-commit performs the write and then drops the connection', async () => {
    fake.inject({ kind: 'drop-after-commit', on: 'write' });
    const error = await createCall({ properties: { hs_timestamp: '2026-01-01T00:00:00Z' } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as { code?: unknown }).code).not.toBe(201);
    expect(fake.records('calls')).toHaveLength(1);
  });

  it('serves owners and account details', async () => {
    const id = fake.seedOwner({ email: 'marie@x.io', firstName: 'Marie', lastName: 'Curie' });
    const owners = await client.crm.owners.ownersApi.getPage(undefined, undefined, 500, false);
    expect(owners.results.map((o) => [o.id, o.firstName])).toEqual([[id, 'Marie']]);
    const response = await client.apiRequest({ method: 'GET', path: '/account-info/v3/details' });
    expect(await response.json()).toMatchObject({ portalId: fake.portalId, uiDomain: 'app.hubspot.com' });
  });
});
