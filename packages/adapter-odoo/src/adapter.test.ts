import { type AdapterError, type ContactMatch, parsePhone } from '@cti-bridge/core';
import { createTestAdapterContext, createTestAdapterState } from '@cti-bridge/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adapterFor, callRecord, failure, logContext } from './__fixtures__/helpers.js';
import { odoo } from './index.js';
import { type FakeOdoo, htmlToText, startFakeOdoo } from './testing/index.js';

function matchFor(id: number, fake: FakeOdoo): ContactMatch {
  return {
    recordType: 'res.partner',
    id: String(id),
    displayName: 'Jane',
    kind: 'person',
    url: `${fake.url}/odoo/res.partner/${id}`,
    matchedPhone: '+33612345678',
    quality: 'exact',
    ambiguous: false,
  };
}

describe('odoo() options', () => {
  it('rejects bad options with a message naming each key, never the secret', () => {
    let error: AdapterError | undefined;
    try {
      odoo({ url: 'ftp://x', database: '', login: 'bot', password: undefined, colour: 'red' } as never);
    } catch (thrown) {
      error = thrown as AdapterError;
    }
    expect(error?.kind).toBe('invalid');
    expect(error?.message).toMatch(/url: must be the http\(s\) base URL/);
    expect(error?.message).toMatch(/database: is required/);
    expect(error?.message).toMatch(/unknown key\(s\) colour/);
    expect(() => odoo({ url: 'https://a.example', database: 'd', login: 'l' })).toThrow(
      /apiKey: is required/,
    );
    let secretError: Error | undefined;
    try {
      odoo({ url: 'https://a.example', database: 'd', login: 'l', apiKey: 'SECRET-KEY-123', timeoutMs: -1 });
    } catch (thrown) {
      secretError = thrown as Error;
    }
    expect(secretError?.message).toMatch(/timeoutMs/);
    expect(secretError?.message).not.toContain('SECRET-KEY-123');
  });
});

