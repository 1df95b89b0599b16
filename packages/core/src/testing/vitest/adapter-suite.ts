import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type {
  ActivityRef,
  AdapterContext,
  CallRecord,
  ContactMatch,
  CrmAdapter,
  LogCallContext,
} from '../../adapter/contract.js';
import { type AdapterErrorKind, isAdapterError } from '../../adapter/errors.js';
import type { QueueSession } from '../../calls/types.js';
import { parsePhone } from '../../phone/index.js';
import {
  createTestAdapterContext,
  createTestAdapterState,
  sampleCallRecord,
} from '../conformance/fixtures.js';
import type { ConformanceHarness, LoggedCallView } from '../conformance-types.js';

/**
 * Ids of the checks in {@link describeCrmAdapterConformance}, usable in its `skip` option. Every
 * test title starts with its id.
 */
export const ADAPTER_CONFORMANCE_TESTS = [
  'contract.shape',
  'lookup.formats',
  'lookup.ranked',
  'lookup.person-first',
  'lookup.recency',
  'lookup.limit',
  'lookup.unknown',
  'lookup.withheld',
  'log.idempotent',
  'log.missed',
  'log.outbound',
  'log.no-match',
  'log.retry-after-failure',
  'log.batch',
  'contact.create',
  'task.follow-up',
  'queue.session',
  'errors.auth',
  'errors.rate-limit',
  'errors.transient',
  'errors.invalid',
  'check.ok',
] as const;

/** One check of the adapter conformance suite. */
export type AdapterConformanceTestId = (typeof ADAPTER_CONFORMANCE_TESTS)[number];

const KNOWN_IDS: ReadonlySet<string> = new Set(ADAPTER_CONFORMANCE_TESTS);

/** Options of {@link describeCrmAdapterConformance}. */
export interface CrmAdapterConformanceOptions {
  /** Shown in the suite title (`salesforce`, `acme-crm`). */
  readonly name: string;
  /** Starts the fake CRM and the adapter wired to it. Called once; `close()` is called at the end. */
  readonly setup: () => Promise<ConformanceHarness>;
  /**
   * Checks to skip, by id (see {@link ADAPTER_CONFORMANCE_TESTS}), for what a CRM cannot do
   * (e.g. `lookup.recency` when the CRM has no last-activity date). Say why in your own docs. An id
   * that names no check is a type error, and throws when the suite is declared.
   */
  readonly skip?: readonly AdapterConformanceTestId[];
}

/** The number every lookup test looks for. */
const TARGET = '+33612345678';
/** Notations CRMs store numbers in; each must be found by looking up {@link TARGET}. */
const STORED_FORMATS = ['+33 6 12 34 56 78', '06.12.34.56.78', '0033612345678', '612345678'] as const;
/** Words an activity of a missed call must carry (any language the CRMs speak). */
const MISSED_WORDS = /missed|no answer|unanswered|not answered|manqu|sans r[ée]ponse|non r[ée]pondu/i;

/**
 * The CRM adapter conformance suite: the behaviour every {@link CrmAdapter} promises, checked
 * against the adapter wired to a local fake of its CRM. Call it at the top level of a vitest test
 * file:
 *
 * ```ts
 * describeCrmAdapterConformance({ name: 'acme', setup: async () => startAcmeHarness() });
 * ```
 *
 * What it checks: lookup in every common number notation (with record URL, display name, match
 * quality), ranking of several matches with ties flagged `ambiguous` in a stable order, unknown and
 * withheld callers, idempotent `logCall` (same key twice = one activity, even with a fresh adapter
 * state), missed / inbound / outbound calls with direction, duration (= talk seconds) and the
 * record they are attached to, the optional capabilities (batch, contact creation, follow-up tasks,
 * queue sessions), the mapping of CRM errors to {@link AdapterErrorKind}s, and that no secret
 * appears in an error.
 */
