import { type AdapterContext, parsePhone } from '@cti-bridge/core';
import { createTestAdapterContext, createTestAdapterState } from '@cti-bridge/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { odoo } from './index.js';
import { type FakeOdoo, type FakeOdooOptions, startFakeOdoo } from './testing/index.js';

const ctx = (): AdapterContext => createTestAdapterContext();
const target = parsePhone('+33612345678');

function adapterFor(fake: FakeOdoo, extra: Record<string, unknown> = {}) {
  return odoo({ url: fake.url, database: fake.database, login: fake.login, apiKey: fake.apiKey, ...extra });
}

const variants: Array<[string, FakeOdooOptions]> = [
  ['Odoo 18.0 with phone_mobile_search', {}],
  ['Odoo without phone_validation (text search)', { phoneMobileSearch: false }],
  ['Odoo 18.2+ without mobile', { mobileField: false }],
  ['Odoo 18.2+ without mobile nor phone_mobile_search', { mobileField: false, phoneMobileSearch: false }],
];

describe.each(variants)('findContacts on %s', (_label, fakeOptions) => {
  let fake: FakeOdoo;
  beforeEach(async () => {
    fake = await startFakeOdoo(fakeOptions);
  });
  afterEach(async () => {
    await fake.close();
  });

  it('finds the number in every notation, persons before the company, and nothing else', async () => {
    const company = fake.seedPartner({ name: 'Acme SA', phone: '0033 6 12 34 56 78', isCompany: true });
    const spaced = fake.seedPartner({
      name: 'Jane Spaced',
      phone: '+33 6 12 34 56 78',
      userId: 6,
      parentId: company,
    });
    const dotted = fake.seedPartner({
      name: 'John Dotted',
      ...(fakeOptions.mobileField === false ? { phone: '06.12.34.56.78' } : { mobile: '06.12.34.56.78' }),
    });
    const dashed = fake.seedPartner({ name: 'Jo Dashed', phone: '06-12-34-56-78' });
    fake.seedPartner({ name: 'Neighbour', phone: '+33 6 12 34 56 79' });
    fake.seedPartner({ name: 'London', phone: '+44 20 7946 0958' });
    fake.seedPartner({ name: 'Longer', phone: '+1 612 345 6789' });
    const adapter = adapterFor(fake);
    const matches = await adapter.findContacts({ phone: target }, ctx());
    expect(matches.map((m) => m.id).sort()).toEqual([company, spaced, dotted, dashed].map(String).sort());
    expect(matches.at(-1)).toMatchObject({ id: String(company), kind: 'company' });
    expect(
      matches.slice(0, 3).every((m) => m.kind === 'person' && m.quality === 'exact' && m.ambiguous),
    ).toBe(true);
    const jane = matches.find((m) => m.id === String(spaced));
    expect(jane).toMatchObject({
      recordType: 'res.partner',
      displayName: 'Jane Spaced',
      companyName: 'Acme SA',
      owner: { id: '6', name: 'Marc Demo' },
      matchedPhone: '+33 6 12 34 56 78',
      url: `${fake.url}/odoo/res.partner/${spaced}`,
    });
    // one search request, with fields the server has
    const searches = fake.requests().filter((r) => r.call === 'search_read');
    expect(searches).toHaveLength(1);
    const fields = searches[0]?.kwargs?.fields as string[];
    expect(fields.includes('mobile')).toBe(fakeOptions.mobileField !== false);
  });
});

