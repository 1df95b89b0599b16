import { type AdapterError, type AdapterState, type CrmAdapter, parsePhone } from '@cti-bridge/core';
import {
  createTestAdapterContext,
  createTestAdapterState,
  sampleCallRecord,
  waitFor,
} from '@cti-bridge/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { testContext } from './__fixtures__/support.js';
import { chunkByBodySize, MAX_SEARCH_BODY_CHARS } from './adapter.js';
import { hubspot } from './index.js';
import { type FakeHubSpot, startFakeHubSpot } from './testing/index.js';

// What the real HubSpot API refuses, per its public docs (see the adapter README), and the fake too.

let fake: FakeHubSpot;
let adapter: CrmAdapter;

afterEach(async () => {
  await adapter?.close?.();
  await fake?.close();
});

async function setup() {
  fake = await startFakeHubSpot();
  adapter = hubspot({ accessToken: fake.accessToken, basePath: fake.url, batch: { windowMs: 20 } });
}

/** OVH call ids look like this: mixed case, ~44 characters. */
const ovhCallId = (i: number) => `N2ZkZmEyNGMxZWM0N2VhN2M4NGJk${String(i).padStart(4, '0')}MTY4ZGYwZmU2OTY.`;

describe('the batched duplicate check on hs_call_external_id', () => {
  it('finds engagements whose OVH call id is mixed case (IN takes lowercase values)', async () => {
    await setup();
    const calls = [0, 1, 2].map((i) => sampleCallRecord({ callId: ovhCallId(i) }));
    const first = await Promise.all(
      calls.map((call) =>
        adapter.logCall(call, { ...createTestAdapterContext(), idempotencyKey: call.callId }),
      ),
    );
    fake.flushIndex();
    // the local record is lost (new state): only HubSpot search can tell they were logged
    const again = await Promise.all(
      calls.map((call) =>
        adapter.logCall(call, { ...createTestAdapterContext(), idempotencyKey: call.callId }),
      ),
    );
    expect(again).toEqual(first.map((ref) => ({ id: ref.id, created: false })));
    expect(fake.records('calls')).toHaveLength(3);
  });

  it('100 OVH call ids in one batch: searches stay within 3,000 characters, every call logged once', async () => {
    await setup();
    const calls = Array.from({ length: 100 }, (_, i) => sampleCallRecord({ callId: ovhCallId(i) }));
    const refs = await Promise.all(
      calls.map((call) =>
        adapter.logCall(call, { ...createTestAdapterContext(), idempotencyKey: call.callId }),
      ),
    );
    expect(refs.every((ref) => ref.created)).toBe(true);
    const searches = fake.requests().filter((r) => r.path === '/crm/v3/objects/calls/search');
    expect(searches.length).toBeGreaterThan(1);
    expect(searches.every((r) => r.status === 200)).toBe(true);
    expect(fake.records('calls')).toHaveLength(100);
  });

  it('chunks by request size, at most 100 values a chunk', () => {
    const build = (values: readonly string[]) => ({ values });
    const long = Array.from({ length: 250 }, (_, i) => ovhCallId(i).toLowerCase());
    const chunks = chunkByBodySize(long, build);
    expect(chunks.flat()).toEqual(long);
    for (const chunk of chunks)
      expect(JSON.stringify(build(chunk)).length).toBeLessThanOrEqual(MAX_SEARCH_BODY_CHARS);
    const short = Array.from({ length: 250 }, (_, i) => `c${i}`);
    expect(chunkByBodySize(short, build).map((c) => c.length)).toEqual([100, 100, 50]);
  });
});

