import 'reflect-metadata';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memoryAdapter, type RawOvhEvent } from '@cti-bridge/core';
import { createScenario, type FakeOvhEventsServer, startFakeOvhEventsServer } from '@cti-bridge/core/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/schema.js';
import { CONTACTS, DEMO_TOKEN, demoDay, LINE_LABELS } from '../demo/day.js';
import { createLogger } from '../ops/logger.js';
import { type Runner, startRunner } from '../runtime.js';
import { type Chromium, launchChromium, NOTIFICATION_STUB } from './__fixtures__/chromium.js';

const TOKEN = 'B0A4D000-0000-4000-8000-00000000B0A4';
const EVIL = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';

let chromium: Chromium = { ok: false, reason: 'not launched' };
let crmUi: Server;
let crmUrl: string;
let ovh: FakeOvhEventsServer;
let dir: string;

beforeAll(async () => {
  chromium = await launchChromium();
  if (!chromium.ok) {
    console.warn(
      `\n⚠⚠⚠ BROWSER TESTS OF THE LIVE BOARD SKIPPED: ${chromium.reason}. Install it (apt-get install -y chromium) to run them. ⚠⚠⚠\n`,
    );
    return;
  }
  // A stand-in for the CRM's web UI: the record links of the board must open a real page.
  crmUi = createServer((req, res) => {
    const id = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(
      `<!doctype html><title>CRM record</title><h1 id="record">CRM record ${id.replace(/\W/g, '')}</h1>`,
    );
  });
  await new Promise<void>((r) => crmUi.listen(0, '127.0.0.1', r));
  crmUrl = `http://127.0.0.1:${(crmUi.address() as AddressInfo).port}`;
  ovh = await startFakeOvhEventsServer({ holdMs: 100 });
  dir = mkdtempSync(join(tmpdir(), 'cti-board-browser-'));
}, 30_000);