export function describeCrmAdapterConformance(options: CrmAdapterConformanceOptions): void {
  const skipped = new Set<string>(options.skip ?? []);
  const unknown = [...skipped].filter((id) => !KNOWN_IDS.has(id));
  if (unknown.length > 0) {
    throw new TypeError(
      `describeCrmAdapterConformance: skip names no check: ${unknown.join(', ')} (the ids are ADAPTER_CONFORMANCE_TESTS)`,
    );
  }
  const test = (id: AdapterConformanceTestId, title: string, body: (ctx: TestCtx) => Promise<void>) => {
    const fn = skipped.has(id) ? it.skip : it;
    fn(`${id}: ${title}`, async (context) => {
      await body({ skip: (note: string) => context.skip(note) });
    });
  };

  describe(`CrmAdapter conformance: ${options.name}`, () => {
    let harness: ConformanceHarness | undefined;
    const context: AdapterContext = createTestAdapterContext();
    const h = (): ConformanceHarness => {
      if (!harness) throw new Error('conformance harness setup failed');
      return harness;
    };
    const adapter = (): CrmAdapter => h().adapter;
    const seq = counter();

    beforeAll(async () => {
      harness = await options.setup();
    });
    afterAll(async () => {
      await harness?.close();
    });
    beforeEach(async () => {
      await harness?.reset();
    });

    const lookup = (raw: string, limit?: number) =>
      adapter().findContacts({ phone: parsePhone(raw), ...(limit === undefined ? {} : { limit }) }, context);
    const logCtx = (key: string, extra: Partial<LogCallContext> = {}): LogCallContext => ({
      ...context,
      idempotencyKey: key,
      ...extra,
    });
    const uniqueCall = (overrides: Partial<CallRecord> = {}) =>
      sampleCallRecord({ callId: `conf-${Date.now().toString(36)}-${seq()}`, ...overrides });

    const kit: SuiteKit = { h, adapter, context, lookup, logCtx, uniqueCall, seq };
    contractChecks(test, kit);
    notationChecks(test, kit);
    rankingChecks(test, kit);
    orderChecks(test, kit);
    loggingChecks(test, kit);
    callShapeChecks(test, kit);
    batchAndContactChecks(test, kit);
    capabilityChecks(test, kit);
    errorChecks(test, kit);
  });
}

/** What the suite's checks share: the harness, the adapter, a context and small helpers. */
interface SuiteKit {
  readonly h: () => ConformanceHarness;
  readonly adapter: () => CrmAdapter;
  readonly context: AdapterContext;
  readonly lookup: (raw: string, limit?: number) => ReturnType<CrmAdapter['findContacts']>;
  readonly logCtx: (key: string, extra?: Partial<LogCallContext>) => LogCallContext;
  readonly uniqueCall: (overrides?: Partial<CallRecord>) => CallRecord;
  /** A number unique in this suite run. */
  readonly seq: () => number;
}

/** Declares one check (skipped when its id is in the suite's `skip`). */
type DefineCheck = (
  id: AdapterConformanceTestId,
  title: string,
  body: (ctx: TestCtx) => Promise<void>,
) => void;

/** The checks of the contract. */
function contractChecks(test: DefineCheck, kit: SuiteKit): void {
  const { adapter } = kit;
  test(
    'contract.shape',
    'declares v1, a name, boolean capabilities and the methods they promise',
    async () => {
      const a = adapter();
      expect(
        a.specificationVersion,
        "specificationVersion must be 'v1' (the contract this suite checks)",
      ).toBe('v1');
      expect(typeof a.name, 'name must be a string (it goes into idempotency keys and logs)').toBe('string');
      expect(a.name.length, 'name must not be empty').toBeGreaterThan(0);
      const caps = a.capabilities;
      for (const flag of ['createContact', 'followUpTask', 'queueSessions', 'batchLogCall'] as const) {
        expect(typeof caps[flag], `capabilities.${flag}`).toBe('boolean');
      }
      expect(typeof a.findContacts, 'findContacts is missing (every adapter looks callers up)').toBe(
        'function',
      );
      expect(typeof a.logCall, 'logCall is missing (every adapter logs calls)').toBe('function');
      if (caps.createContact)
        expect(
          typeof a.createContact,
          'capabilities.createContact is true but createContact is missing',
        ).toBe('function');
      if (caps.followUpTask)
        expect(
          typeof a.createFollowUpTask,
          'capabilities.followUpTask is true but createFollowUpTask is missing',
        ).toBe('function');
      if (caps.queueSessions)
        expect(
          typeof a.logQueueSession,
          'capabilities.queueSessions is true but logQueueSession is missing',
        ).toBe('function');
      if (caps.batchLogCall)
        expect(typeof a.logCalls, 'capabilities.batchLogCall is true but logCalls is missing').toBe(
          'function',
        );
    },
  );
}

