import { generateKeyPairSync } from 'node:crypto';
import { AdapterError, type Logger, parsePhone } from '@cti-bridge/core';
import { createTestAdapterContext, createTestAdapterState } from '@cti-bridge/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { jwtAudience } from './client.js';
import { salesforce } from './index.js';
import { type FakeSalesforce, type FakeSalesforceOptions, startFakeSalesforce } from './testing/index.js';

let fake: FakeSalesforce | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options: FakeSalesforceOptions = {}): Promise<FakeSalesforce> {
  fake = await startFakeSalesforce(options);
  return fake;
}

const phone = parsePhone('+33612345678');

/** A logger that keeps every record, to check that no secret is ever logged. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const write = (data: Record<string, unknown>, message?: string) => {
    lines.push(JSON.stringify({ ...data, message }));
  };
  const logger = { debug: write, info: write, warn: write, error: write, child: () => logger, lines };
  return logger;
}

async function errorOf(promise: Promise<unknown>): Promise<AdapterError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AdapterError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

const families = (f: FakeSalesforce) => f.requests().map((r) => `${r.family} ${r.status}`);

describe('salesforce() authentication', () => {
  it('refresh token: logs in on first use, refreshes once on expiry, persists the rotated token', async () => {
    const f = await start({ rotateRefreshTokens: true });
    const adapter = salesforce({
      auth: {
        type: 'refresh-token',
        loginUrl: f.url,
        clientId: f.credentials.clientId,
        clientSecret: f.credentials.clientSecret,
        refreshToken: f.credentials.refreshToken,
      },
    });
    const state = createTestAdapterState();
    const logger = recordingLogger();
    const ctx = { ...createTestAdapterContext(state), logger };
    await adapter.findContacts({ phone }, ctx);
    expect(families(f)).toEqual(['token 200', 'search 200']);
    const firstSession = JSON.parse((await state.get('session')) as string) as Record<string, string>;
    expect(firstSession.instanceUrl).toBe(f.url);
    expect(firstSession.refreshToken).toMatch(/^5Aep861/);
    expect(firstSession.refreshToken).not.toBe(f.credentials.refreshToken);

    f.expireTokens();
    f.clearRequests();
    await adapter.findContacts({ phone }, ctx);
    expect(families(f)).toEqual(['search 401', 'token 200', 'search 200']);
    const second = JSON.parse((await state.get('session')) as string) as Record<string, string>;
    expect(second.refreshToken).not.toBe(firstSession.refreshToken);

    // A new process reuses the persisted session and the rotated refresh token (the configured one is revoked).
    const restarted = salesforce({
      auth: {
        type: 'refresh-token',
        loginUrl: f.url,
        clientId: f.credentials.clientId,
        clientSecret: f.credentials.clientSecret,
        refreshToken: f.credentials.refreshToken,
      },
    });
    f.expireTokens();
    f.clearRequests();
    await restarted.findContacts({ phone }, ctx);
    expect(families(f)).toEqual(['search 401', 'token 200', 'search 200']);
    for (const line of logger.lines) {
      expect(line).not.toContain(f.credentials.clientSecret);
      expect(line).not.toContain(second.accessToken);
    }
  });

  it('stops after one refresh when Salesforce keeps rejecting the session: auth, no loop', async () => {
    const f = await start();
    const adapter = salesforce({
      auth: {
        type: 'refresh-token',
        instanceUrl: f.url,
        accessToken: f.credentials.accessToken,
        loginUrl: f.url,
        clientId: f.credentials.clientId,
        refreshToken: f.credentials.refreshToken,
      },
    });
    f.inject({ status: 401, on: 'search', times: 1000 });
    const error = await errorOf(adapter.findContacts({ phone }, createTestAdapterContext()));
    expect(error).toMatchObject({ kind: 'auth', code: 'INVALID_SESSION_ID' });
    expect(families(f)).toEqual(['search 401', 'token 200', 'search 401']);
    expect(error.message).not.toContain(f.credentials.refreshToken);
    // The next operation gets its own single refresh.
    f.clearRequests();
    await errorOf(adapter.findContacts({ phone }, createTestAdapterContext()));
    expect(families(f)).toEqual(['search 401', 'token 200', 'search 401']);
  });

  it('a revoked refresh token is an auth error naming the OAuth error', async () => {
    const f = await start();
    const adapter = salesforce({
      auth: {
        type: 'refresh-token',
        loginUrl: f.url,
        clientId: f.credentials.clientId,
        refreshToken: 'revoked',
      },
    });
    const error = await errorOf(adapter.findContacts({ phone }, createTestAdapterContext()));
    expect(error).toMatchObject({ kind: 'auth', code: 'invalid_grant' });
    expect(error.message).toContain('expired access/refresh token');
    expect(error.message).not.toContain('revoked');
  });

  it('a refresh that fails mid-operation keeps the OAuth error code', async () => {
    const f = await start();
    const adapter = salesforce({
      auth: {
        type: 'refresh-token',
        instanceUrl: f.url,
        accessToken: f.credentials.accessToken,
        loginUrl: f.url,
        clientId: f.credentials.clientId,
        refreshToken: 'revoked-refresh-token',
      },
    });
    f.expireTokens();
    const error = await errorOf(adapter.findContacts({ phone }, createTestAdapterContext()));
    expect(error).toMatchObject({ kind: 'auth', code: 'invalid_grant' });
    expect(families(f)).toEqual(['search 401', 'token 400']);
  });

  it('JWT bearer: signs the assertion, logs in, and re-signs when the session expires', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const f = await start({ jwtPublicKey: publicKey });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const adapter = salesforce({
      auth: {
        type: 'jwt',
        loginUrl: f.url,
        clientId: f.credentials.clientId,
        username: f.credentials.username,
        privateKey: pem,
      },
    });
    const ctx = createTestAdapterContext();
    await adapter.findContacts({ phone }, ctx);
    f.expireTokens();
    await adapter.findContacts({ phone }, ctx);
    expect(families(f)).toEqual(['token 200', 'search 200', 'search 401', 'token 200', 'search 200']);
    expect(f.requests()[0]?.body).toEqual({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer' });

    const wrongUser = salesforce({
      auth: {
        type: 'jwt',
        loginUrl: f.url,
        clientId: f.credentials.clientId,
        username: 'someone@else',
        privateKey: pem,
      },
    });
    const error = await errorOf(wrongUser.findContacts({ phone }, createTestAdapterContext()));
    expect(error.kind).toBe('auth');
    expect(error.message).toContain("user hasn't approved this consumer");
    expect(error.message).not.toContain('PRIVATE KEY');
  });

  it('JWT audience: login or test.salesforce.com, never My Domain', () => {
    expect(jwtAudience('https://login.salesforce.com')).toBe('https://login.salesforce.com');
    expect(jwtAudience('https://acme.my.salesforce.com')).toBe('https://login.salesforce.com');
    expect(jwtAudience('https://test.salesforce.com')).toBe('https://test.salesforce.com');
    expect(jwtAudience('https://acme--uat.sandbox.my.salesforce.com')).toBe('https://test.salesforce.com');
  });

  it('username + password: SOAP login without a connected app, OAuth password flow with one', async () => {
    const f = await start();
    const soap = salesforce({
      auth: {
        type: 'password',
        loginUrl: f.url,
        username: f.credentials.username,
        password: f.credentials.password,
        securityToken: f.credentials.securityToken,
      },
    });
    await soap.findContacts({ phone }, createTestAdapterContext());
    expect(f.requests().map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /services/Soap/u/62.0',
      'GET /services/data/v62.0/search',
    ]);
    f.clearRequests();
    const oauth = salesforce({
      auth: {
        type: 'password',
        loginUrl: f.url,
        username: f.credentials.username,
        password: f.credentials.password,
        securityToken: f.credentials.securityToken,
        clientId: f.credentials.clientId,
        clientSecret: f.credentials.clientSecret,
      },
    });
    await oauth.findContacts({ phone }, createTestAdapterContext());
    expect(f.requests().map((r) => r.body ?? r.family)).toEqual([{ grant_type: 'password' }, 'search']);

    const wrong = salesforce({
      auth: { type: 'password', loginUrl: f.url, username: f.credentials.username, password: 'bad-password' },
    });
    const error = await errorOf(wrong.findContacts({ phone }, createTestAdapterContext()));
    expect(error).toMatchObject({ kind: 'auth', code: 'INVALID_LOGIN' });
    expect(error.message).not.toContain('bad-password');
  });

  it('access token only: a 401 is an auth error at once', async () => {
    const f = await start();
    const adapter = salesforce({
      auth: { type: 'token', instanceUrl: f.url, accessToken: 'expired-token-value' },
    });
    const error = await errorOf(adapter.findContacts({ phone }, createTestAdapterContext()));
    expect(error).toMatchObject({ kind: 'auth', code: 'INVALID_SESSION_ID', status: 401 });
    expect(error.message).toMatch(/connected app|credentials/);
    expect(error.message).not.toContain('expired-token-value');
    expect(families(f)).toEqual(['search 401']);
  });
});
