import {
  type AdapterState,
  createConnector,
  createMemoryStore,
  normalizeEvent,
  type OvhEvent,
  parsePhone,
  silentLogger,
} from '@cti-bridge/core';
import { createScenario, createTestAdapterContext, createTestAdapterState } from '@cti-bridge/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adapterFor, callRecord, failure, logContext } from './__fixtures__/helpers.js';
import { type FakeOdoo, type FakeOdooOptions, htmlToText, startFakeOdoo } from './testing/index.js';

// What a real Odoo 18 does with the README's setup (as observed on a real server on 2026-12-05, see
// the adapter README): a bridge user without administration rights, followers that race, notifications.

const match = (fake: FakeOdoo, id: number) => ({
  recordType: 'res.partner',
  id: String(id),
  displayName: 'Jane',
  kind: 'person' as const,
  url: `${fake.url}/odoo/res.partner/${id}`,
  matchedPhone: '+33612345678',
  quality: 'exact' as const,
  ambiguous: false,
});

describe('a bridge user without administration rights', () => {
  let fake: FakeOdoo;
  beforeEach(async () => {
    fake = await startFakeOdoo({ apiUser: 'internal', today: () => '2026-11-25' });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('passes check, logs calls and opens follow-ups without reading ir.model or ir.model.data', async () => {
    const partner = fake.seedPartner({ name: 'Jane', phone: '+33 6 12 34 56 78' });
    const adapter = adapterFor(fake);
    const state = createTestAdapterState();
    expect(await adapter.check!(createTestAdapterContext(state))).toMatchObject({ ok: true });
    await adapter.logCall(callRecord(), logContext(state, 'na-1', { match: match(fake, partner) }));
    await adapter.createFollowUpTask!(
      callRecord({ callId: 'call-2', outcome: 'missed', talkSeconds: 0 }),
      logContext(state, 'na-2', { match: match(fake, partner) }),
    );
    expect(fake.requests().filter((r) => r.model?.startsWith('ir.'))).toEqual([]);
    expect(fake.messages('res.partner', partner).map((m) => htmlToText(String(m.body)))).toEqual([
      expect.stringContaining('Call done: Inbound call answered'),
    ]);
    expect(fake.activities('res.partner', partner)).toHaveLength(1);
  });

  it('check names the missing right in Odoo words, with the group that grants it', async () => {
    fake.injectFault({
      on: 'lookup',
      call: 'fields_get',
      fault: {
        code: 4,
        message:
          "You are not allowed to access 'Contact' (res.partner) records.\n\nThis operation is allowed for the following groups:\n\t- Extra Rights/Contact Creation\n\t- User types/Internal User\n\nContact your administrator to request access if necessary.",
      },
    });
    const report = await adapterFor(fake).check!(createTestAdapterContext());
    expect(report.ok).toBe(false);
    expect(report.message).toContain("You are not allowed to access 'Contact' (res.partner) records.");
    expect(report.message).toContain('Extra Rights/Contact Creation, User types/Internal User');
  });

  it('check verifies every mapped user (options and ownerMap): exists, active, internal', async () => {
    const archived = fake.seedUser('Old Agent', 'old@acme.com', { active: false });
    const portal = fake.seedUser('Customer', 'customer@acme.com', { share: true });
    const adapter = adapterFor(fake, { users: { '0033184000000': 'demo', agent_1: archived } });
    const report = await adapter.check!({
      ...createTestAdapterContext(),
      ownerIds: ['customer@acme.com', '999', 'demo'],
    });
    expect(report.ok).toBe(false);
    expect(report.message).toContain(`The Odoo user "${archived}" (users["agent_1"]) is archived`);
    expect(report.message).toContain('The Odoo user "customer@acme.com" (ownerMap) is a portal user');
    expect(report.message).toContain('Odoo has no user "999" (ownerMap)');
    expect(report.message).not.toContain('"demo"');
    expect(portal).toBeGreaterThan(0);
  });

  it('check says what to set when logAs "note" meets a bridge user without an e-mail address', async () => {
    await fake.close();
    fake = await startFakeOdoo({ apiUser: 'internal', apiUserEmail: false });
    const partner = fake.seedPartner({ name: 'Jane', phone: '+33 6 12 34 56 78' });
    const adapter = adapterFor(fake, { logAs: 'note' });
    const report = await adapter.check!(createTestAdapterContext());
    expect(report).toMatchObject({ ok: false });
    expect(report.message).toContain('has no e-mail address');
    expect(report.message).toContain('Settings › Users › bridge › Email');
    // and what Odoo answers to the write itself
    const error = await failure(
      adapter.logCall(
        callRecord(),
        logContext(createTestAdapterState(), 'nm-1', { match: match(fake, partner) }),
      ),
    );
    expect(error.message).toContain("please configure the sender's email address");
  });

  it('an owner given by login is resolved; an unknown one names the user and the key, not a foreign key', async () => {
    const partner = fake.seedPartner({ name: 'Jane', phone: '+33 6 12 34 56 78' });
    const adapter = adapterFor(fake);
    const state = createTestAdapterState();
    await adapter.logCall(
      callRecord(),
      logContext(state, 'own-1', { match: match(fake, partner), ownerId: 'demo' }),
    );
    const create = fake.requests().find((r) => r.call === 'create' && r.model === 'mail.activity');
    expect(create?.args[0]).toMatchObject({ user_id: 6 });
    const unknown = await failure(
      adapter.logCall(
        callRecord({ callId: 'call-9' }),
        logContext(state, 'own-2', { match: match(fake, partner), ownerId: 'nobody@acme.com' }),
      ),
    );
    expect(unknown.kind).toBe('invalid');
    expect(unknown.message).toContain('Odoo has no user "nobody@acme.com" (the token\'s ownerMap)');
    expect(unknown.message).not.toContain('mandatory field');
    const byId = await failure(
      adapterFor(fake, { defaultUserId: 999 }).logCall(
        callRecord({ callId: 'call-10' }),
        logContext(state, 'own-3', { match: match(fake, partner) }),
      ),
    );
    expect(byId.message).toContain('Odoo has no user "999" (the odoo() defaultUserId option)');
  });
});

describe('the fake reproduces what real Odoo 18 refuses', () => {
  let fake: FakeOdoo;
  afterEach(async () => {
    await fake.close();
  });

  async function raw(options: FakeOdooOptions, model: string, method: string, args: unknown[], kw = {}) {
    fake = await startFakeOdoo(options);
    const { OdooRpc } = await import('./client.js');
    const rpc = new OdooRpc({
      url: fake.url,
      database: fake.database,
      login: fake.login,
      secret: fake.apiKey,
      timeoutMs: 5_000,
    });
    return failure(rpc.call(model, method, args, kw, { logger: silentLogger }));
  }

  it('refuses ir.model to an internal user with code 4, the group named', async () => {
    const error = await raw({ apiUser: 'internal' }, 'ir.model', 'search', [[['model', '=', 'res.partner']]]);
    expect(error).toMatchObject({ kind: 'auth', code: 'FAULT_4' });
    expect(error.message).toContain("You are not allowed to access 'Models' (ir.model) records.");
    expect(error.message).toContain('Administration/Access Rights');
  });

  it('refuses ir.model.data the same way', async () => {
    const error = await raw({ apiUser: 'internal' }, 'ir.model.data', 'check_object_reference', [
      'mail',
      'mail_activity_data_call',
    ]);
    expect(error).toMatchObject({ kind: 'auth', code: 'FAULT_4' });
  });

  it('answers code 1 for an unknown external id (admin)', async () => {
    const error = await raw({}, 'ir.model.data', 'check_object_reference', ['mail', 'nope']);
    expect(error.code).toBe('FAULT_1');
    expect(error.message).toContain('External ID not found in the system: mail.nope');
  });

  it('answers code 2 with the generic foreign-key text for an unknown user_id', async () => {
    const error = await raw(
      {},
      'mail.activity',
      'create',
      [{ res_id: 3, activity_type_id: 2, user_id: 999 }],
      {
        context: { default_res_model: 'res.partner' },
      },
    );
    expect(error.code).toBe('FAULT_2');
    expect(error.message).toContain('another model requires the record being deleted');
  });

  it('needs res_model_id or default_res_model to create an activity', async () => {
    const error = await raw({}, 'mail.activity', 'create', [
      { res_model: 'res.partner', res_id: 3, activity_type_id: 2 },
    ]);
    expect(error.message).toContain('Field: Document Model (res_model_id)');
  });

  it('notifies and mails the assignee unless mail_activity_quick_update, and posts "Contact created"', async () => {
    fake = await startFakeOdoo();
    const adapter = adapterFor(fake, { notifyFollowUps: true });
    const state = createTestAdapterState();
    const partnerId = Number(
      (
        await adapter.createContact!(
          { phone: parsePhone('+33611111111'), name: 'New Caller' },
          { ...createTestAdapterContext(state), idempotencyKey: 'cc-1' },
        )
      ).id,
    );
    expect(fake.messages('res.partner', partnerId).map((m) => htmlToText(String(m.body)))).toEqual([
      'Contact created',
    ]);
    expect(fake.followers('res.partner', partnerId)).toEqual([3]);
    await adapter.createFollowUpTask!(
      callRecord({ remote: parsePhone('+33611111111'), outcome: 'missed', talkSeconds: 0 }),
      logContext(state, 'fu-1', { ownerId: '6' }),
    );
    expect(fake.notifications()).toHaveLength(1);
    expect(htmlToText(String(fake.notifications()[0]?.body))).toContain(
      'Mitchell Admin has just assigned you the following activity',
    );
    expect(fake.mails()).toHaveLength(1);
    expect(fake.followers('res.partner', partnerId).sort()).toEqual([3, 7]);
  });
});

/** Raw OVH events of a scenario, normalised, as the connector's stream. */
async function* streamOf(token: string, events: unknown[]): AsyncGenerator<OvhEvent> {
  for (const raw of events) {
    const result = normalizeEvent(raw, { token, defaultCountry: 'FR' });
    if (result.ok) yield result.event;
  }
}

describe('concurrent deliveries and a day of calls, through the pipeline', () => {
  const TOKEN = 'B3C0A1E2-7F4D-4C1B-9A8E-5D6F7A8B9C0D';
  let fake: FakeOdoo;
  beforeEach(async () => {
    fake = await startFakeOdoo({ apiUser: 'internal', transactionMs: 15 });
  });
  afterEach(async () => {
    await fake.close();
  });

  async function run(scenario: ReturnType<typeof createScenario>, ownerId: string) {
    const store = createMemoryStore();
    const connector = createConnector({
      stream: streamOf(TOKEN, scenario.events()),
      store,
      routes: {
        [TOKEN]: {
          adapters: [
            {
              name: 'odoo',
              adapter: adapterFor(fake),
              ownerMap: { '0972101010': ownerId },
              // default delivery concurrency (4): the log and the follow-up of one call run together
              delivery: { baseDelayMs: 1, maxDelayMs: 5 },
            },
          ],
          policies: { missedCallFollowUp: true },
        },
      },
      housekeepingIntervalMs: 0,
    });
    await connector.start();
    await connector.drain();
    await connector.stop?.();
    return { stats: connector.stats(), dead: await store.outbox.list({ status: 'dead' }) };
  }

  it('10 missed calls to partners owned by one agent: 0 dead letters, one message and one follow-up each', async () => {
    const agent = fake.seedUser('Agent Smith', 'smith@acme.com');
    const partners = Array.from({ length: 10 }, (_, i) =>
      fake.seedPartner({ name: `Caller ${i}`, phone: `+33 6 11 11 11 ${String(10 + i)}`, userId: agent }),
    );
    let scenario = createScenario({ token: TOKEN });
    for (let i = 0; i < 10; i++) {
      scenario = scenario.inboundMissed({
        from: `06111111${String(10 + i)}`,
        to: '0972101010',
        ringSeconds: 20,
        startAt: i,
        callId: `missed-${i}`,
      });
    }
    const { dead } = await run(scenario, 'smith@acme.com');
    expect(dead.map((entry) => entry.lastError?.message)).toEqual([]);
    for (const partner of partners) {
      const calls = fake.messages('res.partner', partner).filter((m) => m.message_type === 'notification');
      expect(calls.map((m) => htmlToText(String(m.body)))).toEqual([
        expect.stringContaining('Missed call from'),
      ]);
      expect(fake.activities('res.partner', partner)).toHaveLength(1);
    }
    expect(fake.notifications()).toEqual([]);
    expect(fake.mails()).toEqual([]);
  });

  it('a day of answered and missed calls for a mapped agent: 0 notifications, 0 queued e-mails', async () => {
    const agent = fake.seedUser('Agent Smith', 'smith@acme.com');
    fake.seedPartner({ name: 'Jane', phone: '+33 6 12 34 56 78', userId: agent });
    const scenario = createScenario({ token: TOKEN })
      .inboundAnswered({ from: '0612345678', to: '0972101010', ringSeconds: 5, talkSeconds: 60 })
      .inboundMissed({ from: '0612345678', to: '0972101010', ringSeconds: 20 })
      .outbound({ from: '0972101010', to: '0612345678', ringSeconds: 4, talkSeconds: 30 })
      .inboundMissed({ from: '0699999999', to: '0972101010', ringSeconds: 10 });
    const { dead, stats } = await run(scenario, String(agent));
    expect(dead).toEqual([]);
    expect(stats.delivered).toBeGreaterThanOrEqual(6);
    expect(fake.notifications()).toEqual([]);
    expect(fake.mails()).toEqual([]);
  });
});

describe('exactly once across a lost store, at every step of ring → log → complete', () => {
  let fake: FakeOdoo;
  beforeEach(async () => {
    fake = await startFakeOdoo({ apiUser: 'internal' });
  });
  afterEach(async () => {
    await fake.close();
  });

  /** Loses the adapter state right after the n-th write request reached Odoo (answer lost too). */
  async function loseStoreAfter(step: 'nothing' | 'create' | 'feedback') {
    const partner = fake.seedPartner({ name: 'Jane', phone: '+33 6 12 34 56 78' });
    const adapter = adapterFor(fake);
    const first: AdapterState = createTestAdapterState();
    const ctx = (state: AdapterState) => logContext(state, 'lost-1', { match: match(fake, partner) });
    if (step !== 'nothing') {
      fake.injectFault({
        on: 'write',
        call: step === 'create' ? 'create' : 'action_feedback',
        dropConnection: true,
        afterExecute: true,
      });
      await failure(adapter.logCall(callRecord(), ctx(first)));
    }
    // the store is lost: a new, empty state (a restart on a new disk, a wiped volume)
    const ref = await adapter.logCall(callRecord(), ctx(createTestAdapterState()));
    const again = await adapter.logCall(callRecord(), ctx(createTestAdapterState()));
    const messages = fake.messages('res.partner', partner);
    return { ref, again, messages, activities: fake.activities('res.partner', partner) };
  }

  it('lost before anything was written: one message, no open activity', async () => {
    const { messages, activities, again } = await loseStoreAfter('nothing');
    expect(messages).toHaveLength(1);
    expect(activities).toEqual([]);
    expect(again.created).toBe(false);
  });

  it('lost after the activity was created: the retry finishes it (no orphan, one message)', async () => {
    const { messages, activities, ref } = await loseStoreAfter('create');
    expect(messages).toHaveLength(1);
    expect(activities).toEqual([]);
    expect(ref.created).toBe(true);
  });

  it('lost after the activity was completed: the retry finds the message', async () => {
    const { messages, activities, ref } = await loseStoreAfter('feedback');
    expect(messages).toHaveLength(1);
    expect(activities).toEqual([]);
    expect(ref.created).toBe(false);
  });
});
