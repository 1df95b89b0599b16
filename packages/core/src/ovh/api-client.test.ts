import { afterEach, describe, expect, it } from 'vitest';
import { type FakeOvhApi, type FakeOvhApiOptions, startFakeOvhApi } from '../testing/index.js';
import { createOvhApiClient, type OvhApiClientOptions, OvhApiError, ovhJsonBody } from './api-client.js';

let apis: FakeOvhApi[] = [];
afterEach(async () => {
  await Promise.all(apis.map((api) => api.close()));
  apis = [];
});

async function fakeApi(options?: FakeOvhApiOptions): Promise<FakeOvhApi> {
  const api = await startFakeOvhApi(options);
  apis.push(api);
  return api;
}

function client(api: FakeOvhApi, overrides: Partial<OvhApiClientOptions> = {}) {
  return createOvhApiClient({
    endpoint: api.url,
    applicationKey: api.applicationKey,
    applicationSecret: api.applicationSecret,
    consumerKey: api.consumerKey,
    ...overrides,
  });
}

async function rejection(promise: Promise<unknown>): Promise<OvhApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OvhApiError);
  return error as OvhApiError;
}

describe('createOvhApiClient — event tokens', () => {
  it('creates, reads and deletes a billing-account token and a line token (signed requests)', async () => {
    const api = await fakeApi();
    const ovh = client(api);
    const account = { billingAccount: 'ab12345-ovh-1' };
    const line = { billingAccount: 'ab12345-ovh-1', serviceName: '0033972123456' };
    expect(await ovh.eventTokens.get(account)).toBeUndefined();
    const accountToken = await ovh.eventTokens.create(account);
    const lineToken = await ovh.eventTokens.create({ ...line, expiration: '1 day' });
    expect(accountToken).toMatch(/^[0-9A-F-]{36}$/);
    expect(lineToken).not.toBe(accountToken);
    expect(api.tokens()).toEqual({
      '/telephony/ab12345-ovh-1/eventToken': accountToken,
      '/telephony/ab12345-ovh-1/service/0033972123456/eventToken': lineToken,
    });
    expect(await ovh.eventTokens.get(account)).toBe(accountToken);
    expect(await ovh.eventTokens.get(line)).toBe(lineToken);
    await ovh.eventTokens.delete(line);
    expect(await ovh.eventTokens.get(line)).toBeUndefined();
    const missing = await rejection(ovh.eventTokens.delete(line));
    expect(missing.kind).toBe('not-found');
    expect(missing.message).toContain('eventToken');
    // One unsigned /auth/time, every other request signed and accepted.
    const requests = api.requests();
    expect(requests.filter((r) => r.path === '/auth/time')).toEqual([
      { method: 'GET', path: '/auth/time', signed: false, status: 200 },
    ]);
    expect(requests.filter((r) => r.path !== '/auth/time').every((r) => r.signed)).toBe(true);
    expect(requests.filter((r) => r.status === 400 || r.status === 403)).toEqual([]);
  });

  it('uses the server clock from /auth/time, and re-syncs once on QUERY_TIME_OUT', async () => {
    const api = await fakeApi({ clockSkewSeconds: 3_600, maxTimestampDriftSeconds: 30 });
    let offset = 0;
    const ovh = client(api, { now: () => Date.now() + offset });
    expect(await ovh.timeDelta()).toBeGreaterThan(3_590);
    await ovh.eventTokens.create({ billingAccount: 'ba' });
    offset = 10 * 60_000; // the local clock jumps: the cached delta is now wrong
    expect(await ovh.eventTokens.get({ billingAccount: 'ba' })).toMatch(/^[0-9A-F-]{36}$/);
    const statuses = api.requests().map((r) => `${r.path}:${r.status}`);
    expect(statuses).toEqual([
      '/auth/time:200',
      '/telephony/ba/eventToken:200',
      '/telephony/ba/eventToken:400',
      '/auth/time:200',
      '/telephony/ba/eventToken:200',
    ]);
  });

  it('a 404 on the billing account itself is an error, not "no token"', async () => {
    const api = await fakeApi({ billingAccounts: ['ba-1'] });
    const error = await rejection(client(api).eventTokens.get({ billingAccount: 'nope' }));
    expect(error.kind).toBe('not-found');
    expect(error.message).toContain('billingAccount');
  });

  it('sends non-ASCII bodies escaped, exactly as signed', async () => {
    expect(ovhJsonBody({ description: 'Élodie – accueil' })).toBe(
      '{"description":"\\u00c9lodie \\u2013 accueil"}',
    );
    const api = await fakeApi();
    // The fake verifies the signature over the exact body received.
    await expect(
      client(api).request('POST', '/telephony/ba/eventToken', { expiration: 'unlimited', note: 'é' }),
    ).resolves.toMatch(/^[0-9A-F-]{36}$/);
  });
});