/** The checks of lookup in every number notation. */
function notationChecks(test: DefineCheck, kit: SuiteKit): void {
  const { h, lookup } = kit;

  test('lookup.formats', `finds a contact stored in any notation by looking up ${TARGET}`, async () => {
    for (const stored of STORED_FORMATS) {
      await h().reset();
      const name = `Format ${digitsOnly(stored)}`;
      const { id } = await h().seedContact({ name, phone: stored });
      const matches = await lookup(TARGET);
      expect(
        matches,
        `findContacts(${TARGET}) should find the one contact stored as "${stored}"`,
      ).toHaveLength(1);
      const match = matches[0] as ContactMatch;
      expect(match.id, `findContacts returned another record than the one stored as "${stored}"`).toBe(id);
      expect(
        match.displayName,
        `displayName should carry the record's name (stored as "${stored}")`,
      ).toContain(name);
      expectUrl(match.url);
      expect(
        typeof match.recordType,
        'recordType must name the CRM record type (Contact, contact, res.partner…)',
      ).toBe('string');
      expect(['person', 'company'], `kind must be 'person' or 'company', got '${match.kind}'`).toContain(
        match.kind,
      );
      expect(
        match.matchedPhone.length,
        'matchedPhone must give the stored number that matched',
      ).toBeGreaterThan(0);
      expect(match.ambiguous, 'a single match was flagged ambiguous').toBe(false);
      if (stored === '612345678')
        expect(
          ['exact', 'suffix'],
          `quality of a number stored without prefix must be 'exact' or 'suffix', got '${match.quality}'`,
        ).toContain(match.quality);
      else
        expect(
          match.quality,
          `a number stored as "${stored}" is the same E.164 number: quality must be 'exact'`,
        ).toBe('exact');
    }
    // The same contact is also found from the notations OVH sends.
    await h().reset();
    const { id } = await h().seedContact({ name: 'Alice Martin', phone: '+33 6 12 34 56 78' });
    for (const query of ['0033612345678', '0612345678']) {
      const matches = await lookup(query);
      expect(
        matches.map((m) => m.id),
        `the contact stored as +33 6 12 34 56 78 was not found when looked up as "${query}" (a notation OVH sends)`,
      ).toEqual([id]);
    }
  });
}

/** The checks of ranking several matches (ties, persons before companies). */
function rankingChecks(test: DefineCheck, kit: SuiteKit): void {
  const { h, lookup } = kit;

  test(
    'lookup.ranked',
    'returns every contact sharing a number, ties flagged, in a stable order',
    async () => {
      const a = await h().seedContact({ name: 'Alice Martin', phone: '+33612345678' });
      const b = await h().seedContact({ name: 'Bruno Martin', phone: '06 12 34 56 78' });
      await h().seedContact({ name: 'Someone Else', phone: '+33 6 99 88 77 66' });
      const first = await lookup(TARGET);
      expect(
        first.map((m) => m.id).sort(),
        'findContacts must return every contact sharing the number, and only those',
      ).toEqual([a.id, b.id].sort());
      for (const match of first) {
        expect(
          match.ambiguous,
          `${match.displayName} ties with another match: ambiguous must be true so a person picks`,
        ).toBe(true);
        expectUrl(match.url);
      }
      const second = await lookup(TARGET);
      expect(
        second.map((m) => m.id),
        'the same lookup twice returned its matches in another order (ranking must be stable)',
      ).toEqual(first.map((m) => m.id));
    },
  );

  test('lookup.person-first', 'ranks a person before a company with the same number', async () => {
    const company = await h().seedContact({ name: 'Martin SARL', phone: '+33612345678', kind: 'company' });
    const person = await h().seedContact({ name: 'Alice Martin', phone: '+33612345678', kind: 'person' });
    const matches = await lookup(TARGET);
    expect(
      matches.map((m) => m.id),
      'a person must rank before a company with the same number',
    ).toEqual([person.id, company.id]);
    expect(matches[0]?.kind, "the person's match must have kind 'person'").toBe('person');
    expect(matches[1]?.kind, "the company's match must have kind 'company'").toBe('company');
    expect(
      matches[0]?.ambiguous,
      'a person ranked above a company is not a tie: ambiguous must be false',
    ).toBe(false);
  });
}

