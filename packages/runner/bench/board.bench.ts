// Live board benchmarks, on a child process running the CLI (`run`) against the fake OVH events
// server and watched by Debian's Chromium (playwright-core):
// - ring → text visible: from the moment a ring is handed to the fake OVH server to the moment the
//   caller's CRM name is in a board page's DOM, p50 and p99 over 200 rings, one at a time;
// - the runner's RSS with 50 boards connected to /events (one browser page and 49 event-stream
//   clients: a browser holds at most six connections per host over HTTP/1.1).
// Without Chromium it says so and measures nothing.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createScenario, startFakeOvhEventsServer } from '@cti-bridge/core/testing';
import { benchReporter } from '../../../scripts/bench-kit.js';
import { launchChromium } from '../src/board/__fixtures__/chromium.js';

const RINGS = 200;
const BOARDS = 50;
const TOKEN = 'B0A4DBE0-0000-4000-8000-00000000BE0C';

const dist = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const source = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const useDist = existsSync(dist);
const cliArgs = useDist ? [dist] : ['--conditions=source', '--import', import.meta.resolve('tsx'), source];
const emit = benchReporter('runner/board', 1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;

const chromium = await launchChromium();
if (!chromium.ok) {
  console.log(`⚠ live board bench SKIPPED: ${chromium.reason}`);
  process.exit(0);
}

const ovh = await startFakeOvhEventsServer({ holdMs: 30_000 });
const dir = mkdtempSync(join(fileURLToPath(new URL('.', import.meta.url)), '.tmp-'));
const numbers = Array.from({ length: RINGS }, (_, i) => `+3361${String(i).padStart(7, '0')}`);
writeFileSync(
  join(dir, 'cti.config.ts'),
  `import { memoryAdapter } from '@cti-bridge/core';
   import { defineConfig } from 'cti-runner';
   const numbers = ${JSON.stringify(numbers)};
   const crm = memoryAdapter({
     name: 'crm',
     contacts: numbers.map((phone, i) => ({ id: 'c' + i, name: 'Caller ' + i, phone })),
   });
   export default defineConfig({
     store: { kind: 'sqlite', path: './state.db' },
     adapters: { crm },
     tokens: { '${TOKEN}': { adapters: ['crm'] } },
     http: { host: '127.0.0.1', port: 0 },
     logging: { level: 'info' },
     ovh: { baseUrl: '${ovh.url}', pollTimeoutMs: 60000 },
   });`,
);
const child = spawn(process.execPath, [...cliArgs, 'run', '--config', 'cti.config.ts'], {
  cwd: dir,
  stdio: ['ignore', 'pipe', 'inherit'],
});
let boardUrl: string | undefined;
let out = '';
child.stdout.setEncoding('utf8');
child.stdout.on('data', (chunk: string) => {
  out += chunk;
  const match = /"url":"(http:\/\/[^"]+\/)","msg":"live call board listening"/.exec(out);
  if (match) boardUrl ??= match[1];
  if (out.length > 100_000) out = out.slice(-10_000);
});

/** Records in the page when each call's CRM name first appears (epoch ms, high resolution). */
const WATCH = `
  window.__seen = new Map();
  window.__arrived = new Map();
  addEventListener('DOMContentLoaded', () => {
    window.__board.source.addEventListener('call', (event) => {
      const id = JSON.parse(event.data).call.id;
      if (event.data.includes('"lookedUp":true') && !window.__arrived.has(id)) window.__arrived.set(id, performance.timeOrigin + performance.now());
    });
  });
  new MutationObserver(() => {
    for (const node of document.querySelectorAll('#lines [data-call-id] .caller-name')) {
      const id = node.closest('[data-call-id]').getAttribute('data-call-id');
      if (!window.__seen.has(id) && node.textContent.startsWith('Caller ')) {
        window.__seen.set(id, performance.timeOrigin + performance.now());
      }
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
`;

