import { generateKeyPairSync } from 'node:crypto';
import jsforce, { type Connection } from 'jsforce';
import { afterEach, describe, expect, it } from 'vitest';
import { signJwtAssertion } from '../../client.js';
import { type FakeSalesforce, type FakeSalesforceOptions, startFakeSalesforce } from './server.js';

// These tests drive the fake with jsforce itself, unmodified: they prove the fake answers the way
// jsforce 3.10.16 expects Salesforce to answer.

let fake: FakeSalesforce | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options: FakeSalesforceOptions = {}): Promise<FakeSalesforce> {
  fake = await startFakeSalesforce(options);
  return fake;
}

function tokenConnection(f: FakeSalesforce): Connection {
  return new jsforce.Connection({
    instanceUrl: f.url,
    accessToken: f.credentials.accessToken,
    version: '62.0',
  });
}

async function errorOf(
  promise: PromiseLike<unknown>,
): Promise<Error & { errorCode?: string; data?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { errorCode?: string };
  }
  throw new Error('expected a failure');
}

describe('fake Salesforce seen through jsforce', () => {
  it('logs in by SOAP and returns its own URL as the instance URL', async () => {
    const f = await start();
    const conn = new jsforce.Connection({ loginUrl: f.url, version: '62.0' });
    const info = await conn.loginBySoap(
      f.credentials.username,
      f.credentials.password + f.credentials.securityToken,
    );
    expect(info.id).toBe(f.apiUserId);
    expect(conn.instanceUrl).toBe(f.url);
    const result = await conn.query<{ Id: string }>('SELECT Id FROM User');
    expect(result.records.map((r) => r.Id)).toEqual([f.apiUserId]);
    const bad = await errorOf(conn.loginBySoap(f.credentials.username, 'wrong'));
    expect(bad.message).toMatch(/^INVALID_LOGIN: Invalid username, password, security token/);
  });

  it('serves the OAuth password grant and rejects a wrong secret like Salesforce', async () => {
    const f = await start();
    const conn = new jsforce.Connection({
      oauth2: { loginUrl: f.url, clientId: f.credentials.clientId, clientSecret: f.credentials.clientSecret },
      version: '62.0',
    });
    await conn.login(f.credentials.username, f.credentials.password + f.credentials.securityToken);
    expect(conn.instanceUrl).toBe(f.url);
    expect(conn.userInfo?.organizationId).toMatch(/^00D/);
    const wrong = new jsforce.Connection({
      oauth2: { loginUrl: f.url, clientId: f.credentials.clientId, clientSecret: 'nope' },
    });
    const error = await errorOf(wrong.login(f.credentials.username, f.credentials.password));
    expect(error.name).toBe('invalid_client');
  });

  it('refreshes an expired session once and replays the request (jsforce oauth2 refresh)', async () => {
    const f = await start({ rotateRefreshTokens: true });
    const conn = new jsforce.Connection({
      instanceUrl: f.url,
      accessToken: f.credentials.accessToken,
      refreshToken: f.credentials.refreshToken,
      oauth2: { loginUrl: f.url, clientId: f.credentials.clientId, clientSecret: f.credentials.clientSecret },
      version: '62.0',
    });
    const refreshed: string[] = [];
    conn.on('refresh', (token: string, res: { refresh_token?: string }) => {
      refreshed.push(token);
      expect(res.refresh_token).toMatch(/^5Aep861/);
    });
    f.expireTokens();
    const result = await conn.query('SELECT Id FROM User');
    expect(result.totalSize).toBe(1);
    expect(refreshed).toHaveLength(1);
    const calls = f.requests().map((r) => `${r.method} ${r.family} ${r.status}`);
    expect(calls).toEqual(['GET query 401', 'POST token 200', 'GET query 200']);
  });

  it('accepts a JWT bearer assertion signed with the connected app key, and only that key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const f = await start({ jwtPublicKey: publicKey });
    const sign = (key: typeof privateKey) =>
      signJwtAssertion({
        clientId: f.credentials.clientId,
        username: f.credentials.username,
        audience: 'https://login.salesforce.com',
        privateKey: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
      });
    const conn = new jsforce.Connection({ loginUrl: f.url, version: '62.0' });
    await conn.authorize({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: sign(privateKey),
    });
    expect(conn.instanceUrl).toBe(f.url);
    expect((await conn.query('SELECT Id FROM User')).totalSize).toBe(1);
    const error = await errorOf(
      conn.authorize({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: sign(other.privateKey),
      }),
    );
    expect(error.name).toBe('invalid_grant');
  });

  it('expires issued tokens after tokenTtlMs on its clock; jsforce refreshes and carries on', async () => {
    let clock = 1_000_000;
    const f = await start({ tokenTtlMs: 60_000, clock: () => clock });
    const conn = new jsforce.Connection({
      oauth2: { loginUrl: f.url, clientId: f.credentials.clientId, clientSecret: f.credentials.clientSecret },
      version: '62.0',
    });
    await conn.login(f.credentials.username, f.credentials.password + f.credentials.securityToken);
    await conn.query('SELECT Id FROM User');
    clock += 60_001;
    // jsforce's password login installs a re-login refresh: one 401, one login, one replay.
    await conn.query('SELECT Id FROM User');
    expect(f.requests().map((r) => `${r.family} ${r.status}`)).toEqual([
      'token 200',
      'query 200',
      'query 401',
      'token 200',
      'query 200',
    ]);
  });

  it('answers 401 INVALID_SESSION_ID to an unknown token, as jsforce expects', async () => {
    const f = await start();
    const conn = new jsforce.Connection({ instanceUrl: f.url, accessToken: 'bogus', version: '62.0' });
    const error = await errorOf(conn.query('SELECT Id FROM User'));
    expect(error.errorCode).toBe('INVALID_SESSION_ID');
  });

  it('creates, upserts (201 then 200) and reports the real error codes', async () => {
    const f = await start({ taskExternalIdField: 'Call_Id__c' });
    const conn = tokenConnection(f);
    const created = await conn
      .sobject('Task')
      .create({ Subject: 'Call', TaskSubtype: 'Call', CallType: 'Inbound' });
    expect(created).toMatchObject({ success: true, errors: [] });
    const first = await conn.sobject('Task').upsert({ Call_Id__c: 'abc-1', Subject: 'one' }, 'Call_Id__c');
    const second = await conn.sobject('Task').upsert({ Call_Id__c: 'abc-1', Subject: 'two' }, 'Call_Id__c');
    expect(first).toMatchObject({ success: true, created: true });
    expect(second).toMatchObject({ success: true, created: false, id: (first as { id: string }).id });
    expect(f.records('Task').filter((t) => t.Call_Id__c === 'abc-1')).toHaveLength(1);
    expect(f.requests().at(-1)).toMatchObject({
      method: 'PATCH',
      path: '/services/data/v62.0/sobjects/Task/Call_Id__c/abc-1',
    });

    const duplicate = await errorOf(conn.sobject('Task').create({ Call_Id__c: 'abc-1' }));
    expect(duplicate.errorCode).toBe('DUPLICATE_VALUE');
    const missing = await errorOf(conn.sobject('Lead').create({ LastName: 'Doe' }));
    expect(missing.errorCode).toBe('REQUIRED_FIELD_MISSING');
    expect(missing.message).toBe('Required fields are missing: [Company]');
    const picklist = await errorOf(conn.sobject('Task').create({ CallType: 'Sideways' }));
    expect(picklist.errorCode).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
    const unknownField = await errorOf(conn.sobject('Task').create({ Nope__c: 1 }));
    expect(unknownField.errorCode).toBe('INVALID_FIELD');
    const noExt = await errorOf(conn.sobject('Task').upsert({ Other__c: 'x' }, 'Other__c'));
    expect(noExt.errorCode).toBe('NOT_FOUND');
  });

  it('answers 300 when an external id matches several records (jsforce: MULTIPLE_CHOICES)', async () => {
    const f = await start({ taskExternalIdField: 'Call_Id__c' });
    f.insert('Task', { Call_Id__c: 'dup' }, { system: true });
    f.insert('Task', { Call_Id__c: 'dup' }, { system: true });
    const error = await errorOf(
      tokenConnection(f).sobject('Task').upsert({ Call_Id__c: 'dup', Subject: 'x' }, 'Call_Id__c'),
    );
    expect(error.errorCode).toBe('MULTIPLE_CHOICES');
  });

  it('creates many records in one collection request and reports failures per record', async () => {
    const f = await start();
    const results = await tokenConnection(f)
      .sobject('Lead')
      .create([{ LastName: 'A', Company: 'X' }, { LastName: 'B' }, { LastName: 'C', Company: 'Y' }]);
    expect(results.map((r) => r.success)).toEqual([true, false, true]);
    expect((results[1] as unknown as { errors: Array<{ statusCode: string }> }).errors[0]?.statusCode).toBe(
      'REQUIRED_FIELD_MISSING',
    );
    expect(f.requests().map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /services/data/v62.0/composite/sobjects',
    ]);
  });

  it('runs composite subrequests with references', async () => {
    const f = await start();
    const answer = await tokenConnection(f).requestPost<{
      compositeResponse: Array<{ httpStatusCode: number; body: unknown }>;
    }>('/composite', {
      allOrNone: false,
      compositeRequest: [
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Account',
          referenceId: 'acct',
          body: { Name: 'Acme' },
        },
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Contact',
          referenceId: 'contact',
          body: { LastName: 'Doe', AccountId: '@{acct.id}' },
        },
      ],
    });
    expect(answer.compositeResponse.map((r) => r.httpStatusCode)).toEqual([201, 201]);
    expect(f.records('Contact')[0]?.AccountId).toBe(f.records('Account')[0]?.Id);
  });

  it('reports API usage in Sforce-Limit-Info and refuses requests beyond the limit', async () => {
    const f = await start({ apiLimit: 2 });
    const conn = tokenConnection(f);
    await conn.query('SELECT Id FROM User');
    expect(conn.limitInfo.apiUsage).toEqual({ used: 1, limit: 2 });
    await conn.query('SELECT Id FROM User');
    const error = await errorOf(conn.sobject('Account').create({ Name: 'x' }));
    expect(error.errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
  });

  it('pages query results with nextRecordsUrl', async () => {
    const f = await start({ queryBatchSize: 2 });
    for (const name of ['a', 'b', 'c', 'd', 'e']) f.insert('Account', { Name: name });
    const conn = tokenConnection(f);
    const first = await conn.query<{ Name: string }>('SELECT Name FROM Account ORDER BY Name');
    expect(first).toMatchObject({ totalSize: 5, done: false });
    const rest = await conn.queryMore<{ Name: string }>(first.nextRecordsUrl as string);
    expect(rest.records.map((r) => r.Name)).toEqual(['c', 'd']);
  });

  it('lets jsforce retry an injected 503 on a GET by itself', async () => {
    const f = await start();
    f.inject({ status: 503, on: 'query', times: 1 });
    const result = await tokenConnection(f).query('SELECT Id FROM User');
    expect(result.totalSize).toBe(1);
    expect(f.requests().map((r) => r.status)).toEqual([503, 200]);
  });

  it('rejects malformed SOQL with MALFORMED_QUERY and unknown columns with INVALID_FIELD', async () => {
    const f = await start();
    const conn = tokenConnection(f);
    expect((await errorOf(conn.query("SELECT Id FROM Task WHERE Subject = 'a\\q'"))).errorCode).toBe(
      'MALFORMED_QUERY',
    );
    expect((await errorOf(conn.query("SELECT Id FROM Task WHERE Subject = 'open"))).errorCode).toBe(
      'MALFORMED_QUERY',
    );
    expect((await errorOf(conn.query('SELECT Bogus FROM Task'))).errorCode).toBe('INVALID_FIELD');
  });

  it('searches phone fields across formats and rejects unescaped reserved characters', async () => {
    const f = await start();
    const alice = f.insert('Contact', { FirstName: 'Alice', LastName: 'Martin', Phone: '+33 6 12 34 56 78' });
    const bob = f.insert('Contact', { LastName: 'Bob', MobilePhone: '(415) 555-1212' });
    f.insert('Contact', { LastName: 'Other', Phone: '+33 6 99 88 77 66' });
    const conn = tokenConnection(f);
    const found = await conn.search(
      'FIND {612345678 OR 4155551212} IN PHONE FIELDS RETURNING Contact(Id, Name)',
    );
    expect(found.searchRecords.map((r) => r.Id).sort()).toEqual([alice, bob].sort());
    expect(found.searchRecords[0]).toHaveProperty('attributes.type', 'Contact');
    for (const term of ['+33612345678', '06-12', 'a:b', "o'brien", 'x)', '{nested']) {
      const error = await errorOf(conn.search(`FIND {${term}} IN PHONE FIELDS RETURNING Contact(Id)`));
      expect(error.errorCode, term).toBe('MALFORMED_SEARCH');
    }
    const escaped = await conn.search('FIND {\\+33612345678} IN PHONE FIELDS RETURNING Contact(Id)');
    expect(escaped.searchRecords.map((r) => r.Id)).toEqual([alice]);
  });
});