describe('findContacts', () => {
  let fake: FakeOdoo;
  beforeEach(async () => {
    fake = await startFakeOdoo();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('searches phone_mobile_search on the national significant number (a national 0… would miss)', async () => {
    const stored = fake.seedPartner({ name: 'National', phone: '0612345678' });
    const adapter = adapterFor(fake);
    const [match] = await adapter.findContacts({ phone: target }, ctx());
    expect(match?.id).toBe(String(stored));
    const search = fake.requests().find((r) => r.call === 'search_read');
    expect(search?.args).toEqual([[['phone_mobile_search', 'ilike', '612345678']]]);
    expect(search?.kwargs).toMatchObject({ offset: 0, context: {} });
  });

  it('detects the fields once (fields_get) and authenticates once', async () => {
    const adapter = adapterFor(fake);
    await adapter.findContacts({ phone: target }, ctx());
    await adapter.findContacts({ phone: parsePhone('+33698765432') }, ctx());
    const calls = fake.requests().map((r) => r.call ?? r.method);
    expect(calls).toEqual(['authenticate', 'fields_get', 'search_read', 'search_read']);
  });

  it('builds pre-17.2 record URLs when told the version', async () => {
    const id = fake.seedPartner({ name: 'Old', phone: '+33612345678' });
    const adapter = adapterFor(fake, { version: '16.0' });
    const [match] = await adapter.findContacts({ phone: target }, ctx());
    expect(match?.url).toBe(`${fake.url}/web#id=${id}&model=res.partner&view_type=form`);
  });

  it('keeps basic-auth credentials of the URL for the requests, never in record links', async () => {
    const id = fake.seedPartner({ name: 'Proxied', phone: '+33612345678' });
    const adapter = odoo({
      url: fake.url.replace('http://', 'http://proxy:pr0xy-pass@'),
      database: fake.database,
      login: fake.login,
      apiKey: fake.apiKey,
    });
    const [match] = await adapter.findContacts({ phone: target }, ctx());
    expect(match?.url).toBe(`${fake.url}/odoo/res.partner/${id}`);
  });

  it('looks in crm.lead too when configured, partners first', async () => {
    const lead = fake.seedLead({
      name: 'Website lead',
      contactName: 'Lea Lead',
      partnerName: 'Lead Co',
      phone: '06 12 34 56 78',
    });
    const partner = fake.seedPartner({ name: 'Pat Partner', phone: '+33612345678' });
    const adapter = adapterFor(fake, { lookup: ['res.partner', 'crm.lead'] });
    const matches = await adapter.findContacts({ phone: target }, ctx());
    expect(matches.map((m) => [m.recordType, m.id])).toEqual([
      ['res.partner', String(partner)],
      ['crm.lead', String(lead)],
    ]);
    expect(matches[1]).toMatchObject({ displayName: 'Lea Lead', companyName: 'Lead Co', kind: 'person' });
    expect(matches[1]?.url).toBe(`${fake.url}/odoo/crm.lead/${lead}`);
  });

  it('sends nothing for withheld or unreadable numbers', async () => {
    const adapter = adapterFor(fake);
    expect(await adapter.findContacts({ phone: parsePhone('anonymous') }, ctx())).toEqual([]);
    expect(await adapter.findContacts({ phone: parsePhone('12') }, ctx())).toEqual([]);
    expect(fake.requests()).toEqual([]);
  });
});

describe('domain injection', () => {
  let fake: FakeOdoo;
  beforeEach(async () => {
    fake = await startFakeOdoo({ phoneMobileSearch: false });
  });
  afterEach(async () => {
    await fake.close();
  });

  const hostile = [
    "' OR 1=1 --",
    '%',
    '%%%',
    '_',
    '|',
    "'|', ('id', '!=', 0)",
    '0033%',
    '06 12 %',
    '+33 6 12 34 56 7_',
    '"); DROP TABLE res_partner; --',
  ];

  it.each(hostile)('a caller id %j never widens a search', async (raw) => {
    fake.seedPartner({ name: 'Everyone', phone: '+33 6 12 34 56 78' });
    fake.seedPartner({ name: 'Somebody', phone: '0699999999' });
    const adapter = adapterFor(fake);
    const matches = await adapter.findContacts({ phone: parsePhone(raw) }, ctx());
    expect(matches).toEqual([]);
    for (const request of fake.requests().filter((r) => r.call === 'search_read')) {
      for (const leaf of (request.args[0] as unknown[]).filter(Array.isArray)) {
        expect(String(leaf[2])).toMatch(/^\+?[\d .()-]+$/);
      }
    }
  });

  it('names with quotes, % and | are stored verbatim and never become search terms', async () => {
    const adapter = adapterFor(fake);
    const state = createTestAdapterState();
    const name = `O'Brien | 100% "VIP" <b>`;
    const created = await adapter.createContact!(
      { phone: parsePhone('+33611111111'), name },
      { ...createTestAdapterContext(state), idempotencyKey: 'contact-1' },
    );
    expect(fake.records('res.partner').find((r) => String(r.id) === created.id)?.name).toBe(name);
    fake.seedPartner({ name: 'Other', phone: '+33 6 22 22 22 22' });
    const matches = await adapter.findContacts({ phone: parsePhone('+33622222222') }, ctx());
    expect(matches.map((m) => m.displayName)).toEqual(['Other']);
    const leaves = fake
      .requests()
      .filter((r) => r.call === 'search_read')
      .flatMap((r) => (r.args[0] as unknown[]).filter(Array.isArray));
    expect(leaves.some((leaf) => String(leaf[2]).includes('Brien'))).toBe(false);
  });
});
