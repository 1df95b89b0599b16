import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOdoo, startFakeOdoo } from './server.js';

// The fake is driven through the real client library, as the adapter does.
interface OdooAwait {
  uid: number;
  connect(): Promise<number>;
  execute_kw(model: string, method: string, params: unknown[]): Promise<unknown>;
  searchRead(
    model: string,
    domain: unknown,
    fields?: string[],
    opts?: Record<string, unknown>,
  ): Promise<unknown[]>;
  search(model: string, domain: unknown): Promise<number[]>;
  create(model: string, values: Record<string, unknown>): Promise<number>;
  read(model: string, id: number | number[], fields?: string[]): Promise<Array<Record<string, unknown>>>;
  getFields(model: string, attributes?: string[]): Promise<Record<string, Record<string, unknown>>>;
  action(model: string, action: string, id: number | number[]): Promise<unknown>;
}
const Odoo = createRequire(import.meta.url)('odoo-await') as new (options: {
  baseUrl: string;
  db: string;
  username: string;
  password: string;
}) => OdooAwait;

function client(fake: FakeOdoo, overrides: { db?: string; password?: string } = {}): OdooAwait {
  return new Odoo({
    baseUrl: fake.url,
    db: overrides.db ?? fake.database,
    username: fake.login,
    password: overrides.password ?? fake.apiKey,
  });
}

async function rejection(
  promise: Promise<unknown>,
): Promise<{ faultCode?: unknown; message?: string } & object> {
  try {
    await promise;
  } catch (error) {
    return error as { faultCode?: unknown; message?: string };
  }
  throw new Error('expected a rejection');
}