describe('createOvhApiClient — errors', () => {
  it('a wrong application secret gives a clear auth error without leaking secrets', async () => {
    const api = await fakeApi();
    const secret = 'this-is-a-wrong-secret-0123456789';
    const error = await rejection(
      client(api, { applicationSecret: secret }).eventTokens.create({ billingAccount: 'ba' }),
    );
    expect(error.kind).toBe('auth');
    expect(error.code).toBe('INVALID_SIGNATURE');
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/signature/i);
    expect(error.message).toContain('applicationSecret');
    expect(error.queryId).toMatch(/^FR\.fake\./);
    for (const leaked of [secret, api.consumerKey, api.applicationSecret]) {
      expect(error.message).not.toContain(leaked);
      expect(JSON.stringify(error)).not.toContain(leaked);
    }
  });

  it('names the fix for a wrong application key, an unknown consumer key and a missing access rule', async () => {
    const api = await fakeApi({ accessRules: [{ method: 'GET', path: '/telephony/*' }] });
    const badKey = await rejection(
      client(api, { applicationKey: 'nope' }).eventTokens.get({ billingAccount: 'ba' }),
    );
    expect([badKey.kind, badKey.code]).toEqual(['auth', 'INVALID_KEY']);
    expect(badKey.message).toContain('applicationKey');
    const badConsumer = await rejection(
      client(api, { consumerKey: 'unknown-consumer' }).eventTokens.get({ billingAccount: 'ba' }),
    );
    expect([badConsumer.kind, badConsumer.code]).toEqual(['auth', 'INVALID_CREDENTIAL']);
    expect(badConsumer.message).not.toContain('unknown-consumer');
    const notGranted = await rejection(client(api).eventTokens.create({ billingAccount: 'ba' }));
    expect([notGranted.kind, notGranted.code, notGranted.status]).toEqual(['auth', 'NOT_GRANTED_CALL', 403]);
    expect(notGranted.message).toContain('POST /telephony/ba/eventToken');
    expect(notGranted.message).toMatch(/access rule/);
    // GET is granted by the rule.
    expect(await client(api).eventTokens.get({ billingAccount: 'ba' })).toBeUndefined();
  });

  it('rejects bad options and unknown endpoints up front; knows the three regions', () => {
    expect(() =>
      createOvhApiClient({
        endpoint: 'ovh-mars',
        applicationKey: 'a',
        applicationSecret: 'b',
        consumerKey: 'c',
      }),
    ).toThrow(/unknown OVH endpoint "ovh-mars"/);
    expect(() =>
      createOvhApiClient({ applicationKey: 'a', applicationSecret: '', consumerKey: 'c' }),
    ).toThrow(/applicationSecret is required/);
    const keys = { applicationKey: 'a', applicationSecret: 'b', consumerKey: 'c' };
    expect(createOvhApiClient({ ...keys }).baseUrl).toBe('https://eu.api.ovh.com/1.0');
    expect(createOvhApiClient({ ...keys, endpoint: 'ovh-ca' }).baseUrl).toBe('https://ca.api.ovh.com/1.0');
    expect(createOvhApiClient({ ...keys, endpoint: 'ovh-us' }).baseUrl).toBe(
      'https://api.us.ovhcloud.com/1.0',
    );
  });

  it('a network failure is transient', async () => {
    const api = await fakeApi();
    const url = api.url;
    await api.close();
    apis = [];
    const error = await rejection(
      createOvhApiClient({
        endpoint: url,
        applicationKey: 'a',
        applicationSecret: 'b',
        consumerKey: 'c',
      }).eventTokens.get({
        billingAccount: 'ba',
      }),
    );
    expect(error.kind).toBe('transient');
    expect(error.message).toContain('could not reach the OVH API');
  });
});