/** The checks of recency, limits, unknown and withheld callers. */
function orderChecks(test: DefineCheck, kit: SuiteKit): void {
  const { h, adapter, context, lookup } = kit;

  test('lookup.recency', 'ranks the most recently active of equal matches first', async () => {
    const older = await h().seedContact({
      name: 'Alice Older',
      phone: '+33612345678',
      lastActivityAt: new Date('2025-01-10T10:00:00Z'),
    });
    const newer = await h().seedContact({
      name: 'Alice Newer',
      phone: '+33612345678',
      lastActivityAt: new Date('2026-02-20T10:00:00Z'),
    });
    const matches = await lookup(TARGET);
    expect(
      matches.map((m) => m.id),
      'of two equal matches, the most recently active must come first',
    ).toEqual([newer.id, older.id]);
  });

  test('lookup.limit', 'honours the limit of the query', async () => {
    await h().seedContact({ name: 'Alice Martin', phone: '+33612345678' });
    await h().seedContact({ name: 'Bruno Martin', phone: '+33612345678' });
    await h().seedContact({ name: 'Chloe Martin', phone: '+33612345678' });
    expect(
      await lookup(TARGET, 2),
      'findContacts returned more matches than the query limit (2)',
    ).toHaveLength(2);
    expect(await lookup(TARGET), 'findContacts without a limit must return all 3 matches').toHaveLength(3);
  });

  test('lookup.unknown', 'returns [] for a number nobody has', async () => {
    await h().seedContact({ name: 'Alice Martin', phone: '+33612345678' });
    await h().seedContact({ name: 'Near Miss', phone: '+33612345679' });
    expect(
      await lookup('+33699001122'),
      'a number nobody has must give [] (a near miss is not a match)',
    ).toEqual([]);
  });

  test('lookup.withheld', 'returns [] for a withheld number without calling the CRM', async () => {
    await h().seedContact({ name: 'Alice Martin', phone: '+33612345678' });
    // A CRM request would hit this fault and fail: a withheld number must not reach the CRM.
    h().injectFault({ status: 500, on: 'any', times: 5 });
    for (const raw of ['anonymous', '']) {
      const phone = parsePhone(raw);
      expect(phone.withheld, `the suite expects parsePhone("${raw}") to be a withheld number`).toBe(true);
      await expect(
        adapter().findContacts({ phone }, context),
        `a withheld number ("${raw}") must give [] without asking the CRM`,
      ).resolves.toEqual([]);
    }
  });
}

/** The checks of idempotent call logging. */
function loggingChecks(test: DefineCheck, kit: SuiteKit): void {
  const { h, adapter, lookup, logCtx, uniqueCall } = kit;
  test(
    'log.idempotent',
    'logs an answered inbound call once, attached to the match, however often it is retried',
    async () => {
      const { id } = await h().seedContact({ name: 'Alice Martin', phone: '+33612345678' });
      const [match] = await lookup(TARGET);
      expect(match?.id, 'the seeded contact was not found by lookup').toBe(id);
      const call = uniqueCall({ talkSeconds: 95, ringSeconds: 12 });
      const key = `conformance:${call.callId}:log-call`;
      const first = await adapter().logCall(call, logCtx(key, { match }));
      expectActivityRef(first, true);
      const second = await adapter().logCall(call, logCtx(key, { match }));
      expectActivityRef(second, false);
      expect(second.id, 'logCall with the same idempotency key returned another activity').toBe(first.id);
      // Idempotency lives in the CRM, not in the adapter's local state: a fresh state still finds
      // it (once the CRM's search index caught up).
      await h().settle?.();
      const third = await adapter().logCall(call, {
        ...createTestAdapterContext(createTestAdapterState()),
        idempotencyKey: key,
        match,
      });
      expect(
        third.created,
        'with a fresh adapter state, logCall wrote a second activity for the same idempotency key (keep the key in the CRM record, not only in local state)',
      ).toBe(false);
      expect(third.id, 'with a fresh adapter state, logCall did not return the activity written first').toBe(
        first.id,
      );
      const logged = await h().loggedCalls(call.callId);
      expect(logged, 'logCall wrote a second activity for the same idempotency key').toHaveLength(1);
      const view = logged[0] as LoggedCallView;
      expect(view.attachedTo, 'the call was not attached to the matched record').toBe(id);
      expectDirection(view, 'inbound');
      expect(view.durationSeconds, 'the logged duration must be the talk time (95 s)').toBe(95);
    },
  );
}

