import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  AdapterError,
  createMemoryStore,
  memoryAdapter,
  type RawOvhEvent,
  silentLogger,
} from '@cti-bridge/core';
import { createScenario, startFakeOvhEventsServer, waitFor } from '@cti-bridge/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from './config/schema.js';
import { createLogger } from './ops/logger.js';
import { createMetrics } from './ops/metrics.js';
import { maskToken, registerSecret } from './ops/secrets.js';
import { measuredAdapter, startRunner } from './runtime.js';
import { createSqliteStore } from './store/sqlite-store.js';
import { tokenReference } from './store/token-safe-store.js';

const TOKEN = 'AB12CD34-0000-4000-8000-00000000CAFE';

/** Collects log lines written by the runner's logger. */
function memoryDestination(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, lines };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cti-runtime-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function configFor(ovhUrl: string, crm: ReturnType<typeof memoryAdapter>, dbPath: string) {
  return parseConfig({
    store: { kind: 'sqlite', path: dbPath },
    adapters: { crm },
    tokens: { [TOKEN]: { adapters: ['crm'] } },
    delivery: { baseDelayMs: 20, maxDelayMs: 100, maxAttempts: 100 },
    pipeline: { snapshotIntervalMs: 50 },
    http: { port: 0, host: '127.0.0.1' },
    logging: { level: 'info' },
    ovh: { baseUrl: ovhUrl, pollTimeoutMs: 5000 },
  });
}

describe('runner runtime', () => {
  it('a restart resumes undelivered activities and calls in flight, each logged exactly once', async () => {
    const ovh = await startFakeOvhEventsServer({ holdMs: 200 });
    const dbPath = join(dir, 'state.db');
    // The "CRM" outlives the runner: the same adapter instance serves both runs.
    const crm = memoryAdapter({
      name: 'crm',
      contacts: [{ name: 'Alice Martin', phone: '+33 6 12 34 56 78' }],
    });
    const scenario = createScenario({ token: TOKEN });
    scenario.inboundAnswered({
      from: '0612345678',
      to: '0033972101010',
      ringSeconds: 5,
      talkSeconds: 60,
      callId: 'done-1',
    });
    scenario.inboundMissed({ from: '+33699001122', to: '0033972101011', ringSeconds: 20, callId: 'done-2' });
    const completed = scenario.events();
    scenario.inboundAnswered({
      from: '0612345678',
      to: '0033972101012',
      ringSeconds: 3,
      talkSeconds: 90,
      callId: 'flight-3',
    });
    const inFlight = scenario.events().slice(completed.length);
    const lastEvent = inFlight.at(-1) as RawOvhEvent;
    expect((lastEvent.Event as string).toLowerCase()).toBe('end_calling');
    const firstHalf = inFlight.slice(0, -1);

    // Run 1: the CRM is down; two calls end, a third is still going when the runner stops.
    crm.failNext('transient', 10_000, { on: 'write' });
    const logs = memoryDestination();
    const first = await startRunner({
      config: configFor(ovh.url, crm, dbPath),
      logger: createLogger({ level: 'info', destination: logs.stream }),
    });
    ovh.push(TOKEN, [...completed, ...firstHalf]);
    await waitFor(async () => (await first.store.outbox.counts()).pending === 2, 'two pending entries');
    await waitFor(
      async () => ((await first.store.snapshots.load('tracker')) ?? '').includes('flight-3'),
      'snapshot',
    );
    await first.stop(100);
    expect(crm.activities).toHaveLength(0);

    // Run 2, on the same file: the CRM is back; the in-flight call ends.
    crm.clearFaults();
    const second = await startRunner({
      config: configFor(ovh.url, crm, dbPath),
      logger: createLogger({ level: 'silent' }),
    });
    ovh.push(TOKEN, [lastEvent]);
    await waitFor(() => crm.activitiesFor('flight-3').length === 1, 'the in-flight call logged');
    await waitFor(async () => (await second.store.outbox.counts()).pending === 0, 'outbox drained');
    await second.stop(1000);
    await ovh.close();

    for (const id of ['done-1', 'done-2', 'flight-3']) {
      expect(
        crm.activitiesFor(id).filter((a) => a.type === 'call'),
        id,
      ).toHaveLength(1);
    }
    expect(crm.activitiesFor('flight-3')[0]?.durationSeconds).toBe(90);
    const reopened = createSqliteStore({ path: dbPath });
    expect(await reopened.outbox.counts('crm')).toMatchObject({ pending: 0, dead: 0 });
    // the stream cursor was persisted for the token, under its reference (never the token in clear)
    expect(await reopened.cursors.get(tokenReference(TOKEN))).toBeTruthy();
    expect(await reopened.cursors.get(TOKEN)).toBeUndefined();
    await reopened.close();
    // the token never appears whole in the logs
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(logs.lines.join('\n')).not.toContain(TOKEN);
  });

  it('serves /healthz, /readyz per token and adapter, and Prometheus /metrics', async () => {
    const ovh = await startFakeOvhEventsServer({ holdMs: 200 });
    const crm = memoryAdapter({ name: 'crm' });
    const runner = await startRunner({
      config: configFor(ovh.url, crm, join(dir, 'h.db')),
      logger: createLogger({ level: 'silent' }),
    });
    try {
      const scenario = createScenario({ token: TOKEN });
      scenario.inboundMissed({ from: '+33699001122', to: '0033972101011', ringSeconds: 20, callId: 'm-1' });
      ovh.push(TOKEN, scenario.events());
      await waitFor(() => crm.activitiesFor('m-1').length === 1, 'the call logged');
      const url = runner.http?.url as string;
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      const ready = await fetch(`${url}/readyz`);
      const body = (await ready.json()) as {
        status: string;
        tokens: Record<string, { ok: boolean }>;
        adapters: Record<string, unknown>;
      };
      expect(ready.status).toBe(200);
      expect(body.status).toBe('ready');
      expect(Object.keys(body.tokens)).toEqual(['AB12CD34…']);
      expect(Object.keys(body.adapters)).toEqual(['crm']);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/cti_events_total\{token="AB12CD34…"\} 2/);
      expect(metrics).toMatch(/cti_calls_total\{token="AB12CD34…",direction="inbound",outcome="missed"\} 1/);
      expect(metrics).toMatch(/cti_deliveries_total\{adapter="crm",kind="log-call"\} 1/);
      expect(metrics).toMatch(/cti_lookup_duration_seconds_count\{adapter="crm"\} 1/);
      expect(metrics).toMatch(/cti_outbox_entries\{adapter="crm",status="delivered"\} 1/);
      expect((await fetch(`${url}/nope`)).status).toBe(404);
    } finally {
      await runner.stop(1000);
      await ovh.close();
    }
  });
});