describe('fake Odoo through odoo-await', () => {
  let fake: FakeOdoo;
  let odoo: OdooAwait;
  beforeEach(async () => {
    fake = await startFakeOdoo({ today: () => '2026-11-25' });
    odoo = client(fake);
    await odoo.connect();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('answers version on /xmlrpc/2/common like Odoo 18', async () => {
    const xmlrpc = createRequire(import.meta.url)('xmlrpc') as {
      createClient(o: { url: string }): {
        methodCall(m: string, p: unknown[], cb: (e: unknown, v: unknown) => void): void;
      };
    };
    const common = xmlrpc.createClient({ url: `${fake.url}/xmlrpc/2/common` });
    const version = await new Promise((resolve, reject) =>
      common.methodCall('version', [], (error, value) => (error ? reject(error) : resolve(value))),
    );
    expect(version).toMatchObject({ server_serie: '18.0', server_version_info: [18, 0, 0, 'final', 0, ''] });
  });

  it('authenticates with the API key, and answers false (no fault) to a bad one', async () => {
    expect(odoo.uid).toBe(2);
    const bad = await rejection(client(fake, { password: 'wrong' }).connect());
    expect(bad).toBe('Error connecting to database. This is probably due to invalid credentials.');
  });

  it('answers an unknown database with fault 1 and a psycopg2 traceback', async () => {
    const error = await rejection(client(fake, { db: 'nope' }).connect());
    expect(error.faultCode).toBe(1);
    expect(error.message).toMatch(/Traceback[\s\S]*database "nope" does not exist/);
  });

  it('answers Access Denied (fault 3) to execute_kw with a wrong key', async () => {
    const intruder = client(fake, { password: 'wrong' });
    intruder.uid = 2;
    const error = await rejection(intruder.search('res.partner', []));
    expect(error).toMatchObject({ faultCode: 3, faultString: 'Access Denied' });
  });

  it('reports the phone fields of res.partner, and hides them when configured away', async () => {
    const fields = await odoo.getFields('res.partner', ['type', 'store']);
    expect(fields.phone_mobile_search).toEqual({ type: 'char', store: false });
    expect(fields.phone_sanitized).toEqual({ type: 'char', store: true });
    expect(fields.mobile).toBeDefined();
    const bare = await startFakeOdoo({ phoneMobileSearch: false, mobileField: false });
    try {
      const other = client(bare);
      await other.connect();
      const bareFields = await other.getFields('res.partner', ['type']);
      expect(Object.keys(bareFields)).not.toContain('phone_mobile_search');
      expect(Object.keys(bareFields)).not.toContain('phone_sanitized');
      expect(Object.keys(bareFields)).not.toContain('mobile');
      const error = await rejection(
        other.searchRead('res.partner', [['phone_mobile_search', 'ilike', '912312312']]),
      );
      expect(error.faultCode).toBe(1);
      expect(error.message).toContain('ValueError: Invalid field res.partner.phone_mobile_search in leaf');
    } finally {
      await bare.close();
    }
  });

  it('stores a phone as sent and computes phone_sanitized in E.164', async () => {
    const id = await odoo.create('res.partner', { name: 'RPC Test', phone: '+33 9 12 31 23 12' });
    const [row] = await odoo.read('res.partner', id, ['name', 'phone', 'mobile', 'phone_sanitized']);
    expect(row).toEqual({
      id,
      name: 'RPC Test',
      phone: '+33 9 12 31 23 12',
      mobile: false,
      phone_sanitized: '+33912312312',
    });
  });

  it('matches phone searches as the real Odoo 18 did', async () => {
    const id = await odoo.create('res.partner', { name: 'RPC Test', phone: '+33 9 12 31 23 12' });
    const found = async (domain: unknown) =>
      ((await odoo.searchRead('res.partner', domain, ['id'])) as Array<{ id: number }>).map((r) => r.id);
    // plain substring on the stored text
    expect(await found([['phone', 'ilike', '+33 9 12 31 23 12']])).toEqual([id]);
    expect(await found([['phone', 'ilike', '9 12 31 23 12']])).toEqual([id]);
    expect(await found([['phone', 'ilike', '0912312312']])).toEqual([]);
    expect(await found([['phone', 'ilike', '+33912312312']])).toEqual([]);
    expect(await found([['phone_sanitized', '=', '+33912312312']])).toEqual([id]);
    expect(await found([['phone_sanitized', 'ilike', '912312312']])).toEqual([id]);
    // phone_mobile_search: separators stripped, + and 00 alike, national 0 not translated
    expect(await found([['phone_mobile_search', 'ilike', '+33912312312']])).toEqual([id]);
    expect(await found([['phone_mobile_search', 'ilike', '+33 9 12 31 23 12']])).toEqual([id]);
    expect(await found([['phone_mobile_search', 'ilike', '0033912312312']])).toEqual([id]);
    expect(await found([['phone_mobile_search', 'ilike', '912312312']])).toEqual([id]);
    expect(await found([['phone_mobile_search', 'ilike', '0912312312']])).toEqual([]);
    expect(await found([['phone_mobile_search', '=', '+33912312312']])).toEqual([id]);
    expect(await found([['phone_mobile_search', '=', '912312312']])).toEqual([]);
    expect(
      await found(['|', ['phone', 'ilike', '9 12 31 23 12'], ['mobile', 'ilike', '9 12 31 23 12']]),
    ).toEqual([id]);
    const short = await rejection(
      odoo.searchRead('res.partner', [['phone_mobile_search', 'ilike', '12']], ['id']),
    );
    expect(short).toMatchObject({
      faultCode: 2,
      faultString: 'Please enter at least 3 characters when searching a Phone/Mobile number.',
    });
  });

  it('evaluates =, ilike, in, |, & and ! and leaves % and _ as LIKE wildcards, like Odoo', async () => {
    const a = fake.seedPartner({ name: 'Alpha', phone: '111', isCompany: true });
    const b = fake.seedPartner({ name: 'Beta', phone: '222' });
    const c = fake.seedPartner({ name: 'Gamma', phone: '333' });
    const ids = async (domain: unknown) =>
      (await odoo.search('res.partner', domain)).filter((id) => id >= 100);
    expect(await ids([['name', '=', 'Beta']])).toEqual([b]);
    expect(await ids([['id', 'in', [a, c]]])).toEqual([a, c]);
    expect(await ids(['|', ['name', '=', 'Alpha'], ['phone', '=', '333']])).toEqual([a, c]);
    expect(await ids(['&', ['is_company', '=', false], ['name', 'ilike', 'a']])).toEqual([b, c]);
    expect(await ids(['!', ['name', '=', 'Beta']])).toEqual([a, c]);
    expect(await ids([['name', 'ilike', 'g%a']])).toEqual([c]);
    expect(await ids([['name', 'ilike', 'b_ta']])).toEqual([b]);
    const bad = await rejection(odoo.searchRead('res.partner', [['no_such_field', '=', 'x']], ['id']));
    expect(bad.faultCode).toBe(1);
    expect(bad.message).toContain(
      "ValueError: Invalid field res.partner.no_such_field in leaf ('no_such_field', '=', 'x')",
    );
  });

  it('escapes a message_post body sent over RPC, and posts an empty message when kwargs are dropped', async () => {
    const id = fake.seedPartner({ name: 'Chatter', phone: '0612345678' });
    const note = await odoo.execute_kw('res.partner', 'message_post', [
      [[id]],
      { body: 'Hello from odoo-await', message_type: 'comment', subtype_xmlid: 'mail.mt_note' },
    ]);
    const html = await odoo.execute_kw('res.partner', 'message_post', [
      [[id]],
      { body: '<p>plain kwargs</p>' },
    ]);
    // biome-ignore lint/suspicious/noExplicitAny: odoo-await forwards extra arguments nowhere
    const dropped = await (odoo.execute_kw as (...args: any[]) => Promise<unknown>)(
      'res.partner',
      'message_post',
      [[id]],
      { body: 'lost' },
    );
    const messages = fake.messages('res.partner', id);
    expect(messages.find((m) => m.id === note)).toMatchObject({
      body: '<p>Hello from odoo-await</p>',
      message_type: 'comment',
      subtype_id: 2,
    });
    expect(messages.find((m) => m.id === html)).toMatchObject({
      body: '<p>&lt;p&gt;plain kwargs&lt;/p&gt;</p>',
      message_type: 'notification',
    });
    expect(messages.find((m) => m.id === dropped)?.body).toBe('');
  });

  it('requires res_model_id on mail.activity, and action_feedback posts to the chatter and deletes it', async () => {
    const id = fake.seedPartner({ name: 'Activity', phone: '0612345678' });
    const missing = await rejection(
      odoo.create('mail.activity', {
        res_model: 'res.partner',
        res_id: id,
        activity_type_id: 2,
        summary: 'x',
      }),
    );
    expect(missing.faultCode).toBe(2);
    expect(missing.message).toContain(
      'Model: Activity (mail.activity)\nField: Document Model (res_model_id)',
    );
    expect(
      await odoo.execute_kw('ir.model.data', 'check_object_reference', [['mail', 'mail_activity_data_call']]),
    ).toEqual(['mail.activity.type', 2]);
    const [modelId] = await odoo.search('ir.model', [['model', '=', 'res.partner']]);
    expect(modelId).toBe(87);
    const activity = await odoo.create('mail.activity', {
      res_model_id: modelId,
      res_id: id,
      activity_type_id: 2,
      summary: 'Call back',
      date_deadline: '2026-11-25',
      user_id: 2,
    });
    const [read] = await odoo.read('mail.activity', activity, ['res_model', 'state', 'activity_type_id']);
    expect(read).toMatchObject({ res_model: 'res.partner', state: 'today', activity_type_id: [2, 'Call'] });
    const messageId = await odoo.execute_kw('mail.activity', 'action_feedback', [
      [[activity]],
      { feedback: 'Called\nall good' },
    ]);
    expect(fake.activities()).toEqual([]);
    const [message] = fake.messages('res.partner', id);
    expect(message).toMatchObject({
      id: messageId,
      message_type: 'notification',
      subtype_id: 3,
      mail_activity_type_id: 2,
    });
    expect(String(message?.body)).toContain('Call done: <span>Call back</span>');
    expect(String(message?.body)).toContain('Called<br>all good');
  });

  it('fails activity_schedule on marshalling after committing the activity, as observed', async () => {
    const id = fake.seedPartner({ name: 'Helper', phone: '0612345678' });
    const error = await rejection(
      odoo.execute_kw('res.partner', 'activity_schedule', [
        [[id]],
        { act_type_xmlid: 'mail.mail_activity_data_call' },
      ]),
    );
    expect(error.faultCode).toBe(1);
    expect(error.message).toContain("TypeError: cannot marshal <class 'odoo.api.mail.activity'> objects");
    expect(fake.activities('res.partner', id)).toHaveLength(1);
  });

  it('answers private methods with fault 4 and unknown models with fault 2', async () => {
    const id = fake.seedPartner({ name: 'Private', phone: '0612345678' });
    expect(await rejection(odoo.execute_kw('res.partner', '_phone_format', [[[id]], {}]))).toMatchObject({
      faultCode: 4,
      faultString: "Private methods (such as 'res.partner._phone_format') cannot be called remotely.",
    });
    expect(await rejection(odoo.search('nope.model', []))).toMatchObject({
      faultCode: 2,
      faultString: "Object nope.model doesn't exist",
    });
  });

  it('injects HTTP statuses, dropped connections and faults, and records requests without secrets', async () => {
    fake.clearRequests();
    fake.injectFault({ on: 'lookup', httpStatus: 503, retryAfterSeconds: 7 });
    const unavailable = (await rejection(odoo.search('res.partner', []))) as {
      res?: { statusCode?: number; headers?: Record<string, string> };
    };
    expect(unavailable.res?.statusCode).toBe(503);
    expect(unavailable.res?.headers?.['retry-after']).toBe('7');
    fake.injectFault({ on: 'write', dropConnection: true });
    expect(await rejection(odoo.create('res.partner', { name: 'Lost' }))).toMatchObject({
      code: 'ECONNRESET',
    });
    expect(fake.records('res.partner').some((r) => r.name === 'Lost')).toBe(false);
    fake.injectFault({ on: 'write', call: 'create', dropConnection: true, afterExecute: true });
    await rejection(odoo.create('res.partner', { name: 'Applied' }));
    expect(fake.records('res.partner').some((r) => r.name === 'Applied')).toBe(true);
    fake.injectFault({ fault: { code: 2, message: 'Nope' }, times: 2 });
    expect(await rejection(odoo.search('res.partner', []))).toMatchObject({ faultCode: 2 });
    expect(await rejection(odoo.search('res.partner', []))).toMatchObject({ faultCode: 2 });
    expect(Array.isArray(await odoo.search('res.partner', []))).toBe(true);
    const requests = fake.requests();
    expect(requests.map((r) => `${r.kind}:${r.call}`)).toEqual([
      'lookup:search',
      'write:create',
      'write:create',
      'lookup:search',
      'lookup:search',
      'lookup:search',
    ]);
    expect(JSON.stringify(requests)).not.toContain(fake.apiKey);
  });
});