/** The checks of what a logged call says (missed, outbound, unknown caller, retries). */
function callShapeChecks(test: DefineCheck, kit: SuiteKit): void {
  const { h, adapter, lookup, logCtx, uniqueCall } = kit;

  test('log.missed', 'logs a missed call with words saying it was missed', async () => {
    const { id } = await h().seedContact({ name: 'Alice Martin', phone: '+33612345678' });
    const [match] = await lookup(TARGET);
    const call = uniqueCall({ outcome: 'missed', ringSeconds: 25, talkSeconds: 0 });
    const ref = await adapter().logCall(call, logCtx(`conformance:${call.callId}:log-call`, { match }));
    expectActivityRef(ref, true);
    const logged = await h().loggedCalls(call.callId);
    expect(logged, 'a missed call must be logged exactly once').toHaveLength(1);
    const view = logged[0] as LoggedCallView;
    expect(view.text, 'the activity of a missed call must say it was missed').toMatch(MISSED_WORDS);
    expect(view.attachedTo, 'the missed call was not attached to the matched record').toBe(id);
    expectDirection(view, 'inbound');
    if (view.durationSeconds !== undefined)
      expect(view.durationSeconds, 'a missed call has no talk time: duration must be 0').toBe(0);
  });

  test('log.outbound', 'logs an outbound call with its direction and duration', async () => {
    const { id } = await h().seedContact({ name: 'Alice Martin', phone: '06 12 34 56 78' });
    const [match] = await lookup(TARGET);
    const call = uniqueCall({ direction: 'outbound', ringSeconds: 4, talkSeconds: 301 });
    await adapter().logCall(call, logCtx(`conformance:${call.callId}:log-call`, { match }));
    const logged = await h().loggedCalls(call.callId);
    expect(logged, 'an outbound call must be logged exactly once').toHaveLength(1);
    const view = logged[0] as LoggedCallView;
    expectDirection(view, 'outbound');
    expect(view.durationSeconds, 'the logged duration must be the talk time (301 s)').toBe(301);
    expect(view.attachedTo, 'the outbound call was not attached to the matched record').toBe(id);
    expect(view.text, 'an answered call must not be worded as missed').not.toMatch(MISSED_WORDS);
  });

  test('log.no-match', 'logs the call of an unknown caller without a record, once', async () => {
    const call = uniqueCall({ remote: parsePhone('0033699001122') });
    const key = `conformance:${call.callId}:log-call`;
    expectActivityRef(await adapter().logCall(call, logCtx(key)), true);
    expect(
      (await adapter().logCall(call, logCtx(key))).created,
      'logCall wrote a second activity for the same idempotency key (unknown caller)',
    ).toBe(false);
    expect(
      await h().loggedCalls(call.callId),
      'the call of an unknown caller must be logged exactly once',
    ).toHaveLength(1);
  });

  test(
    'log.retry-after-failure',
    'a write that failed with a 5xx, retried with its key, makes one activity',
    async () => {
      const call = uniqueCall();
      const key = `conformance:${call.callId}:log-call`;
      h().injectFault({ status: 503, on: 'write', times: 1 });
      const error = await captureError(adapter().logCall(call, logCtx(key)));
      expectAdapterError(error, 'transient', h().secrets);
      const ref = await adapter().logCall(call, logCtx(key));
      expect(ref.id.length, 'the retried write returned no activity id').toBeGreaterThan(0);
      expect(
        await adapter().logCall(call, logCtx(key)),
        'after a failed write and its retry, a third logCall with the key must return the same activity',
      ).toMatchObject({ id: ref.id, created: false });
      expect(
        await h().loggedCalls(call.callId),
        'a write retried after a 5xx made a second activity',
      ).toHaveLength(1);
    },
  );
}

