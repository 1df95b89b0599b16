import { type CrmAdapter, parsePhone } from '@cti-bridge/core';
import { createTestAdapterContext, sampleCallRecord } from '@cti-bridge/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { salesforce } from './index.js';
import { escapeSosl, soqlString } from './lookup.js';
import { parseSearchTerms, parseSoql } from './testing/fake/query-language.js';
import { type FakeSalesforce, startFakeSalesforce } from './testing/index.js';

// Caller ids, names and call ids come from the phone network: they must never break a SOSL/SOQL
// query (a failed lookup = no screen pop) nor widen it (a wrong match, a skipped Task).

let fake: FakeSalesforce | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setup(externalIdField?: string): Promise<{ f: FakeSalesforce; adapter: CrmAdapter }> {
  fake = await startFakeSalesforce(externalIdField ? { taskExternalIdField: externalIdField } : {});
  return {
    f: fake,
    adapter: salesforce({
      auth: { type: 'token', instanceUrl: fake.url, accessToken: fake.credentials.accessToken },
      ...(externalIdField ? { task: { externalIdField } } : {}),
    }),
  };
}

const ctx = () => createTestAdapterContext();

const NASTY = [
  "o'brien",
  'a} OR {b',
  '* OR *',
  '"quoted"',
  '\\',
  'x\\',
  '+33 (6) 12-34:56!78',
  "' OR Name != '",
  '& | ! ( ) { } [ ] ^ " ~ * ? : \\ \' + -',
  'line\nbreak\ttab',
];

describe('escaping', () => {
  it('escapeSosl: the fake (strict like Salesforce) reads back exactly the original term', () => {
    for (const text of NASTY) {
      // Salesforce wants terms of two characters or more.
      const words = text.split(/\s+/).filter((w) => w.length >= 2);
      if (words.length === 0) continue;
      const parsed = parseSearchTerms(escapeSosl(words.join(' ')));
      // Each word is one literal term: no operator, wildcard or negation sneaked in.
      expect(
        parsed.flat().map((t) => t.text),
        text,
      ).toEqual(words);
      expect(
        parsed.flat().every((t) => !t.prefix && !t.negate),
        text,
      ).toBe(true);
      expect(parsed, text).toHaveLength(1);
    }
  });

  it('soqlString: one literal, whatever the value holds', () => {
    for (const text of NASTY) {
      const query = parseSoql(`SELECT Id FROM Task WHERE CallObject = ${soqlString(text)}`);
      expect(query.where, JSON.stringify(text)).toEqual({
        op: 'cmp',
        field: 'CallObject',
        cmp: '=',
        value: text,
      });
    }
  });
});

describe('injection through the adapter', () => {
  it('raw caller ids with reserved characters never break nor widen the lookup', async () => {
    const { f, adapter } = await setup();
    const alice = f.insert('Contact', { LastName: 'Alice', Phone: '+33 6 12 34 56 78' });
    f.insert('Contact', { LastName: 'Bob', Phone: '+33 6 99 88 77 66' });
    for (const raw of ['0612345678} OR {*', '"+33612345678"', '+33 6 12 34 56 78 OR *']) {
      const matches = await adapter.findContacts({ phone: parsePhone(raw) }, ctx());
      expect(
        matches.map((m) => m.id),
        raw,
      ).toEqual([alice]);
    }
    expect(f.requests()).toHaveLength(3);
    for (const request of f.requests()) {
      expect(request.status).toBe(200);
      // digit-only terms, then the spaced spellings as phrases (digits, spaces, escaped + ( ) -)
      expect(request.q).toMatch(
        /^FIND \{[0-9]+( OR [0-9]+)*( OR "[0-9 ()\\+-]+")*\} IN PHONE FIELDS RETURNING /,
      );
    }
    // Unreadable caller ids cannot match after the post-filter: no request at all.
    for (const raw of ['*', '} OR {*', '\\', "' OR Name != '", '+33 (6) 12-34:56*78', "06'12'34'56'78"]) {
      expect(await adapter.findContacts({ phone: parsePhone(raw) }, ctx()), raw).toEqual([]);
    }
    expect(f.requests()).toHaveLength(3);
  });

  it('a call id built to widen the CallObject query does not hide a new call behind an old Task', async () => {
    const { f, adapter } = await setup();
    await adapter.logCall(sampleCallRecord({ callId: 'old-call' }), { ...ctx(), idempotencyKey: 'old' });
    const evil = sampleCallRecord({ callId: "x' OR CallObject != 'y" });
    const ref = await adapter.logCall(evil, { ...ctx(), idempotencyKey: 'evil' });
    expect(ref.created).toBe(true);
    expect(f.records('Task').map((t) => t.CallObject)).toEqual(['old-call', "x' OR CallObject != 'y"]);
    expect((await adapter.logCall(evil, { ...ctx(), idempotencyKey: 'evil' })).created).toBe(false);
    expect(f.records('Task')).toHaveLength(2);
  });

  it('idempotency keys with path characters stay one Task per key', async () => {
    const { f, adapter } = await setup('Call_Id__c');
    for (const key of ['a/b', 'a?b', 'a#b', 'a%2Fb', '../Task/x', "k'1"]) {
      const first = await adapter.logCall(sampleCallRecord({ callId: key }), {
        ...ctx(),
        idempotencyKey: key,
      });
      const again = await adapter.logCall(sampleCallRecord({ callId: key }), {
        ...ctx(),
        idempotencyKey: key,
      });
      expect(again, key).toMatchObject({ id: first.id, created: false });
    }
    expect(f.records('Task').map((t) => t.Call_Id__c)).toEqual([
      'a/b',
      'a?b',
      'a#b',
      'a%2Fb',
      '../Task/x',
      "k'1",
    ]);
  });

  it('names with reserved characters are stored verbatim, and the Lead is found again', async () => {
    const { f, adapter } = await setup();
    const name = 'D\'Arcy {Jr} \\ "The" *Boss* O\'Neil';
    const remoteName = "Zoé & Co (SARL) 'x'";
    const lead = await adapter.createContact?.(
      { phone: parsePhone('+33 6 11 22 33 44'), name },
      { ...ctx(), idempotencyKey: 'lead' },
    );
    const again = await adapter.createContact?.(
      { phone: parsePhone('0611223344'), name },
      { ...ctx(), idempotencyKey: 'lead' },
    );
    expect(again?.id).toBe(lead?.id);
    expect(f.records('Lead')).toHaveLength(1);
    expect(f.records('Lead')[0]?.Name).toBe(name);
    await adapter.logCall(sampleCallRecord({ callId: 'named', remoteName }), {
      ...ctx(),
      idempotencyKey: 'named',
    });
    expect(f.records('Task')[0]?.Subject).toContain(remoteName);
  });
});