describe('logCall', () => {
  let fake: FakeOdoo;
  beforeEach(async () => {
    fake = await startFakeOdoo({ today: () => '2026-11-25' });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('logs a done Call activity in the chatter with the call summary, and removes the activity', async () => {
    const partner = fake.seedPartner({ name: 'Jane', phone: '+33 6 12 34 56 78' });
    const adapter = adapterFor(fake, { users: { '+33184000000': 6 } });
    const call = callRecord({
      holdSeconds: 20,
      queue: { queue: 'support', waitSeconds: 45, agent: '1001', outcome: 'answered' },
    });
    const ref = await adapter.logCall(
      call,
      logContext(createTestAdapterState(), 'k-1', { match: matchFor(partner, fake) }),
    );
    expect(ref).toMatchObject({ created: true, url: `${fake.url}/odoo/res.partner/${partner}` });
    expect(fake.activities()).toEqual([]);
    const [message] = fake.messages('res.partner', partner);
    expect(String(message?.id)).toBe(ref.id);
    expect(message).toMatchObject({ mail_activity_type_id: 2, message_type: 'notification' });
    const text = htmlToText(String(message?.body));
    expect(text).toContain('Inbound call from +33 6 12 34 56 78: answered');
    expect(text).toContain('Duration: 3 min 12 s (rang 8 s, on hold 20 s)');
    expect(text).toContain('Line: Sales (+33 1 84 00 00 00)');
    expect(text).toContain('Queue: support, waited 45 s, answered by agent 1001');
    expect(text).toContain('Started: 2026-11-25 09:00 (UTC)');
    expect(text).toContain(
      'Call done (originally assigned to Marc Demo): Inbound call answered · 3 min 12 s',
    );
    expect(text).toContain('Ref: OVH call call-1');
    // the marker once: in the activity's note, which Odoo copies into the "Call done" message
    expect(text.split('[cti-bridge k-1]')).toHaveLength(2);
    const create = fake.requests().find((r) => r.call === 'create');
    expect(create?.args[0]).toEqual({
      res_id: partner,
      activity_type_id: 2,
      summary: 'Inbound call answered · 3 min 12 s',
      date_deadline: '2026-11-25',
      user_id: 6,
      note: '<p>[cti-bridge k-1]</p>',
    });
    // the model through the context (no ir.model read), and no "assigned to you" notification
    expect(create?.kwargs).toEqual({
      context: { default_res_model: 'res.partner', mail_activity_quick_update: true },
    });
    expect(fake.notifications()).toEqual([]);
    expect(fake.mails()).toEqual([]);
    const feedback = fake.requests().find((r) => r.call === 'action_feedback');
    expect(String(feedback?.kwargs?.feedback)).toMatch(/\nRef: OVH call call-1$/);
  });

  it('is idempotent on the key: a retry makes no request and no second message, even after a restart', async () => {
    const partner = fake.seedPartner({ name: 'Jane', phone: '+33 6 12 34 56 78' });
    const state = createTestAdapterState();
    const first = await adapterFor(fake).logCall(
      callRecord(),
      logContext(state, 'k-2', { match: matchFor(partner, fake) }),
    );
    fake.clearRequests();
    const restarted = adapterFor(fake);
    const again = await restarted.logCall(
      callRecord(),
      logContext(state, 'k-2', { match: matchFor(partner, fake) }),
    );
    expect(again).toEqual({ ...first, created: false });
    expect(fake.requests()).toEqual([]);
    // a lost local state: the marker in the chatter is found with one read, nothing is written
    const fresh = await restarted.logCall(
      callRecord(),
      logContext(createTestAdapterState(), 'k-2', { match: matchFor(partner, fake) }),
    );
    expect(fresh).toEqual({ ...first, created: false });
    const sent = fake.requests().filter((r) => r.kind !== 'auth');
    expect(sent.map((r) => `${r.model}.${r.call}`)).toEqual(['mail.message.search']);
    expect(fake.messages('res.partner', partner)).toHaveLength(1);
  });

  it('never posts twice when the answer to a write was lost (feedback applied, then the connection dropped)', async () => {
    const partner = fake.seedPartner({ name: 'Jane', phone: '+33 6 12 34 56 78' });
    const state = createTestAdapterState();
    const adapter = adapterFor(fake);
    const ctx = logContext(state, 'k-3', { match: matchFor(partner, fake) });
    fake.injectFault({ on: 'write', call: 'action_feedback', dropConnection: true, afterExecute: true });
    const lost = await failure(adapter.logCall(callRecord(), ctx));
    expect(lost.kind).toBe('transient');
    const retry = await adapterFor(fake).logCall(callRecord(), ctx);
    expect(retry.created).toBe(false);
    expect(fake.messages('res.partner', partner)).toHaveLength(1);
    expect(fake.activities()).toEqual([]);
  });

  it('finishes the open activity when the answer to its creation was lost', async () => {
    const partner = fake.seedPartner({ name: 'Jane', phone: '+33 6 12 34 56 78' });
    const state = createTestAdapterState();
    const ctx = logContext(state, 'k-4', { match: matchFor(partner, fake) });
    fake.injectFault({ on: 'write', call: 'create', dropConnection: true, afterExecute: true });
    await failure(adapterFor(fake).logCall(callRecord(), ctx));
    expect(fake.activities()).toHaveLength(1);
    const retry = await adapterFor(fake).logCall(callRecord(), ctx);
    expect(retry.created).toBe(true);
    expect(fake.activities()).toEqual([]);
    expect(fake.messages('res.partner', partner)).toHaveLength(1);
    expect(fake.requests().filter((r) => r.call === 'create')).toHaveLength(1);
  });

  it('logs a plain-text note with logAs: "note" (escaped by Odoo, so no HTML is sent)', async () => {
    const partner = fake.seedPartner({ name: 'Jane', phone: '+33 6 12 34 56 78' });
    const adapter = adapterFor(fake, { logAs: 'note' });
    await adapter.logCall(
      callRecord({ outcome: 'missed', talkSeconds: 0, remoteName: '<script>x</script>' }),
      logContext(createTestAdapterState(), 'k-5', { match: matchFor(partner, fake) }),
    );
    const [message] = fake.messages('res.partner', partner);
    expect(message).toMatchObject({ message_type: 'comment', subtype_id: 2 });
    expect(String(message?.body)).toContain('&lt;script&gt;');
    expect(htmlToText(String(message?.body))).toContain(
      'Missed call from <script>x</script> (+33 6 12 34 56 78)',
    );
    expect(
      fake
        .requests()
        .filter((r) => r.kind === 'write')
        .map((r) => r.call),
    ).toEqual(['message_post']);
  });

  it('finds the caller itself when no match is given, and creates one partner for an unknown caller', async () => {
    const adapter = adapterFor(fake);
    const state = createTestAdapterState();
    const call = callRecord({ remote: parsePhone('+33655555555'), remoteName: "Zoé d'Arc" });
    await adapter.logCall(call, logContext(state, 'u-1'));
    await adapter.logCall({ ...call, callId: 'call-2' }, logContext(state, 'u-2'));
    const created = fake.records('res.partner').filter((r) => r.name === "Zoé d'Arc");
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ phone: '+33 6 55 55 55 55', phone_sanitized: '+33655555555' });
    // Odoo's own "Contact created", then the two calls
    const texts = fake
      .messages('res.partner', created[0]?.id as number)
      .map((m) => htmlToText(String(m.body)));
    expect(texts).toHaveLength(3);
    expect(texts[0]).toBe('Contact created');
  });

  it('assigns the activity to the pipeline owner first, then the queue agent, then the line', async () => {
    const partner = fake.seedPartner({ name: 'Jane', phone: '+33 6 12 34 56 78' });
    const [nine, eleven, twelve] = [
      fake.seedUser('Agent Nine'),
      fake.seedUser('Default Eleven'),
      fake.seedUser('Owner Twelve'),
    ];
    const adapter = adapterFor(fake, { users: { '+33184000000': 6, agent_7: nine }, defaultUserId: eleven });
    const owners: unknown[] = [];
    const cases: Array<[string, Parameters<typeof callRecord>[0], string | undefined]> = [
      ['o-1', {}, String(twelve)],
      ['o-2', { queue: { queue: 'q', waitSeconds: 3, agent: 'agent_7' } }, undefined],
      ['o-3', {}, undefined],
      ['o-4', { line: parsePhone('+33199999999') }, undefined],
    ];
    for (const [key, overrides, ownerId] of cases) {
      fake.clearRequests();
      await adapter.logCall(
        callRecord({ callId: key, ...overrides }),
        logContext(createTestAdapterState(), key, {
          match: matchFor(partner, fake),
          ...(ownerId ? { ownerId } : {}),
        }),
      );
      owners.push(
        (fake.requests().find((r) => r.call === 'create')?.args[0] as { user_id?: number } | undefined)
          ?.user_id,
      );
    }
    expect(owners).toEqual([twelve, nine, 6, eleven]);
  });

  it('gives up with a transient error when the caller aborts', async () => {
    const adapter = adapterFor(fake);
    const controller = new AbortController();
    fake.setLatency(2_000);
    const pending = adapter.findContacts(
      { phone: parsePhone('+33612345678') },
      { ...createTestAdapterContext(), signal: controller.signal },
    );
    controller.abort();
    expect(await failure(pending)).toMatchObject({ kind: 'transient', code: 'ABORTED' });
  });

  it('refuses an unknown caller with unknownCallers: "skip"', async () => {
    const adapter = adapterFor(fake, { unknownCallers: 'skip' });
    const error = await failure(adapter.logCall(callRecord(), logContext(createTestAdapterState(), 's-1')));
    expect(error.kind).toBe('not-found');
    expect(fake.requests().filter((r) => r.kind === 'write')).toEqual([]);
  });
});