/** The checks of batch logging and contact creation. */
function batchAndContactChecks(test: DefineCheck, kit: SuiteKit): void {
  const { h, adapter, context, lookup, uniqueCall, seq } = kit;

  test(
    'log.batch',
    'logCalls writes each item once and reports per item (capability batchLogCall)',
    async ({ skip }) => {
      const a = adapter();
      if (!a.capabilities.batchLogCall || !a.logCalls) return skip('adapter has no batchLogCall capability');
      const { id } = await h().seedContact({ name: 'Alice Martin', phone: '+33612345678' });
      const [match] = await lookup(TARGET);
      const calls = [uniqueCall(), uniqueCall({ outcome: 'missed', talkSeconds: 0 }), uniqueCall()];
      const items = calls.map((call) => ({
        call,
        idempotencyKey: `conformance:${call.callId}:log-call`,
        ...(match ? { match } : {}),
      }));
      const first = await a.logCalls(items, context);
      expect(first, 'logCalls must return one result per item, in order').toHaveLength(3);
      for (const result of first) {
        expect(result.ok, `a batch item failed: ${result.ok ? '' : result.error.message}`).toBe(true);
        if (result.ok) expectActivityRef(result.ref, true);
      }
      const second = await a.logCalls(items, context);
      expect(
        second.map((r) => r.ok && r.ref.created),
        'logCalls wrote new activities for items whose keys it had already written',
      ).toEqual([false, false, false]);
      expect(
        second.map((r) => (r.ok ? r.ref.id : undefined)),
        'logCalls returned other activities for the same keys',
      ).toEqual(first.map((r) => (r.ok ? r.ref.id : undefined)));
      for (const call of calls) {
        const logged = await h().loggedCalls(call.callId);
        expect(logged, `logCalls wrote call ${call.callId} more than once or not at all`).toHaveLength(1);
        expect(logged[0]?.attachedTo, 'a batch item was not attached to its match').toBe(id);
      }
    },
  );

  test(
    'contact.create',
    'createContact makes one findable contact per key (capability createContact)',
    async ({ skip }) => {
      const a = adapter();
      if (!a.capabilities.createContact || !a.createContact)
        return skip('adapter has no createContact capability');
      const phone = parsePhone('0033699001122');
      const key = `conformance:contact:${seq()}`;
      const created = await a.createContact(
        { phone, name: 'New Caller' },
        { ...context, idempotencyKey: key },
      );
      expect(created.id.length, 'createContact returned no record id').toBeGreaterThan(0);
      expectUrl(created.url);
      const again = await a.createContact({ phone, name: 'New Caller' }, { ...context, idempotencyKey: key });
      expect(again.id, 'createContact with the same idempotency key made a second contact').toBe(created.id);
      await h().settle?.();
      const found = await a.findContacts({ phone: parsePhone('+33699001122') }, context);
      expect(
        found.map((m) => m.id),
        'the created contact must be found by its number (once)',
      ).toEqual([created.id]);
    },
  );
}

