import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryAdapter } from '@cti-bridge/core';
import { createScenario, startFakeOvhEventsServer, waitFor } from '@cti-bridge/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/schema.js';
import { createLogger } from '../ops/logger.js';
import { startRunner } from '../runtime.js';
import type { WebhookEnvelope } from './payloads.js';
import { signWebhook, verifyWebhook, WEBHOOK_HEADERS } from './sign.js';

const TOKEN = 'WEBH00K0-0000-4000-8000-00000000BEEF';
const SECRET = 'whsec-test-0123456789abcdef';

/** A receiver that verifies every signature and can be told to fail. */
async function startReceiver() {
  const accepted: WebhookEnvelope[] = [];
  const acceptedIds: string[] = [];
  let failures = 0;
  let rejectedSignatures = 0;
  let down = false;
  let failNext = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const ok = verifyWebhook(
        SECRET,
        {
          timestamp: req.headers[WEBHOOK_HEADERS.timestamp] as string | undefined,
          signature: req.headers[WEBHOOK_HEADERS.signature] as string | undefined,
        },
        body,
      );
      if (!ok) {
        rejectedSignatures++;
        res.writeHead(400);
        return res.end();
      }
      if (down || failNext > 0) {
        failNext = Math.max(0, failNext - 1);
        failures++;
        res.writeHead(failures % 3 === 0 ? 429 : 503, failures % 3 === 0 ? { 'retry-after': '0' } : {});
        return res.end();
      }
      const envelope = JSON.parse(body) as WebhookEnvelope;
      expect(req.headers[WEBHOOK_HEADERS.id]).toBe(envelope.id);
      accepted.push(envelope);
      acceptedIds.push(envelope.id);
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    accepted,
    acceptedIds,
    failures: () => failures,
    rejectedSignatures: () => rejectedSignatures,
    setDown(value: boolean) {
      down = value;
    },
    failNext(n: number) {
      failNext = n;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cti-webhooks-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

let stateFiles = 0;

/** A config with its own state file (a test's runners share it; tests never do). */
function configFor(ovhUrl: string, hookUrl: string, crm: ReturnType<typeof memoryAdapter>, events: string[]) {
  return parseConfig({
    store: { kind: 'sqlite', path: join(dir, `state-${++stateFiles}.db`) },
    adapters: { crm },
    tokens: { [TOKEN]: { adapters: ['crm'] } },
    delivery: { baseDelayMs: 10, maxDelayMs: 50, maxAttempts: 100 },
    http: false,
    logging: { level: 'silent' },
    ovh: { baseUrl: ovhUrl, pollTimeoutMs: 5000 },
    webhooks: [
      {
        name: 'n8n',
        url: hookUrl,
        events,
        secret: SECRET,
        // retried fast, and never given up while a test keeps the receiver down (a slow machine
        // would turn the pending event into a dead letter before the restart)
        delivery: { baseDelayMs: 10, maxDelayMs: 40, maxAttempts: 100_000 },
      },
    ],
  });
}

describe('webhook signatures', () => {
  it('verify accepts the signed body only, recent, with any of several v1 values', () => {
    const now = 1_760_000_000;
    const body = '{"a":1}';
    const signature = signWebhook(SECRET, now, body);
    expect(signature).toMatch(/^v1=[0-9a-f]{64}$/);
    const headers = { timestamp: String(now), signature };
    expect(verifyWebhook(SECRET, headers, body, { now })).toBe(true);
    expect(verifyWebhook(SECRET, headers, '{"a":2}', { now })).toBe(false);
    expect(verifyWebhook('another-secret-0123456', headers, body, { now })).toBe(false);
    expect(verifyWebhook(SECRET, headers, body, { now: now + 301 })).toBe(false);
    expect(
      verifyWebhook(SECRET, { timestamp: String(now), signature: `v1=00, ${signature}` }, body, { now }),
    ).toBe(true);
  });
});

describe('webhooks through the outbox', () => {
  it('a receiver that fails then recovers gets every event, signed, exactly once', async () => {
    const ovh = await startFakeOvhEventsServer({ holdMs: 100 });
    const receiver = await startReceiver();
    const crm = memoryAdapter({
      name: 'crm',
      contacts: [{ id: 'alice', name: 'Alice Martin', phone: '+33 6 12 34 56 78' }],
    });
    const scenario = createScenario({ token: TOKEN });
    scenario.inboundAnswered({
      from: '0612345678',
      to: '0972101010',
      ringSeconds: 5,
      talkSeconds: 30,
      callId: 'w-1',
    });
    scenario.inboundMissed({ from: '0699999999', to: '0972101011', ringSeconds: 5, callId: 'w-2' });
    scenario.queueAnswered({
      queue: '0972000000',
      caller: '0611111111',
      agents: ['0972101010'],
      answeredBy: '0972101010',
      waitSeconds: 4,
      talkSeconds: 10,
      memberUuid: 'm-1',
    });
    receiver.failNext(7);
    const runner = await startRunner({
      config: configFor(ovh.url, receiver.url, crm, ['call.*', 'queue.*']),
      logger: createLogger({ level: 'silent' }),
    });
    try {
      ovh.push(TOKEN, scenario.events());
      // 3 call events (ringing, answered, ended) + 2 (missed: ringing, ended) + 2 logged + queue.
      await waitFor(
        () => receiver.acceptedIds.filter((id) => id.endsWith(':call.logged:crm')).length === 2,
        'both calls logged',
      );
      await waitFor(
        async () => (await runner.store.outbox.counts('webhook.n8n')).pending === 0,
        'outbox empty',
      );
      expect(receiver.failures()).toBeGreaterThanOrEqual(7);
      expect(receiver.rejectedSignatures()).toBe(0);
      expect(new Set(receiver.acceptedIds).size).toBe(receiver.acceptedIds.length);
      const types = receiver.accepted.map(
        (e) => `${e.type}:${(e.data as { call?: { id: string } }).call?.id ?? ''}`,
      );
      for (const expected of [
        'call.ringing:w-1',
        'call.answered:w-1',
        'call.ended:w-1',
        'call.ringing:w-2',
        'call.ended:w-2',
        'queue.joined:',
        'queue.offered:',
        'queue.answered:',
        'queue.left:',
      ]) {
        expect(types).toContain(expected);
      }
      const ringing = receiver.accepted.find((e) => e.type === 'call.ringing' && e.id.includes('w-1'));
      expect(ringing).toMatchObject({
        version: 1,
        data: {
          call: { id: 'w-1', caller: '+33612345678' },
          contacts: [{ name: 'Alice Martin', crm: 'crm' }],
        },
      });
      const logged = receiver.accepted.find((e) => e.type === 'call.logged' && e.id.includes('w-1'));
      expect(logged?.data).toMatchObject({ callId: 'w-1', crm: 'crm', activity: { created: true } });
      expect(JSON.stringify(receiver.accepted)).not.toContain(TOKEN);
      expect((await runner.store.outbox.counts('webhook.n8n')).dead).toBe(0);
    } finally {
      await runner.stop(500);
      await receiver.close();
      await ovh.close();
    }
  });

  it('only subscribed events are sent; events pending at shutdown are delivered after a restart', async () => {
    const ovh = await startFakeOvhEventsServer({ holdMs: 100 });
    const receiver = await startReceiver();
    const crm = memoryAdapter({ name: 'crm' });
    receiver.setDown(true);
    const config = configFor(ovh.url, receiver.url, crm, ['call.ended']);
    const first = await startRunner({ config, logger: createLogger({ level: 'silent' }) });
    const scenario = createScenario({ token: TOKEN });
    scenario.inboundMissed({ from: '0699999999', to: '0972101011', ringSeconds: 5, callId: 'p-1' });
    ovh.push(TOKEN, scenario.events());
    await waitFor(
      async () => (await first.store.outbox.counts('webhook.n8n')).pending === 1,
      'pending webhook',
    );
    await first.stop(100);
    expect(receiver.accepted).toHaveLength(0);

    receiver.setDown(false);
    const second = await startRunner({ config, logger: createLogger({ level: 'silent' }) });
    try {
      // a loaded machine (CI runs several test files at once) may take a while to restart the runner
      await waitFor(
        async () => (await second.store.outbox.counts('webhook.n8n')).delivered === 1,
        'delivered after restart',
        { timeoutMs: 45_000 },
      );
      expect(receiver.accepted[0]).toMatchObject({
        type: 'call.ended',
        data: { call: { id: 'p-1', outcome: 'missed' } },
      });
      // The attempt the first runner cancelled at its stop may still have reached the receiver
      // (which had come back up): then it got the event twice, under one id, to deduplicate on.
      // Counted once the second runner has stopped too: no attempt of either is in flight then.
      await second.stop(500);
      expect(receiver.accepted.length).toBeLessThanOrEqual(2);
      expect(new Set(receiver.acceptedIds)).toEqual(new Set([receiver.accepted[0]?.id]));
    } finally {
      await second.stop(500);
      await receiver.close();
      await ovh.close();
    }
  }, 90_000);
});