try {
  const deadline = Date.now() + 30_000;
  while (boardUrl === undefined || !ovh.requests().some((r) => r.token === TOKEN)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('the runner did not start');
    await sleep(10);
  }
  const context = chromium.context;
  const page = await context.newPage();
  await page.addInitScript(WATCH);
  await page.goto(boardUrl);
  await page.locator('#status[data-state="live"]').waitFor();

  const scenario = createScenario({ token: TOKEN, start: new Date(Date.now() - 60_000) });
  const latencies: number[] = [];
  const arrivals: number[] = [];
  for (let i = 0; i < RINGS; i++) {
    const id = `bench-${i}`;
    const before = scenario.events().length;
    scenario.inboundMissed({ from: numbers[i] as string, to: '0972101010', ringSeconds: 1, callId: id });
    const events = scenario.events().slice(before);
    const sent = performance.timeOrigin + performance.now();
    ovh.push(TOKEN, events.slice(0, 1));
    const seenAt = (await (
      await page.waitForFunction(
        (callId) => (globalThis as unknown as { __seen: Map<string, number> }).__seen.get(callId),
        id,
        {
          polling: 5,
          timeout: 10_000,
        },
      )
    ).jsonValue()) as number;
    latencies.push(seenAt - sent);
    const arrivedAt = await page.evaluate(
      (callId) =>
        (globalThis as unknown as { __arrived: Map<string, number> }).__arrived.get(callId) as number,
      id,
    );
    arrivals.push(arrivedAt - sent);
    ovh.push(TOKEN, events.slice(1));
    // Rings a person watches arrive apart: let the hang-up, its CRM write and its board updates
    // settle first, so each figure is one ring's path and not the previous call's tail.
    await sleep(50);
  }
  latencies.sort((a, b) => a - b);
  arrivals.sort((a, b) => a - b);
  emit(`ring → screen-pop event received by the page, p50 of ${RINGS}`, percentile(arrivals, 50), 'ms');
  emit(`ring → screen-pop event received by the page, p99 of ${RINGS}`, percentile(arrivals, 99), 'ms');
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  emit(`ring → caller's CRM name visible, p50 of ${RINGS}`, p50, 'ms');
  emit(`ring → caller's CRM name visible, p99 of ${RINGS}`, p99, 'ms', '< 100', p99 < 100);

  await sleep(1000);
  const oneBoard = rssMb(child.pid as number);
  // The other boards: event-stream clients speaking the page's protocol. (One browser keeps at most
  // six connections per host over HTTP/1.1, so fifty tabs of one browser cannot all be connected.)
  const streams: Array<{ destroy(): void }> = [];
  let snapshots = 0;
  for (let i = 1; i < BOARDS; i++) {
    const req = request(`${boardUrl}events`, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (chunk.includes('event: snapshot')) snapshots++;
      });
    });
    req.end();
    streams.push(req);
  }
  const until = Date.now() + 10_000;
  while (snapshots < BOARDS - 1 && Date.now() < until) await sleep(20);
  if (snapshots < BOARDS - 1) throw new Error(`only ${snapshots + 1}/${BOARDS} boards connected`);
  // Some traffic while they are connected, then a settled figure.
  for (let i = 0; i < 20; i++) {
    const before = scenario.events().length;
    scenario.inboundMissed({
      from: numbers[i] as string,
      to: '0972101011',
      ringSeconds: 1,
      callId: `more-${i}`,
    });
    ovh.push(TOKEN, scenario.events().slice(before));
    await sleep(20);
  }
  await sleep(2000);
  const fifty = rssMb(child.pid as number);
  emit('runner RSS with 1 board connected', oneBoard, 'MB');
  emit(`runner RSS with ${BOARDS} boards connected`, fifty, 'MB', '< 150', fifty < 150);
  for (const stream of streams) stream.destroy();
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await chromium.close();
  await ovh.close();
  rmSync(dir, { recursive: true, force: true });
}