/** The checks of follow-up tasks and queue sessions (optional capabilities). */
function capabilityChecks(test: DefineCheck, kit: SuiteKit): void {
  const { h, adapter, lookup, logCtx, uniqueCall, seq } = kit;
  test('task.follow-up', 'createFollowUpTask is idempotent (capability followUpTask)', async ({ skip }) => {
    const a = adapter();
    if (!a.capabilities.followUpTask || !a.createFollowUpTask) {
      return skip('adapter has no followUpTask capability');
    }
    await h().seedContact({ name: 'Alice Martin', phone: '+33612345678' });
    const [match] = await lookup(TARGET);
    const call = uniqueCall({ outcome: 'missed', talkSeconds: 0 });
    const key = `conformance:${call.callId}:follow-up`;
    const first = await a.createFollowUpTask(call, logCtx(key, { match }));
    expectActivityRef(first, true);
    const second = await a.createFollowUpTask(call, logCtx(key, { match }));
    expect(second, 'createFollowUpTask with the same idempotency key made a second task').toMatchObject({
      id: first.id,
      created: false,
    });
  });

  test('queue.session', 'logQueueSession is idempotent (capability queueSessions)', async ({ skip }) => {
    const a = adapter();
    if (!a.capabilities.queueSessions || !a.logQueueSession) {
      return skip('adapter has no queueSessions capability');
    }
    const session = sampleQueueSession(`conf-member-${seq()}`);
    const key = `conformance:${session.memberUuid}:queue-session`;
    const first = await a.logQueueSession(session, logCtx(key));
    expectActivityRef(first, true);
    const second = await a.logQueueSession(session, logCtx(key));
    expect(second, 'logQueueSession with the same idempotency key made a second activity').toMatchObject({
      id: first.id,
      created: false,
    });
  });
}

/** The checks of error kinds and check(). */
function errorChecks(test: DefineCheck, kit: SuiteKit): void {
  const { h, adapter, context, lookup, logCtx, uniqueCall } = kit;
  test('errors.auth', 'a 401 becomes an auth error with a message a user can act on', async () => {
    h().injectFault({ status: 401, on: 'lookup', times: 1 });
    expectAdapterError(await captureError(lookup(TARGET)), 'auth', h().secrets);
    h().injectFault({ status: 401, on: 'write', times: 1 });
    const call = uniqueCall();
    const error = await captureError(adapter().logCall(call, logCtx(`conformance:${call.callId}:log-call`)));
    expectAdapterError(error, 'auth', h().secrets);
  });

  test('errors.rate-limit', 'a 429 becomes a rate-limit error carrying Retry-After in ms', async () => {
    h().injectFault({ status: 429, on: 'lookup', times: 1, retryAfterSeconds: 7 });
    const error = await captureError(lookup(TARGET));
    expectAdapterError(error, 'rate-limit', h().secrets);
    expectRetryAfter(error, 7);
    h().injectFault({ status: 429, on: 'write', times: 1, retryAfterSeconds: 3 });
    const call = uniqueCall();
    const writeError = await captureError(
      adapter().logCall(call, logCtx(`conformance:${call.callId}:log-call`)),
    );
    expectAdapterError(writeError, 'rate-limit', h().secrets);
    expectRetryAfter(writeError, 3);
  });

  test('errors.transient', '500 and 503 become transient errors; the next request succeeds', async () => {
    for (const status of [500, 503] as const) {
      for (const on of ['lookup', 'write'] as const) {
        await h().reset();
        h().injectFault({ status, on, times: 1 });
        const call = uniqueCall();
        const attempt =
          on === 'lookup'
            ? lookup(TARGET)
            : adapter().logCall(call, logCtx(`conformance:${call.callId}:log-call`));
        expectAdapterError(await captureError(attempt), 'transient', h().secrets, `${status} on ${on}`);
      }
    }
    await expect(lookup(TARGET), 'after a transient failure the next request must succeed').resolves.toEqual(
      [],
    );
  });

  test('errors.invalid', 'a 400 on a write becomes an invalid error', async () => {
    h().injectFault({ status: 400, on: 'write', times: 1 });
    const call = uniqueCall();
    const error = await captureError(adapter().logCall(call, logCtx(`conformance:${call.callId}:log-call`)));
    expectAdapterError(error, 'invalid', h().secrets);
  });

  test('check.ok', 'check() reports ok against a healthy CRM (when implemented)', async ({ skip }) => {
    const a = adapter();
    if (!a.check) return skip('adapter has no check()');
    const report = await a.check(context);
    expect(report.ok, `check() reported a healthy CRM as failing: ${report.message}`).toBe(true);
    expect(typeof report.message, 'check() must say what it checked (message)').toBe('string');
    expect(report.message.length, 'check() returned an empty message').toBeGreaterThan(0);
    for (const secret of h().secrets ?? [])
      expect(report.message, 'check() put a configured secret in its message').not.toContain(secret);
  });
}

