import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdapterError, type OutboxEntry } from '@cti-bridge/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookSender } from './sender.js';
import { verifyWebhook, WEBHOOK_HEADERS } from './sign.js';

const SECRET = 'sender-secret-0123456789';
let server: Server;
let base: string;
let last: { headers: Record<string, unknown>; body: string } | undefined;

beforeAll(async () => {
  // Answers with the status in the path: /status/503, /status/429?retry=7, …
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += String(c);
    });
    req.on('end', () => {
      last = { headers: req.headers, body };
      const url = new URL(req.url ?? '/', 'http://x');
      const status = Number(url.pathname.split('/')[2] ?? 200);
      const headers: Record<string, string> = {};
      if (url.searchParams.has('retry')) headers['retry-after'] = url.searchParams.get('retry') as string;
      if (status === 302) headers.location = 'http://127.0.0.1:9/elsewhere';
      res.writeHead(status, headers);
      res.end('ignored body');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const entry = (body = '{"version":1}'): OutboxEntry => ({
  id: 'webhook.t:abc:call-1:call.ended',
  adapter: 'webhook.t',
  kind: 'webhook',
  payload: { type: 'call.ended', body },
  createdAt: 0,
  status: 'pending',
  attempts: 0,
  nextAttemptAt: 0,
  updatedAt: 0,
});

async function failure(path: string): Promise<AdapterError> {
  const send = webhookSender({ url: `${base}${path}`, secret: SECRET });
  try {
    await send(entry(), {});
  } catch (error) {
    expect(error).toBeInstanceOf(AdapterError);
    return error as AdapterError;
  }
  throw new Error(`expected ${path} to fail`);
}

describe('webhook sender', () => {
  it('POSTs the stored body, signed at send time, with the entry id', async () => {
    const now = 1_767_600_000_000;
    const send = webhookSender({ url: `${base}/status/204`, secret: SECRET, clock: () => now });
    await expect(send(entry('{"a":"é"}'), {})).resolves.toEqual({ id: entry().id, created: true });
    expect(last?.body).toBe('{"a":"é"}');
    expect(last?.headers[WEBHOOK_HEADERS.id]).toBe(entry().id);
    expect(last?.headers['content-type']).toBe('application/json');
    const headers = {
      timestamp: last?.headers[WEBHOOK_HEADERS.timestamp] as string,
      signature: last?.headers[WEBHOOK_HEADERS.signature] as string,
    };
    expect(headers.timestamp).toBe(String(now / 1000));
    expect(verifyWebhook(SECRET, headers, '{"a":"é"}', { now: now / 1000 })).toBe(true);
  });

  it('maps answers to retry, pause or dead letter', async () => {
    expect((await failure('/status/503')).kind).toBe('transient');
    expect((await failure('/status/408')).kind).toBe('transient');
    const limited = await failure('/status/429?retry=7');
    expect(limited).toMatchObject({ kind: 'rate-limit', retryAfterMs: 7000, status: 429 });
    expect((await failure('/status/401')).kind).toBe('auth');
    expect((await failure('/status/400')).kind).toBe('invalid');
    expect((await failure('/status/410')).kind).toBe('invalid');
    expect((await failure('/status/302')).kind).toBe('invalid');
  });

  it('a receiver that cannot be reached is a transient failure, named by host only', async () => {
    const send = webhookSender({ url: 'http://127.0.0.1:9/hook?key=query-secret', secret: SECRET });
    const error = await send(entry(), {}).catch((e: unknown) => e as AdapterError);
    expect(error).toMatchObject({ kind: 'transient' });
    expect(String((error as Error).message)).toContain('127.0.0.1:9');
    expect(String((error as Error).message)).not.toContain('query-secret');
  });

  it('an entry without a body is invalid', async () => {
    const send = webhookSender({ url: `${base}/status/204`, secret: SECRET });
    await expect(send({ ...entry(), payload: {} }, {})).rejects.toMatchObject({ kind: 'invalid' });
  });
});