describe('a burst under faults', () => {
  it('40 calls, concurrency 8, lost answers and 503s: each call logged exactly once after retries', async () => {
    const fake = await startFakeOdoo();
    try {
      const partners = [0, 1, 2, 3].map((i) =>
        fake.seedPartner({ name: `P${i}`, phone: `+33 6 12 34 56 7${i}` }),
      );
      const adapter = adapterFor(fake);
      const state = createTestAdapterState();
      await adapter.check!(createTestAdapterContext(state));
      fake.injectFault({ on: 'write', call: 'create', dropConnection: true, afterExecute: true, times: 4 });
      fake.injectFault({
        on: 'write',
        call: 'action_feedback',
        dropConnection: true,
        afterExecute: true,
        times: 4,
      });
      fake.injectFault({ on: 'write', httpStatus: 503, times: 4 });
      fake.injectFault({
        on: 'lookup',
        call: 'search',
        fault: { code: 1, message: 'Traceback\nSerializationFailure' },
        times: 3,
      });
      const calls = Array.from({ length: 40 }, (_, i) => i);
      let attempts = 0;
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < calls.length) {
            const i = next++;
            const partner = partners[i % partners.length]!;
            const ctx = logContext(state, `burst-${i}`, { match: matchFor(partner, fake) });
            for (let attempt = 1; ; attempt++) {
              attempts++;
              try {
                await adapter.logCall(callRecord({ callId: `burst-${i}` }), ctx);
                break;
              } catch (error) {
                expect((error as AdapterError).kind).toBe('transient');
                if (attempt >= 6) throw error;
              }
            }
          }
        }),
      );
      expect(attempts).toBeGreaterThan(40);
      const messages = fake.messages();
      expect(messages).toHaveLength(40);
      for (const i of calls) {
        expect(messages.filter((m) => String(m.body).includes(`OVH call burst-${i}<`))).toHaveLength(1);
      }
      expect(fake.activities()).toEqual([]);
    } finally {
      await fake.close();
    }
  });
});