describe('readiness', () => {
  it('/readyz turns 503 naming the adapter when its writes keep failing, and recovers', async () => {
    const ovh = await startFakeOvhEventsServer({ holdMs: 200 });
    const crm = memoryAdapter({ name: 'crm' });
    const runner = await startRunner({
      config: configFor(ovh.url, crm, join(dir, 'r.db')),
      logger: createLogger({ level: 'silent' }),
    });
    try {
      const url = `${runner.http?.url}/readyz`;
      crm.failNext('auth', 1_000_000, { on: 'write' });
      const scenario = createScenario({ token: TOKEN });
      scenario.inboundMissed({ from: '+33699001122', to: '0033972101011', ringSeconds: 20, callId: 'f-1' });
      ovh.push(TOKEN, scenario.events());
      let body: { adapters: Record<string, { ok: boolean; message: string }> } | undefined;
      await waitFor(async () => {
        const response = await fetch(url);
        body = (await response.json()) as typeof body;
        return response.status === 503;
      }, 'not ready');
      expect(body?.adapters.crm?.ok).toBe(false);
      expect(body?.adapters.crm?.message).toMatch(/write\(s\) failed in a row since \S+ \(auth: /);
      expect(body?.adapters.crm?.message).toContain('fix the credentials of this adapter');
      // Once the credentials are fixed, the next successful write makes it ready again.
      crm.clearFaults();
      const next = createScenario({ token: TOKEN, start: new Date(Date.UTC(2026, 0, 6)) });
      next.inboundMissed({ from: '+33699001122', to: '0033972101011', ringSeconds: 20, callId: 'f-2' });
      ovh.push(TOKEN, next.events());
      await waitFor(async () => (await fetch(url)).status === 200, 'ready again');
      // f-2 waits out the settle window before it is logged
      await waitFor(async () => crm.activitiesFor('f-2').length === 1, 'f-2 logged');
      expect(crm.activitiesFor('f-2')).toHaveLength(1);
    } finally {
      await runner.stop(1000);
      await ovh.close();
    }
  });
});

describe('readiness tells the truth', () => {
  it('failing lookups make /readyz 503, saying since when', async () => {
    const ovh = await startFakeOvhEventsServer({ holdMs: 200 });
    const crm = memoryAdapter({ name: 'crm' });
    // lookups fail (the CRM cannot be searched), and every item of every batch is refused
    crm.failNext('transient', 1_000_000, { on: 'lookup' });
    const runner = await startRunner({
      config: configFor(ovh.url, crm, join(dir, 'b.db')),
      logger: createLogger({ level: 'silent' }),
    });
    try {
      const url = `${runner.http?.url}/readyz`;
      const scenario = createScenario({ token: TOKEN });
      for (let i = 0; i < 6; i++) {
        scenario.inboundMissed({
          from: `+3369900112${i}`,
          to: '0033972101011',
          ringSeconds: 5,
          callId: `l-${i}`,
        });
      }
      ovh.push(TOKEN, scenario.events());
      let body:
        | { adapters: Record<string, { ok: boolean; message: string }>; store?: { ok: boolean } }
        | undefined;
      await waitFor(async () => {
        const response = await fetch(url);
        body = (await response.json()) as typeof body;
        return response.status === 503;
      }, 'not ready on failing lookups');
      expect(body?.adapters.crm?.message).toMatch(/lookup\(s\) failed in a row since \d{4}-/);
      expect(body?.store).toMatchObject({ ok: true, message: 'writable' });
    } finally {
      await runner.stop(1000);
      await ovh.close();
    }
  });

  it('a batch write that resolves with every item failed counts as a failed write', () => {
    const health = { failuresInARow: 0, lookupFailuresInARow: 0 };
    const crm = memoryAdapter({ name: 'crm' });
    const failing = {
      ...crm,
      logCalls: async (items: readonly unknown[]) =>
        items.map(() => ({
          ok: false as const,
          error: new AdapterError('transient', 'HubSpot answered 500'),
        })),
    };
    const metrics = createMetrics();
    const measured = measuredAdapter('crm', failing, metrics, health);
    return (async () => {
      for (let i = 0; i < 5; i++)
        await measured.logCalls!([{} as never, {} as never], {
          logger: silentLogger,
          state: undefined as never,
        });
      expect(health.failuresInARow).toBeGreaterThanOrEqual(5);
    })();
  });

  it('a store that cannot be written makes /readyz 503', async () => {
    const ovh = await startFakeOvhEventsServer({ holdMs: 200 });
    const crm = memoryAdapter({ name: 'crm' });
    const memory = createMemoryStore();
    let diskFull = false;
    const store = {
      ...memory,
      kv: {
        ...memory.kv,
        set: async (...args: Parameters<typeof memory.kv.set>) => {
          if (diskFull) throw new Error('database or disk is full');
          return memory.kv.set(...args);
        },
      },
    };
    const runner = await startRunner({
      config: configFor(ovh.url, crm, join(dir, 'unused.db')),
      logger: createLogger({ level: 'silent' }),
      store,
    });
    try {
      const url = `${runner.http?.url}/readyz`;
      await waitFor(async () => (await fetch(url)).status === 200, 'ready');
      diskFull = true;
      const response = await fetch(url);
      expect(response.status).toBe(503);
      expect(((await response.json()) as { store: { message: string } }).store.message).toContain(
        'disk is full',
      );
      diskFull = false;
      expect((await fetch(url)).status).toBe(200);
    } finally {
      await runner.stop(1000);
      await ovh.close();
    }
  });
});

describe('logger', () => {
  it('redacts secret keys and scrubs registered secret values', () => {
    const logs = memoryDestination();
    registerSecret('pat-na1-0000-super-secret');
    const logger = createLogger({ level: 'info', destination: logs.stream });
    logger.info({ accessToken: 'abc-visible?', nested: { password: 'hunter2' } }, 'connecting');
    logger.info(
      { url: 'https://x.test/?key=pat-na1-0000-super-secret' },
      'calling pat-na1-0000-super-secret',
    );
    const text = logs.lines.join('\n');
    expect(text).not.toContain('abc-visible?');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('pat-na1-0000-super-secret');
    expect(text).toContain('[REDACTED]');
    expect(JSON.parse(logs.lines[1] as string).msg).toBe('calling [REDACTED]');
  });

  it('shows which OVH token a line is about, masked, and never the token itself', () => {
    const logs = memoryDestination();
    const token = '1738D072-AAAA-4BBB-8CCC-DDDDEEEEFFFF';
    registerSecret(token, maskToken(token));
    const logger = createLogger({ level: 'info', destination: logs.stream });
    logger.warn({ token: maskToken(token) }, 'OVH token silent');
    logger.warn({ url: `https://events.voip.ovh.net/?token=${token}` }, 'poll failed');
    const [silent, failed] = logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(silent?.token).toBe('1738D072…');
    expect(failed?.url).toBe('https://events.voip.ovh.net/?token=1738D072…');
    expect(logs.lines.join('\n')).not.toContain(token);
  });
});
