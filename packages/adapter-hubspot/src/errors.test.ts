import { Client } from '@hubspot/api-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rateLimitPolicy, toHubSpotError } from './errors.js';
import { type FakeHubSpot, startFakeHubSpot } from './testing/index.js';

// Errors come from the real client talking to the fake, so the mapping reads what the SDK really throws.

let fake: FakeHubSpot;
let client: Client;
type CreateBody = Parameters<Client['crm']['objects']['calls']['basicApi']['create']>[0];

const createCall = () =>
  client.crm.objects.calls.basicApi
    .create({ properties: { hs_timestamp: '2026-01-01T00:00:00Z' } } as CreateBody)
    .then(
      () => {
        throw new Error('expected a failure');
      },
      (error: unknown) => error,
    );

beforeEach(async () => {
  fake = await startFakeHubSpot({ rateLimit: false });
  client = new Client({ accessToken: fake.accessToken, basePath: fake.url });
});
afterEach(() => fake.close());

describe('toHubSpotError', () => {
  it('maps 401 to auth, with the category and correlationId, and advice', async () => {
    fake.inject({ status: 401 });
    const error = toHubSpotError(await createCall(), 'create the call engagement');
    expect(error).toMatchObject({ kind: 'auth', status: 401, code: 'INVALID_AUTHENTICATION' });
    expect(error.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(error.message).toContain('private app access token');
    expect(error.message).not.toContain(fake.accessToken);
  });

  it('maps 403 MISSING_SCOPES to auth naming the scopes', async () => {
    fake.inject({ status: 403 });
    const error = toHubSpotError(await createCall(), 'create the call engagement');
    expect(error).toMatchObject({ kind: 'auth', code: 'MISSING_SCOPES' });
    expect(error.message).toContain('crm.objects.contacts.write');
  });

  it('maps 429 to rate-limit: Retry-After first, else the policy of the body', async () => {
    const now = Date.parse('2026-03-02T23:00:00Z');
    fake.inject({ status: 429, retryAfterSeconds: 7 });
    expect(toHubSpotError(await createCall(), 'x', now)).toMatchObject({
      kind: 'rate-limit',
      retryAfterMs: 7000,
    });
    fake.inject({ status: 429, policy: 'TEN_SECONDLY_ROLLING' });
    expect(toHubSpotError(await createCall(), 'x', now).retryAfterMs).toBe(10_000);
    fake.inject({ status: 429, policy: 'SECONDLY' });
    expect(toHubSpotError(await createCall(), 'x', now).retryAfterMs).toBe(1000);
    fake.inject({ status: 429, policy: 'DAILY' });
    const daily = toHubSpotError(await createCall(), 'x', now);
    expect(daily.retryAfterMs).toBe(3_600_000);
    expect(daily.message).toContain('DAILY');
  });

  it('maps 400 VALIDATION_ERROR to invalid with HubSpot’s message', async () => {
    const error = toHubSpotError(
      await client.crm.objects.calls.basicApi
        .create({ properties: { hs_call_title: 'x' } } as CreateBody)
        .catch((e: unknown) => e),
      'create the call engagement',
    );
    expect(error).toMatchObject({ kind: 'invalid', status: 400, code: 'VALIDATION_ERROR' });
    expect(error.message).toContain('hs_timestamp');
  });

  it('maps 5xx and network failures to transient', async () => {
    fake.inject({ status: 503 });
    expect(toHubSpotError(await createCall(), 'x').kind).toBe('transient');
    await fake.close();
    const network = toHubSpotError(await createCall(), 'create the call engagement');
    expect(network.kind).toBe('transient');
    expect(network.message).toContain('network error');
  });

  it('follows the common HTTP rule for the other statuses: 410 not-found, 412 conflict, 408 transient', async () => {
    fake.inject({ status: 410 });
    expect(toHubSpotError(await createCall(), 'x').kind).toBe('not-found');
    fake.inject({ status: 412 });
    expect(toHubSpotError(await createCall(), 'x').kind).toBe('conflict');
    fake.inject({ status: 408 });
    expect(toHubSpotError(await createCall(), 'x').kind).toBe('transient');
  });

  it('reads the policy from policyName or, as the SDK drops it, from the message', () => {
    expect(rateLimitPolicy({ policyName: 'DAILY' })).toBe('DAILY');
    expect(rateLimitPolicy({ message: 'You have reached your ten_secondly_rolling limit.' })).toBe(
      'TEN_SECONDLY_ROLLING',
    );
    expect(rateLimitPolicy({ message: 'You have reached your secondly limit.' })).toBe('SECONDLY');
    expect(rateLimitPolicy(undefined)).toBe('UNKNOWN');
  });
});