describe('createFollowUpTask', () => {
  let fake: FakeOdoo;
  beforeEach(async () => {
    fake = await startFakeOdoo();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('opens a Call activity due today for the line owner, once per key', async () => {
    const partner = fake.seedPartner({ name: 'Jane', phone: '+33 6 12 34 56 78' });
    const adapter = adapterFor(fake, { users: { '01 84 00 00 00': 6 } });
    const state = createTestAdapterState();
    const call = callRecord({ outcome: 'missed', talkSeconds: 0, remoteName: 'A & B <Ltd>' });
    const ctx = logContext(state, 'f-1', { match: matchFor(partner, fake) });
    const ref = await adapter.createFollowUpTask!(call, ctx);
    const again = await adapter.createFollowUpTask!(call, ctx);
    expect(again).toEqual({ ...ref, created: false });
    const [activity] = fake.activities('res.partner', partner);
    expect(fake.activities()).toHaveLength(1);
    expect(activity).toMatchObject({
      activity_type_id: 2,
      user_id: 6,
      date_deadline: new Date().toISOString().slice(0, 10),
      summary: 'Call back +33 6 12 34 56 78',
    });
    expect(String(activity?.note)).toContain('(A &amp; B &lt;Ltd&gt;)');
  });
});

describe('errors', () => {
  let fake: FakeOdoo;
  beforeEach(async () => {
    fake = await startFakeOdoo();
  });
  afterEach(async () => {
    await fake.close();
  });
  const phone = parsePhone('+33612345678');
  const ctx = () => createTestAdapterContext();

  it('maps a refused login (odoo-await rejects with a string) to auth, without the key', async () => {
    const adapter = odoo({
      url: fake.url,
      database: fake.database,
      login: fake.login,
      apiKey: 'wrong-key-42',
    });
    const error = await failure(adapter.findContacts({ phone }, ctx()));
    expect(error).toMatchObject({ name: 'AdapterError', kind: 'auth' });
    expect(error.message).toContain(`"${fake.login}"`);
    expect(error.message).not.toContain('wrong-key-42');
    const report = await adapter.check!(ctx());
    expect(report.ok).toBe(false);
  });

  it('maps an unknown database to invalid, naming the option', async () => {
    const adapter = odoo({ url: fake.url, database: 'nope', login: fake.login, apiKey: fake.apiKey });
    const error = await failure(adapter.findContacts({ phone }, ctx()));
    expect(error.kind).toBe('invalid');
    expect(error.message).toContain('database "nope" does not exist');
  });

  it.each([
    [{ fault: { code: 2, message: 'Please enter at least 3 characters.' } }, 'invalid'],
    [
      { fault: { code: 4, message: "You are not allowed to access 'Contact' (res.partner) records." } },
      'auth',
    ],
    [
      {
        fault: {
          code: 1,
          message: 'Traceback…\npsycopg2.errors.SerializationFailure: could not serialize access',
        },
      },
      'transient',
    ],
    [{ fault: { code: 1, message: 'Traceback…\nValueError: Invalid field res.partner.x' } }, 'invalid'],
    [{ fault: { code: 1, message: 'Traceback…\nRuntimeError: something odd' } }, 'transient'],
    [{ httpStatus: 503 }, 'transient'],
    [{ httpStatus: 502 }, 'transient'],
    [{ dropConnection: true }, 'transient'],
  ] as const)('maps %j to %s', async (fault, kind) => {
    const adapter = adapterFor(fake);
    fake.injectFault({ on: 'lookup', call: 'search_read', ...fault });
    const error = await failure(adapter.findContacts({ phone }, ctx()));
    expect(error.kind).toBe(kind);
    expect(error.message).not.toContain(fake.apiKey);
  });

  it('maps HTTP 429 to rate-limit with Retry-After', async () => {
    const adapter = adapterFor(fake);
    fake.injectFault({ on: 'lookup', call: 'search_read', httpStatus: 429, retryAfterSeconds: 7 });
    const error = await failure(adapter.findContacts({ phone }, ctx()));
    expect(error).toMatchObject({ kind: 'rate-limit', retryAfterMs: 7000, status: 429 });
  });

  it('authenticates again once after Access Denied, then succeeds', async () => {
    const adapter = adapterFor(fake);
    await adapter.findContacts({ phone }, ctx());
    fake.injectFault({ on: 'lookup', fault: { code: 3, message: 'Access Denied' } });
    await adapter.findContacts({ phone }, ctx());
    expect(fake.requests().filter((r) => r.method === 'authenticate')).toHaveLength(2);
    fake.injectFault({ on: 'lookup', fault: { code: 3, message: 'Access Denied' }, times: 2 });
    expect((await failure(adapter.findContacts({ phone }, ctx()))).kind).toBe('auth');
  });

  it('reconnects on the next call after a failed session', async () => {
    const adapter = adapterFor(fake);
    fake.injectFault({ on: 'auth', httpStatus: 503 });
    expect((await failure(adapter.findContacts({ phone }, ctx()))).kind).toBe('transient');
    expect(await adapter.findContacts({ phone }, ctx())).toEqual([]);
    expect(fake.requests().filter((r) => r.method === 'authenticate')).toHaveLength(2);
  });

  it('times out a silent server as transient', async () => {
    const adapter = adapterFor(fake, { timeoutMs: 200 });
    fake.setLatency(3_000);
    const error = await failure(adapter.findContacts({ phone }, ctx()));
    expect(error).toMatchObject({ kind: 'transient', code: 'TIMEOUT' });
  });

  it('reports an unreachable server as transient', async () => {
    const adapter = adapterFor(fake);
    await fake.close();
    const error = await failure(adapter.findContacts({ phone }, ctx()));
    expect(error.kind).toBe('transient');
    fake = await startFakeOdoo();
  });
});

describe('request budget (recorded requests)', () => {
  let fake: FakeOdoo;
  beforeEach(async () => {
    fake = await startFakeOdoo();
  });
  afterEach(async () => {
    await fake.close();
  });

  /** The state of a runner in service for a day when the call (2026-11-25 09:00Z) happens. */
  const IN_SERVICE_SINCE = String(Date.parse('2026-11-24T09:00:00Z'));

  async function ringThenEnd(extra: Record<string, unknown> = {}, since: string | null = IN_SERVICE_SINCE) {
    const partner = fake.seedPartner({ name: 'Jane', phone: '+33 6 12 34 56 78' });
    const adapter = adapterFor(fake, extra);
    const state = createTestAdapterState();
    if (since !== null) await state.set('odoo:state-since', since);
    expect(await adapter.check!(createTestAdapterContext(state))).toMatchObject({ ok: true });
    expect(fake.requests().map((r) => r.call ?? r.method)).toEqual(
      extra.logAs === 'note'
        ? ['authenticate', 'fields_get', 'read']
        : ['authenticate', 'fields_get', 'search'],
    );
    fake.clearRequests();
    // ring: the pipeline looks the caller up
    const [match] = await adapter.findContacts(
      { phone: parsePhone('0033612345678') },
      createTestAdapterContext(state),
    );
    expect(match?.id).toBe(String(partner));
    // answered: nothing to do in Odoo; end: log the call on the match
    await adapter.logCall(callRecord(), logContext(state, 'budget-1', { match: match! }));
    return fake.requests().map((r) => `${r.kind}:${r.model}.${r.call}`);
  }

  it('ring + answered + end: one lookup and two writes (default, state in service)', async () => {
    expect(await ringThenEnd()).toEqual([
      'lookup:res.partner.search_read',
      'write:mail.activity.create',
      'write:mail.activity.action_feedback',
    ]);
  });

  it('a call that may predate the state (fresh store) costs two marker reads more', async () => {
    // The state is first used now, after the call ended: a lost earlier state may have logged it,
    // or created its activity without finishing it.
    expect(await ringThenEnd({}, null)).toEqual([
      'lookup:res.partner.search_read',
      'lookup:mail.message.search',
      'lookup:mail.activity.search',
      'write:mail.activity.create',
      'write:mail.activity.action_feedback',
    ]);
  });

  it('ring + answered + end with idempotencyCheck "odoo": the marker reads on every call', async () => {
    expect(await ringThenEnd({ idempotencyCheck: 'odoo' })).toEqual([
      'lookup:res.partner.search_read',
      'lookup:mail.message.search',
      'lookup:mail.activity.search',
      'write:mail.activity.create',
      'write:mail.activity.action_feedback',
    ]);
  });

  it('ring + answered + end with idempotencyCheck "state": never the marker read', async () => {
    expect(await ringThenEnd({ idempotencyCheck: 'state' }, null)).toEqual([
      'lookup:res.partner.search_read',
      'write:mail.activity.create',
      'write:mail.activity.action_feedback',
    ]);
  });

  it('ring + end with logAs: "note": one lookup, one write', async () => {
    expect(await ringThenEnd({ logAs: 'note' })).toEqual([
      'lookup:res.partner.search_read',
      'write:res.partner.message_post',
    ]);
  });

  it('costs eight requests cold (authenticate, fields, call type, lookup, two marker reads, two writes)', async () => {
    fake.seedPartner({ name: 'Jane', phone: '+33 6 12 34 56 78' });
    const adapter = adapterFor(fake);
    const state = createTestAdapterState();
    const [match] = await adapter.findContacts(
      { phone: parsePhone('+33612345678') },
      createTestAdapterContext(state),
    );
    await adapter.logCall(callRecord(), logContext(state, 'cold-1', { match: match! }));
    expect(fake.requests()).toHaveLength(8);
  });
});