afterAll(async () => {
  if (!chromium.ok) return;
  await chromium.close();
  crmUi.closeAllConnections();
  await new Promise((r) => crmUi.close(r));
  await ovh.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `it`, or a loud skip without a browser. */
const bit = (name: string, fn: () => Promise<void>, timeout = 30_000) =>
  it(
    name,
    async (ctx) => {
      if (!chromium.ok) {
        console.warn(`⚠ skipped "${name}": ${chromium.reason}`);
        ctx.skip();
        return;
      }
      await fn();
    },
    timeout,
  );

function crm() {
  return memoryAdapter({
    name: 'crm',
    baseUrl: crmUrl,
    contacts: [
      { id: 'alice', name: 'Alice Martin', phone: '+33 6 12 34 56 78', companyName: 'Martin SARL' },
      { id: 'evil', name: EVIL, phone: '+33 6 66 66 66 66' },
      { id: 'dup-1', name: 'Paul Durand', phone: '+33 6 77 77 77 77' },
      { id: 'dup-2', name: 'Pauline Durand', phone: '+33 6 77 77 77 77' },
    ],
  });
}

let dbCount = 0;
function config(options: { port?: number; boardToken?: string; db?: string } = {}) {
  return parseConfig({
    store: { kind: 'sqlite', path: options.db ?? join(dir, `board-${++dbCount}.db`) },
    adapters: { crm: crm() },
    tokens: { [TOKEN]: { adapters: ['crm'] } },
    delivery: { baseDelayMs: 20, maxDelayMs: 100 },
    http: {
      port: options.port ?? 0,
      host: '127.0.0.1',
      ...(options.boardToken ? { boardToken: options.boardToken } : {}),
    },
    logging: { level: 'silent' },
    ovh: { baseUrl: ovh.url, pollTimeoutMs: 5000 },
    pipeline: { snapshotIntervalMs: 100 },
  });
}

const start = (cfg: ReturnType<typeof config>) =>
  startRunner({ config: cfg, logger: createLogger({ level: 'silent' }) });

async function openBoard(runner: Runner, query = ''): Promise<Page> {
  if (!chromium.ok) throw new Error(chromium.reason);
  const page = await chromium.context.newPage();
  await page.addInitScript(NOTIFICATION_STUB);
  await page.goto(`${runner.http?.url}/${query}`);
  await page.locator('#status[data-state="live"]').waitFor({ timeout: 10_000 });
  return page;
}

/** A call's events, split at its answer and end (raw, as the fake OVH server sends them). */
function callEvents(callId: string, from: string, to = '0972101010') {
  const events = createScenario({ token: TOKEN, start: new Date(Date.now() - 5_000) })
    .inboundAnswered({ from, to, ringSeconds: 2, talkSeconds: 3, callId })
    .events();
  const kind = (e: RawOvhEvent) => String(e.Event).toLowerCase();
  const answer = events.findIndex((e) => kind(e) === 'start_calling');
  const end = events.findIndex((e) => kind(e) === 'end_calling');
  return { ring: events.slice(0, answer), answer: events.slice(answer, end), end: events.slice(end) };
}

describe('live board in Chromium', () => {
  bit(
    'a ring on the fake OVH server shows the caller and a working CRM link; answer, hang-up and logging follow',
    async () => {
      const runner = await start(config());
      try {
        const page = await openBoard(runner);
        const call = callEvents('b-1', '0612345678');
        ovh.push(TOKEN, call.ring);
        const card = page.locator('#lines [data-call-id="b-1"]');
        await card.locator('.caller-name', { hasText: 'Alice Martin' }).waitFor();
        await expect(card.getAttribute('data-state')).resolves.toBe('ringing');
        await expect(card.locator('.sub').textContent()).resolves.toContain('Martin SARL');
        const link = card.locator('a.crm-link');
        await expect(link.getAttribute('href')).resolves.toBe(`${crmUrl}/contacts/alice`);
        // The link opens the record (a real page on the stand-in CRM UI).
        const [record] = await Promise.all([page.context().waitForEvent('page'), link.click()]);
        await record.waitForLoadState();
        await expect(record.locator('#record').textContent()).resolves.toBe('CRM record alice');
        await record.close();

        ovh.push(TOKEN, call.answer);
        await page.locator('#lines [data-call-id="b-1"][data-state="answered"]').waitFor();
        await expect(
          page.locator('#lines [data-call-id="b-1"] .answered-by').textContent(),
        ).resolves.toContain('answered on');
        ovh.push(TOKEN, call.end);
        await page.locator('#lines [data-call-id="b-1"]').waitFor({ state: 'detached' });
        await page.locator('#recent tr[data-call-id="b-1"] [data-crm="crm"][data-status="logged"]').waitFor();

        // The pop-up: a notification named after the caller; clicking it opens the record.
        const notifications = await page.evaluate(() =>
          (globalThis as unknown as { __notifications: { title: string }[] }).__notifications.map(
            (n) => n.title,
          ),
        );
        expect(notifications).toEqual(['Alice Martin']);
        await page.evaluate(() => {
          const w = globalThis as unknown as { __notifications: { onclick: (() => void) | null }[] };
          w.__notifications[0]?.onclick?.();
        });
        await expect(
          page.evaluate(() => (globalThis as unknown as { __opened: string[] }).__opened),
        ).resolves.toEqual([`${crmUrl}/contacts/alice`]);
        await page.close();
      } finally {
        await runner.stop(500);
      }
    },
  );

  bit('a contact named <script>… is shown as text, never run; ambiguous matches are listed', async () => {
    const runner = await start(config());
    try {
      const page = await openBoard(runner);
      ovh.push(TOKEN, callEvents('x-1', '0666666666').ring);
      ovh.push(TOKEN, callEvents('x-2', '0677777777', '0972101011').ring);
      const name = page.locator('#lines [data-call-id="x-1"] .caller-name');
      await name.waitFor();
      await page.locator('#lines [data-call-id="x-1"] a.crm-link').waitFor();
      await expect(name.textContent()).resolves.toBe(EVIL);
      await expect(
        page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned),
      ).resolves.toBeUndefined();
      await expect(page.locator('#lines script, #lines img').count()).resolves.toBe(0);
      const dup = page.locator('#lines [data-call-id="x-2"]');
      await dup.locator('.ambiguous').waitFor();
      await expect(dup.locator('a.crm-link').allTextContents()).resolves.toEqual([
        'Paul Durand',
        'Pauline Durand',
      ]);
      // Filtered by line in the URL: only that line's calls.
      const mine = await openBoard(runner, '?line=09%2072%2010%2010%2011');
      await mine.locator('#lines [data-call-id="x-2"]').waitFor();
      await expect(mine.locator('#lines [data-call-id="x-1"]').count()).resolves.toBe(0);
      await expect(mine.locator('#filter').textContent()).resolves.toContain('09 72 10 10 11');
      await page.close();
      await mine.close();
    } finally {
      await runner.stop(500);
    }
  });

  bit('after a runner restart the page reconnects by itself and shows the current state', async () => {
    const db = join(dir, 'restart.db');
    const first = await start(config({ db }));
    const port = Number(new URL(first.http?.url ?? '').port);
    const page = await openBoard(first);
    const done = callEvents('s-1', '0612345678');
    ovh.push(TOKEN, [...done.ring, ...done.answer, ...done.end]);
    await page.locator('#recent tr[data-call-id="s-1"] [data-status="logged"]').waitFor();
    const ringing = callEvents('s-2', '0677777777', '0972101011');
    ovh.push(TOKEN, ringing.ring);
    await page.locator('#lines [data-call-id="s-2"]').waitFor();
    await first.stop(500);
    await page.locator('#status[data-state="reconnecting"]').waitFor();
    // While it is down, the call is answered: the next run learns it from OVH.
    ovh.push(TOKEN, ringing.answer);
    const second = await start(config({ db, port }));
    try {
      await page.locator('#status[data-state="live"]').waitFor({ timeout: 10_000 });
      await page.locator('#lines [data-call-id="s-2"][data-state="answered"]').waitFor();
      await page.locator('#recent tr[data-call-id="s-1"] [data-status="logged"]').waitFor();
      ovh.push(TOKEN, ringing.end);
      await page.locator('#recent tr[data-call-id="s-2"]').waitFor();
      await page.close();
    } finally {
      await second.stop(500);
    }
  });

  bit('with http.boardToken the page needs the token; it never receives the OVH token', async () => {
    const boardToken = 'board-token-for-tests-0123';
    const runner = await start(config({ boardToken }));
    try {
      if (!chromium.ok) return;
      const page = await chromium.context.newPage();
      // (Chromium's own navigation would show its sign-in prompt: headless, it has none.)
      const refused = await page.request.get(`${runner.http?.url}/`);
      expect(refused.status()).toBe(401);
      expect(refused.headers()['www-authenticate']).toContain('Basic');
      await expect(refused.text()).resolves.toContain('needs its token');
      expect((await page.request.get(`${runner.http?.url}/events`)).status()).toBe(401);
      const sse: string[] = [];
      page.on('response', (r) => {
        if (r.url().endsWith('/events')) sse.push(String(r.status()));
      });
      await page.goto(`${runner.http?.url}/?token=${boardToken}`);
      expect(new URL(page.url()).search).toBe('');
      await page.locator('#status[data-state="live"]').waitFor();
      ovh.push(TOKEN, callEvents('a-1', '0612345678').ring);
      await page.locator('#lines [data-call-id="a-1"] .caller-name', { hasText: 'Alice Martin' }).waitFor();
      const html = await page.content();
      const state = await page.evaluate(async () => (await fetch('/board/state')).text());
      for (const text of [html, state]) {
        expect(text).not.toContain(TOKEN);
        expect(text).not.toContain(boardToken);
      }
      await page.close();
    } finally {
      await runner.stop(500);
    }
  });

  bit(
    'README screenshot: the board during the demo day',
    async () => {
      const start0 = new Date();
      start0.setHours(start0.getHours() - 3);
      const { phases } = demoDay(start0);
      const demoCrm = memoryAdapter({
        name: 'salesforce',
        baseUrl: 'https://acme.lightning.force.com',
        contacts: CONTACTS.map((c) => ({ name: c.name, phone: c.phones.salesforce, kind: c.kind })),
      });
      const runner = await startRunner({
        config: parseConfig({
          store: { kind: 'sqlite', path: join(dir, 'demo.db') },
          adapters: { salesforce: demoCrm },
          tokens: {
            [DEMO_TOKEN]: { adapters: ['salesforce'], defaultCountry: 'FR', lineLabels: LINE_LABELS },
          },
          http: { port: 0, host: '127.0.0.1' },
          logging: { level: 'silent' },
          ovh: { baseUrl: ovh.url, pollTimeoutMs: 5000 },
        }),
        logger: createLogger({ level: 'silent' }),
      });
      try {
        const page = await openBoard(runner);
        const all = phases.flatMap((p) => p.calls);
        // Every call but the last two ends; those two stay ringing/talking for the picture.
        const ended = all.slice(0, -2).flatMap((c) => c.events);
        const live = all
          .slice(-2)
          .flatMap((c) => c.events.filter((e) => !/^end_calling$/i.test(String(e.Event))));
        ovh.push(DEMO_TOKEN, [...ended, ...live]);
        await page.locator('#recent [data-status="logged"]').first().waitFor({ timeout: 15_000 });
        await page.waitForTimeout(500);
        const docs = fileURLToPath(new URL('../../../../docs/', import.meta.url));
        mkdirSync(docs, { recursive: true });
        if (process.env.CTI_BOARD_SCREENSHOT === '1') {
          await page.screenshot({ path: join(docs, 'board.png'), fullPage: true });
        }
        await page.close();
      } finally {
        await runner.stop(500);
      }
    },
    45_000,
  );
});