describe('the fake HubSpot', () => {
  it('refuses a search body over 3,000 characters with a 400, and IN with mixed-case values finds nothing', async () => {
    await setup();
    await adapter.logCall(sampleCallRecord({ callId: 'MiXeD-1' }), {
      ...createTestAdapterContext(),
      idempotencyKey: 'k',
    });
    fake.flushIndex();
    const search = (body: unknown) =>
      fetch(`${fake.url}/crm/v3/objects/calls/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${fake.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const filter = (values: string[]) => ({
      filterGroups: [{ filters: [{ propertyName: 'hs_call_external_id', operator: 'IN', values }] }],
    });
    expect(((await (await search(filter(['MiXeD-1', 'x']))).json()) as { total: number }).total).toBe(0);
    expect(((await (await search(filter(['mixed-1', 'x']))).json()) as { total: number }).total).toBe(1);
    const big = await search(filter(Array.from({ length: 100 }, (_, i) => ovhCallId(i))));
    expect(big.status).toBe(400);
    expect(((await big.json()) as { category: string }).category).toBe('VALIDATION_ERROR');
  });
});

describe('company lookup', () => {
  it('does not filter companies on a contact-only calculated property; finds the company by phone', async () => {
    await setup();
    const company = fake.seed('companies', { name: 'ACME', phone: '+33 6 12 34 56 78' }, { indexed: true });
    const contact = fake.seed(
      'contacts',
      { firstname: 'Ada', lastname: 'L', phone: '+33 6 12 34 56 78' },
      { indexed: true },
    );
    const matches = await adapter.findContacts(
      { phone: parsePhone('0612345678') },
      createTestAdapterContext(),
    );
    expect(matches.map((m) => m.id).sort()).toEqual([company.id, contact.id].sort());
    const companySearches = fake.requests().filter((r) => r.path === '/crm/v3/objects/companies/search');
    expect(companySearches.map((r) => r.status)).toEqual([200]);
    // the property was looked up once, and is cached
    await adapter.findContacts({ phone: parsePhone('0612345679') }, createTestAdapterContext());
    expect(fake.requests().filter((r) => r.path.startsWith('/crm/v3/properties/companies/'))).toHaveLength(1);
  });

  it('a failing company search degrades the lookup: contacts still pop, the failure is logged', async () => {
    await setup();
    const contact = fake.seed(
      'contacts',
      { firstname: 'Ada', lastname: 'L', phone: '+33 6 12 34 56 78' },
      { indexed: true },
    );
    fake.inject({ status: 500, on: 'search', path: '/companies/search', times: 5 });
    const ctx = testContext();
    const matches = await adapter.findContacts({ phone: parsePhone('0612345678') }, ctx);
    expect(matches.map((m) => m.id)).toEqual([contact.id]);
    expect(ctx.logger.lines.some((line) => line.includes('company search failed'))).toBe(true);
  });
});

describe('a partially failing batch (HubSpot 207)', () => {
  it('records what was created and writes the failed inputs again on their own: every call once', async () => {
    await setup();
    const calls = [0, 1, 2, 3].map((i) => sampleCallRecord({ callId: `partial-${i}` }));
    fake.inject({ kind: 'partial', on: 'write', inputs: [1, 3], category: 'INTERNAL_ERROR' });
    const refs = await Promise.all(
      calls.map((call) =>
        adapter.logCall(call, { ...createTestAdapterContext(), idempotencyKey: call.callId }),
      ),
    );
    expect(refs.every((ref) => ref.created)).toBe(true);
    const batch = fake.requests().filter((r) => r.path === '/crm/v3/objects/calls/batch/create');
    expect(batch.map((r) => r.status)).toEqual([207]);
    expect(fake.requests().filter((r) => r.path === '/crm/v3/objects/calls')).toHaveLength(2);
    const logged = fake
      .records('calls')
      .map((r) => r.properties.hs_call_external_id)
      .sort();
    expect(logged).toEqual(calls.map((c) => c.callId).sort());
  });
});

describe('rate limits as HubSpot applies them', () => {
  it('searches are not held back by the ten-secondly window (they have their own limit)', async () => {
    fake = await startFakeHubSpot({ rateLimit: { max: 2, intervalMs: 60_000, searchPerSecond: 50 } });
    adapter = hubspot({
      accessToken: fake.accessToken,
      basePath: fake.url,
      portalId: 1,
      searchCompanies: false,
      rateLimit: { max: 2, intervalMs: 60_000 },
    });
    // the window (2 per minute) is spent by writes…
    for (const id of ['s-1', 's-2']) {
      await adapter.logCall(sampleCallRecord({ callId: id }), {
        ...createTestAdapterContext(),
        idempotencyKey: id,
      });
    }
    // …and lookups still go out at once: the fake counts them outside the window, and the
    // adapter does not queue them behind it
    // (with the window applied, the adapter would refuse it at once: a wait longer than it accepts)
    const lookup = adapter.findContacts({ phone: parsePhone('+33612345670') }, createTestAdapterContext());
    await expect(lookup).resolves.toEqual([]);
    expect(fake.rateStats().rejected).toBe(0);
  });

  it('after a daily-quota 429, waits until the account resets it (resetsAt), not UTC midnight', async () => {
    fake = await startFakeHubSpot({ rateLimit: { daily: 0 }, accountUtcOffsetMinutes: -300 });
    adapter = hubspot({
      accessToken: fake.accessToken,
      basePath: fake.url,
      portalId: 1,
      batch: { windowMs: 0 },
    });
    const error = await adapter
      .logCall(sampleCallRecord(), { ...createTestAdapterContext(), idempotencyKey: 'daily-1' })
      .catch((e: unknown) => e as AdapterError);
    expect(error).toMatchObject({ kind: 'rate-limit', quota: 'daily' });
    const now = Date.now();
    const local = now - 300 * 60_000;
    const expected = Math.floor(local / 86_400_000 + 1) * 86_400_000 + 300 * 60_000 - now;
    expect(Math.abs((error as AdapterError).retryAfterMs! - expected)).toBeLessThan(5_000);
    const utcMidnight =
      Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate() + 1) -
      now;
    expect(Math.abs((error as AdapterError).retryAfterMs! - utcMidnight)).toBeGreaterThan(60_000);
  });
});

describe('an attempt the delivery worker gave up on (its timeout) keeps running', () => {
  it('its retry does not log the call a second time while it runs', async () => {
    await setup();
    fake.setIndexLag(0);
    const call = sampleCallRecord({ callId: ovhCallId(7) });
    const item = { call, idempotencyKey: `k-${call.callId}` };
    // the first attempt's duplicate check answers late: the worker times out and tries again
    fake.inject({ kind: 'delay', ms: 300, on: 'search', times: 1 });
    const abandoned = adapter.logCalls?.([item], createTestAdapterContext());
    // the retry comes while the first attempt's search is held (recorded as it arrives)
    await waitFor(() => fake.requests().some((r) => r.path.includes('/search')), 'the first search');
    const retry = await adapter.logCalls?.([item], createTestAdapterContext());
    expect(retry?.[0]).toMatchObject({ ok: false, error: { kind: 'transient', code: 'IN_PROGRESS' } });
    expect((await abandoned)?.[0]).toMatchObject({ ok: true, ref: { created: true } });
    expect(fake.records('calls')).toHaveLength(1);
    // once it is done, the next retry finds it logged
    const later = await adapter.logCalls?.([item], createTestAdapterContext());
    expect(later?.[0]).toMatchObject({ ok: true, ref: { created: false } });
    expect(fake.records('calls')).toHaveLength(1);
  });
});

describe('a retry while an earlier attempt still writes the later chunks of a long list', () => {
  it('leaves every call of that attempt to it: none is created twice', async () => {
    fake = await startFakeHubSpot({ indexLagMs: 1_000 });
    adapter = hubspot({
      accessToken: fake.accessToken,
      basePath: fake.url,
      batch: { windowMs: 0, maxSize: 10 },
    });
    const items = Array.from({ length: 12 }, (_, i) => {
      const call = sampleCallRecord({ callId: ovhCallId(100 + i) });
      return { call, idempotencyKey: `k-${call.callId}` };
    });
    // the first chunk's duplicate check answers late: the worker gives up and retries the whole list
    fake.inject({ kind: 'delay', ms: 300, on: 'search', times: 1 });
    const ctx = createTestAdapterContext();
    const abandoned = adapter.logCalls?.(items, ctx);
    await waitFor(() => fake.requests().some((r) => r.path.includes('/search')), 'the first search');
    const retry = await adapter.logCalls?.(items, ctx);
    expect(retry?.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(items.map(() => 'IN_PROGRESS'));
    expect((await abandoned)?.every((r) => r.ok)).toBe(true);
    expect(fake.records('calls')).toHaveLength(12);
  });
});

/** An adapter state whose next read, once `gate(after)` is called, is answered only after `after` settles. */
function gatedState() {
  const state = createTestAdapterState();
  let until: Promise<unknown> | undefined;
  let gateNext = false;
  const gated: AdapterState = {
    get: async (key) => {
      const gate = gateNext;
      gateNext = false;
      const answer = await state.get(key);
      if (gate) await until;
      return answer;
    },
    set: (key, value, options) => state.set(key, value, options),
    delete: (key) => state.delete(key),
  };
  return {
    gated,
    gate: (after: Promise<unknown> | undefined) => {
      until = after;
      gateNext = true;
    },
  };
}

describe('a retry that checked "already logged?" just before the earlier attempt ended', () => {
  it('checks again once it holds the call, and does not create it a second time', async () => {
    fake = await startFakeHubSpot({ indexLagMs: 60_000 });
    adapter = hubspot({ accessToken: fake.accessToken, basePath: fake.url, batch: { windowMs: 0 } });
    const call = sampleCallRecord({ callId: ovhCallId(200) });
    const item = { call, idempotencyKey: `k-${call.callId}` };
    // the retry's first read of the state is answered only once the first attempt has ended
    const { gated, gate } = gatedState();
    const ctx = createTestAdapterContext(gated);
    const first = adapter.logCalls?.([item], ctx);
    gate(first);
    const retry = await adapter.logCalls?.([item], ctx);
    expect((await first)?.[0]).toMatchObject({ ok: true, ref: { created: true } });
    expect(retry?.[0]).toMatchObject({ ok: true, ref: { created: false } });
    expect(fake.records('calls')).toHaveLength(1);
  });
});

describe('a follow-up task retried while, or just after, an earlier attempt creates it', () => {
  it('answers a retry during the attempt "in progress": tried again in a second, not after the search lag', async () => {
    fake = await startFakeHubSpot({ indexLagMs: 60_000 });
    adapter = hubspot({ accessToken: fake.accessToken, basePath: fake.url, batch: { windowMs: 0 } });
    const call = sampleCallRecord({ callId: ovhCallId(300) });
    const ctx = { ...createTestAdapterContext(), idempotencyKey: 'task-k' };
    const first = adapter.createFollowUpTask?.(call, ctx);
    const during = await adapter.createFollowUpTask?.(call, ctx).catch((e: unknown) => e as AdapterError);
    expect(during).toMatchObject({ kind: 'transient', code: 'IN_PROGRESS', retryAfterMs: 1000 });
    expect((await first)?.created).toBe(true);
    expect(fake.records('tasks')).toHaveLength(1);
  });

  it('checks "done" again once it holds the key: a retry that read it just before the attempt ended does not create a second task', async () => {
    fake = await startFakeHubSpot({ indexLagMs: 60_000 });
    adapter = hubspot({ accessToken: fake.accessToken, basePath: fake.url, batch: { windowMs: 0 } });
    const call = sampleCallRecord({ callId: ovhCallId(301) });
    const { gated, gate } = gatedState();
    const ctx = { ...createTestAdapterContext(gated), idempotencyKey: 'task-k' };
    const first = adapter.createFollowUpTask?.(call, ctx);
    gate(first);
    const after = await adapter.createFollowUpTask?.(call, ctx);
    expect(fake.records('tasks')).toHaveLength(1);
    expect(after).toMatchObject({ id: (await first)?.id, created: false });
  });
});

describe('a create whose answer never came, written by HubSpot after the client gave up', () => {
  it('is not created again before search can see it: the wait counts from the end of the attempt', async () => {
    fake = await startFakeHubSpot({ indexLagMs: 0 });
    let now = 0;
    adapter = hubspot({
      accessToken: fake.accessToken,
      basePath: fake.url,
      batch: { windowMs: 0 },
      // the search before the create must answer within this on a busy machine too, and the test
      // must see the pending mark before the create times out (100 ms once lost both under load)
      requestTimeoutMs: 1_000,
      searchLagMs: 1_000,
      clock: () => now,
    });
    const call = sampleCallRecord({ callId: ovhCallId(9) });
    const item = { call, idempotencyKey: `k-${call.callId}` };
    // HubSpot holds the create until released and then writes it; the client stops waiting after 1 s
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    fake.inject({ kind: 'late-commit', until: released, on: 'write', times: 1 });
    const ctx = createTestAdapterContext();
    const attempt = adapter.logCalls?.([item], ctx);
    // the adapter notes the create as pending (at 0) before sending it
    await waitFor(
      async () => (await ctx.state.get(`call:pending:${item.idempotencyKey}`)) === '0',
      'the create',
    );
    now = 900; // the attempt ends 900 ms after it began
    expect((await attempt)?.[0]).toMatchObject({ ok: false, error: { kind: 'transient' } });
    // 1.1 s after the attempt began, 200 ms after it ended: the create may still land
    now = 1_100;
    const early = await adapter.logCalls?.([item], ctx);
    expect(early?.[0]).toMatchObject({ ok: false, error: { code: 'OUTCOME_UNKNOWN' } });
    expect(fake.records('calls')).toHaveLength(0);
    // the late write lands; search finds it once the window has passed
    release();
    await waitFor(() => fake.records('calls').length === 1, 'the late write');
    now = 2_000;
    const later = await adapter.logCalls?.([item], ctx);
    expect(later?.[0]).toMatchObject({ ok: true, ref: { created: false } });
    expect(fake.records('calls')).toHaveLength(1);
  });
});

describe('a 429 whose Retry-After is far longer than any HubSpot window', () => {
  it('pauses the client for HubSpot’s longest window, not for the hour it says', async () => {
    fake = await startFakeHubSpot();
    fake.setIndexLag(0);
    adapter = hubspot({
      accessToken: fake.accessToken,
      basePath: fake.url,
      batch: { windowMs: 1 },
      rateLimit: { maxWaitMs: 500 },
    });
    fake.inject({ status: 429, on: 'write', times: 1, retryAfterSeconds: 3600 });
    const first = await adapter
      .logCall(sampleCallRecord({ callId: 'after-429-a' }), {
        ...createTestAdapterContext(),
        idempotencyKey: 'a',
      })
      .catch((e: unknown) => e as AdapterError);
    expect(first).toMatchObject({ kind: 'rate-limit' });
    // the next write waits for the client's own pause: at most 10 s, not 3600
    const next = await adapter
      .logCall(sampleCallRecord({ callId: 'after-429-b' }), {
        ...createTestAdapterContext(),
        idempotencyKey: 'b',
      })
      .catch((e: unknown) => e as AdapterError);
    expect(next).toMatchObject({ kind: 'rate-limit' });
    expect((next as AdapterError).retryAfterMs).toBeLessThanOrEqual(10_000);
  });
});