/** What a suite test body receives. */
interface TestCtx {
  skip(note: string): void;
}

function counter(): () => number {
  let n = 0;
  return () => ++n;
}

function digitsOnly(value: string): string {
  return value.replace(/\D+/g, '');
}

function expectUrl(value: unknown): void {
  expect(typeof value, 'a record URL must be a string').toBe('string');
  expect(
    () => new URL(value as string),
    `the record URL "${String(value)}" is not an absolute URL`,
  ).not.toThrow();
}

function expectActivityRef(ref: ActivityRef, created: boolean): void {
  expect(typeof ref.id, 'an ActivityRef must carry the activity id as a string').toBe('string');
  expect(ref.id.length, 'an ActivityRef came back with an empty id').toBeGreaterThan(0);
  expect(
    ref.created,
    created
      ? 'a first write must say created: true'
      : 'a repeated write with the same idempotency key must say created: false (and write nothing)',
  ).toBe(created);
  if (ref.url !== undefined) expectUrl(ref.url);
}

function expectDirection(view: LoggedCallView, direction: 'inbound' | 'outbound'): void {
  const text = (view.direction ?? view.text).toLowerCase();
  const pattern = direction === 'inbound' ? /inbound|incoming|entrant/ : /outbound|outgoing|sortant/;
  expect(text, `direction of the logged call ("${view.direction ?? view.text}")`).toMatch(pattern);
}

async function captureError(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the adapter call to fail (an injected fault did not reach it)');
}

function expectAdapterError(
  error: unknown,
  kind: AdapterErrorKind,
  secrets: readonly string[] | undefined,
  label: string = kind,
): void {
  expect(isAdapterError(error), `${label}: an AdapterError is thrown (got ${String(error)})`).toBe(true);
  if (!isAdapterError(error)) return;
  expect(
    error.kind,
    `${label}: the error must be of kind '${kind}' (it decides retry, pause or dead letter)`,
  ).toBe(kind);
  expect(error.message.trim().length, `${label}: the message says what happened`).toBeGreaterThan(10);
  expectNoSecrets(error, secrets ?? []);
}

function expectRetryAfter(error: unknown, seconds: number): void {
  const retryAfterMs = isAdapterError(error) ? error.retryAfterMs : undefined;
  expect(retryAfterMs, `a 429 with Retry-After: ${seconds} must give retryAfterMs`).toBeTypeOf('number');
  // An HTTP-date Retry-After loses the sub-second part: allow up to one second less.
  expect(
    retryAfterMs as number,
    `retryAfterMs must be Retry-After (${seconds} s) in milliseconds`,
  ).toBeGreaterThanOrEqual(seconds * 1000 - 1000);
  expect(
    retryAfterMs as number,
    `retryAfterMs must be Retry-After (${seconds} s) in milliseconds`,
  ).toBeLessThanOrEqual(seconds * 1000);
}

/** Checks the message, the JSON form and the cause chain of an error for secrets. */
function expectNoSecrets(error: unknown, secrets: readonly string[]): void {
  const texts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    if (current instanceof Error) {
      texts.push(current.message);
      const json = (current as { toJSON?: () => unknown }).toJSON?.();
      if (json !== undefined) texts.push(JSON.stringify(json));
      current = current.cause;
    } else {
      texts.push(typeof current === 'string' ? current : safeJson(current));
      break;
    }
  }
  const all = texts.join('\n');
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    expect(all.includes(secret), 'a configured secret appears in an error').toBe(false);
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function sampleQueueSession(memberUuid: string): QueueSession {
  return {
    memberUuid,
    token: 'conformance-token',
    queue: '0033972101020',
    caller: parsePhone('0033612345678'),
    state: 'ended',
    outcome: 'answered',
    joinedAt: new Date('2026-03-02T09:15:00Z'),
    answeredAt: new Date('2026-03-02T09:15:40Z'),
    leftAt: new Date('2026-03-02T09:18:00Z'),
    agentsOffered: ['agent_0033972101011_id'],
    answeredBy: 'agent_0033972101011_id',
    waitSeconds: 40,
    talkSeconds: 140,
    cause: 'Terminated',
    inferred: false,
  };
}
