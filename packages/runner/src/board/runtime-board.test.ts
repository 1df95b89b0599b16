import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { memoryAdapter } from '@cti-bridge/core';
import { startFakeOvhEventsServer } from '@cti-bridge/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/schema.js';
import { createLogger } from '../ops/logger.js';
import { startRunner } from '../runtime.js';

const TOKEN = 'B0A4D5E7-0000-4000-8000-00000000B0A4';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cti-board-runtime-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function config(http: Record<string, unknown>, webhooks: unknown[] = []) {
  return parseConfig({
    store: { kind: 'sqlite', path: join(dir, 'state.db') },
    adapters: { crm: memoryAdapter({ name: 'crm' }) },
    tokens: { [TOKEN]: { adapters: ['crm'] } },
    http: { port: 0, ...http },
    webhooks,
    logging: { level: 'info' },
    ovh: { baseUrl: 'http://127.0.0.1:9', pollTimeoutMs: 5000 },
  });
}

function lines() {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk, _e, done) {
      out.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { out, logger: createLogger({ level: 'info', destination: stream }) };
}

describe('the runner serves the board', () => {
  it('at / on loopback, counts its pages in /metrics with the webhook outbox, and logs its URL', async () => {
    const ovh = await startFakeOvhEventsServer({ holdMs: 100 });
    const log = lines();
    const runner = await startRunner({
      config: {
        ...config({ host: '127.0.0.1' }, [
          { name: 'x', url: 'http://127.0.0.1:9/hook', events: ['*'], secret: 'a-webhook-secret-0123' },
        ]),
        ovh: { baseUrl: ovh.url, pollTimeoutMs: 5000 },
      },
      logger: log.logger,
    });
    try {
      const url = runner.http?.url as string;
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<script src="board.js" defer></script>');
      const events = await fetch(`${url}/events`);
      expect(events.headers.get('content-type')).toContain('text/event-stream');
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toContain('cti_board_pages{state="connected"} 1');
      expect(metrics).toMatch(/cti_outbox_entries\{adapter="webhook\.x",status="pending"\} 0/);
      await events.body?.cancel();
      expect(log.out.some((l) => l.includes('live call board listening'))).toBe(true);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      await runner.stop(200);
      await ovh.close();
    }
  });

  it('not beyond loopback without a token: a warning says so, and / is not served', async () => {
    const log = lines();
    const runner = await startRunner({ config: config({ host: '0.0.0.0' }), logger: log.logger });
    try {
      const port = new URL(runner.http?.url as string).port;
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect(log.out.some((l) => l.includes('the live board is not served'))).toBe(true);
    } finally {
      await runner.stop(200);
    }
  });
});
