/**
 * `pnpm chaos` — the reliability proof, as a bounded command: the real runner process (dist/cli.js)
 * against the fake OVH events server and a fake HubSpot on 127.0.0.1, through SIGKILLs, CRM faults,
 * stream faults, a full disk, a fuzzed stream, and 3 runners sharing 120 tokens on Redis through
 * SIGKILLs (the `cluster` phase; needs the Redis at REDIS_URL). Prints, per phase: calls, logged, lost (split
 * into "events never received" — answered by OVH to a poll whose runner was killed within 500 ms, or in
 * the cluster phase, exactly: whose id never reached Redis in any write — and "other"), duplicated,
 * wrong durations, max RSS. Exits 1 on any duplicate or any loss of a received
 * call. `--short` (CI): fewer calls and kills, shorter faults. `--outbox=bullmq` runs the cluster phase
 * on the BullMQ outbox (default: the Lua outbox, the store's default); `--seed=N` changes the random
 * choices (kill points, pauses) so that repeated runs differ.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FakeHubSpot, startFakeHubSpot } from '@cti-bridge/adapter-hubspot/testing';
import { createScenario, type FakeOvhEventsServer, startFakeOvhEventsServer } from '@cti-bridge/core/testing';

const SHORT = process.argv.includes('--short');
const argValue = (name: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const OUTBOX = argValue('outbox') ?? 'lua';
if (OUTBOX !== 'lua' && OUTBOX !== 'bullmq') {
  console.error(`chaos: --outbox=${OUTBOX}: say lua or bullmq`);
  process.exit(2);
}
const HERE = dirname(fileURLToPath(import.meta.url));
const CLI = resolve(HERE, '../dist/cli.js');
const TOKEN = 'C4A05000-0000-4000-8000-00000000C4A0';
const LINE = '0033972101010';
let seed = Number(argValue('seed') ?? 20261205);
const random = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Expected {
  readonly id: string;
  readonly talk: number;
}
interface Row {
  phase: string;
  calls: number;
  logged: number;
  lostNeverReceived: number;
  lostOther: number;
  duplicated: number;
  wrongDurations: number;
  maxRssMb: number;
  notes: string[];
  /** One line per call that was lost or duplicated: what the fake OVH server and the CRM saw. */
  details: string[];
  /** Set when the phase could not judge its calls (it fails then). */
  error?: string;
}

/** A port nothing listens on now (the runner's HTTP port). */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Every runner process started, killed if chaos itself exits early (no orphan keeps a port). */
const started = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of started)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** A runner process with RSS sampling. */
class Runner {
  child: ChildProcess | undefined;
  maxRssKb = 0;
  output = '';
  kills: number[] = [];
  /** CHAOS_LOG_DIR: where this runner's output goes, with a line at each spawn and SIGKILL. */
  logFile: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  constructor(
    readonly dir: string,
    readonly env: Record<string, string> = {},
  ) {}
  start(): void {
    const child = spawn(process.execPath, [CLI, 'run', '--config', 'cti.config.mjs'], {
      cwd: this.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '', ...this.env },
    });
    // CHAOS_LOG_DIR: each runner's whole output also goes to <dir>/<runner name>.log (debugging)
    const logFile = process.env.CHAOS_LOG_DIR
      ? join(process.env.CHAOS_LOG_DIR, `${this.env.CTI_RUNNER_NAME ?? 'runner'}.log`)
      : undefined;
    const collect = (c: Buffer) => {
      this.output = (this.output + c.toString()).slice(-200_000);
      if (logFile) appendFileSync(logFile, c);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.logFile = logFile;
    this.#mark('spawned', child);
    this.child = child;
    started.add(child);
    child.once('exit', () => started.delete(child));
    this.#timer = setInterval(() => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
        this.maxRssKb = Math.max(this.maxRssKb, kb);
      } catch {}
    }, 100);
  }
  /** A marker line in the runner's log file (CHAOS_LOG_DIR), where the process's own lines cannot say it. */
  #mark(what: 'spawned' | 'SIGKILL', child: ChildProcess): void {
    if (this.logFile)
      appendFileSync(this.logFile, `${JSON.stringify({ chaos: what, pid: child.pid, time: Date.now() })}\n`);
  }
  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return;
    this.kills.push(Date.now());
    child.kill('SIGKILL');
    this.#mark('SIGKILL', child);
    await new Promise((r) => child.once('exit', r));
    clearInterval(this.#timer);
  }
  async stop(): Promise<number | string> {
    const child = this.child;
    if (!child || !this.alive) return 'not running';
    child.kill('SIGTERM');
    const code = await new Promise<number | string>((r) => child.once('exit', (c, s) => r(c ?? s ?? '?')));
    clearInterval(this.#timer);
    return code;
  }
}

function writeConfig(dir: string, crm: FakeHubSpot, ovh: FakeOvhEventsServer, extra = ''): void {
  writeFileSync(
    join(dir, 'cti.config.mjs'),
    `import { hubspot } from '@cti-bridge/adapter-hubspot';
     export default {
       store: { kind: 'sqlite', path: ${JSON.stringify(join(dir, 'state', 'state.db'))} },
       // the fake's search lags 300 ms behind writes: a write of unknown outcome is confirmed after 2 s
       adapters: { hubspot: hubspot({ accessToken: ${JSON.stringify(crm.accessToken)}, basePath: ${JSON.stringify(crm.url)}, portalId: ${crm.portalId}, searchLagMs: 2000 }) },
       tokens: { ${JSON.stringify(TOKEN)}: { adapters: ['hubspot'] } },
       delivery: { baseDelayMs: 50, maxDelayMs: 500, maxAttempts: 100, timeoutMs: 1500, maxRetryAfterMs: 2000, authRetryMs: 500 },
       pipeline: { snapshotIntervalMs: 200, settleMs: 500 },
       logging: { level: ${JSON.stringify(process.env.CHAOS_LOG_LEVEL ?? 'warn')} },
       ovh: { baseUrl: ${JSON.stringify(ovh.url)}, pollTimeoutMs: 5000 },
       ${extra}
     };`,
  );
  // the config imports the adapter: resolve it from the runner package
  const modules = join(dir, 'node_modules', '@cti-bridge');
  mkdirSync(modules, { recursive: true });
  const target = resolve(HERE, '../node_modules/@cti-bridge/adapter-hubspot');
  if (!existsSync(join(modules, 'adapter-hubspot')))
    spawnSync('ln', ['-s', target, join(modules, 'adapter-hubspot')]);
}

/** Calls with their own ids and callers; answered ones with a talk time, one in four missed. */
function makeCalls(prefix: string, count: number, startAt: Date, spacingSeconds = 20) {
  const expected: Expected[] = [];
  const batches: unknown[][] = [];
  for (let i = 0; i < count; i++) {
    // a scenario per call: its events are exactly this call's (events() sorts by time)
    const scenario = createScenario({ token: TOKEN, start: startAt, seed: i + 1 });
    const id = `${prefix}-${i}`;
    const from = `06${String(20_000_000 + i * 37 + prefix.length * 100_000).slice(-8)}`;
    if (i % 4 === 3) {
      scenario.inboundMissed({
        from,
        to: '0972101010',
        ringSeconds: 5,
        callId: id,
        startAt: Math.floor(i * spacingSeconds),
      });
      expected.push({ id, talk: 0 });
    } else {
      const talk = 10 + ((i * 7) % 50);
      scenario.inboundAnswered({
        from,
        to: '0972101010',
        ringSeconds: 3,
        talkSeconds: talk,
        callId: id,
        startAt: Math.floor(i * spacingSeconds),
      });
      expected.push({ id, talk });
    }
    batches.push(scenario.events());
  }
  return { expected, batches };
}

/**
 * How long before a SIGKILL an answer may have come and still count as "never received": the runner
 * may have died before it read the answer or kept its events (OVH v1 has no acknowledgement). The
 * runner keeps what it receives in its inbox within milliseconds; 500 ms covers a busy machine.
 */
const NEVER_RECEIVED_WINDOW_MS = 500;

/** What a Redis command's arguments say around a call id (CHAOS_VERBOSE details: the state it wrote). */
function around(args: readonly string[], id: string): string {
  const arg = args.find((a) => a.includes(id)) ?? '';
  const at = arg.indexOf(id);
  return arg.slice(Math.max(0, at - 60), at + 240).replace(/\s+/g, ' ');
}

/** The test of "events never received": a call answered to a poll just before a kill (see above). */
function answeredBeforeKill(ovh: FakeOvhEventsServer, kills: readonly number[]): (id: string) => boolean {
  return (id) =>
    ovh
      .requests()
      .some(
        (r) =>
          r.callIds?.includes(id) &&
          kills.some(
            (k) =>
              r.answeredAt !== undefined &&
              r.answeredAt >= k - NEVER_RECEIVED_WINDOW_MS &&
              r.answeredAt <= k + 100,
          ),
      );
}

function evaluate(
  phase: string,
  expected: readonly Expected[],
  crm: FakeHubSpot,
  ovh: FakeOvhEventsServer,
  kills: number[],
  rssKb: number,
  /** Exact when known: did the runners receive this call (its events reached their store)? */
  received?: (id: string) => boolean,
): Row {
  const logged = new Map<string, number[]>();
  for (const record of crm.records('calls')) {
    const id = String(record.properties.hs_call_external_id ?? '');
    const list = logged.get(id) ?? [];
    list.push(Number(record.properties.hs_call_duration ?? 0) / 1000);
    logged.set(id, list);
  }
  const neverReceived = received ? (id: string) => !received(id) : answeredBeforeKill(ovh, kills);
  const row: Row = {
    phase,
    calls: expected.length,
    logged: 0,
    lostNeverReceived: 0,
    lostOther: 0,
    duplicated: 0,
    wrongDurations: 0,
    maxRssMb: Math.round(rssKb / 1024),
    notes: [],
    details: [],
  };
  for (const call of expected) {
    const durations = logged.get(call.id) ?? [];
    if (durations.length === 0) {
      const never = neverReceived(call.id);
      if (never) row.lostNeverReceived++;
      else row.lostOther++;
      const answered = ovh
        .requests()
        .filter((r) => r.callIds?.includes(call.id) && r.answeredAt !== undefined);
      const gaps = answered.map((r) => {
        const kill = kills.find((k) => k >= (r.answeredAt as number) - 100);
        return kill === undefined ? 'no kill after' : `${kill - (r.answeredAt as number)} ms before a kill`;
      });
      const where = answered.map((r) => `${r.token.slice(0, 8)} at ${r.answeredAt}`).join(', ');
      row.details.push(
        `${call.id}: not logged${never ? ' (never received)' : ''}; answered ${gaps.join(', ') || 'never'} (${where})`,
      );
      continue;
    }
    row.logged++;
    if (durations.length > 1) row.duplicated += durations.length - 1;
    if (Math.abs((durations[0] ?? 0) - call.talk) > 1) row.wrongDurations++;
    if (durations.length > 1) row.details.push(`${call.id}: logged ${durations.length} times`);
    if (
      process.env.CHAOS_VERBOSE &&
      (durations.length > 1 || Math.abs((durations[0] ?? 0) - call.talk) > 1)
    ) {
      console.error(`  ${call.id}: expected ${call.talk} s, logged ${durations.join(', ')}`);
      const records = crm.records('calls').filter((x) => x.properties.hs_call_external_id === call.id);
      for (const r of records) {
        console.error(
          `    ${JSON.stringify({ id: r.id, createdAt: (r as { createdAt?: unknown }).createdAt, ts: r.properties.hs_timestamp, status: r.properties.hs_call_status })}`,
        );
      }
      // the CRM's requests around the first record's creation: which writes made the copies
      const first = Number((records[0] as { createdAt?: unknown } | undefined)?.createdAt ?? 0);
      for (const r of crm.requests().filter((x) => Math.abs(x.at - first) < 3_000 && x.family !== 'search')) {
        console.error(`    ${r.at - first} ms ${r.method} ${r.path} ${r.status} ${r.summary}`);
      }
    }
  }
  return row;
}

async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  ms: number,
): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(100);
  }
  console.error(`  (gave up waiting for ${what} after ${ms} ms)`);
  return false;
}

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'cti-chaos-'));
  mkdirSync(join(dir, 'state'));
  const ovh = await startFakeOvhEventsServer({ holdMs: 300 });
  const crm = await startFakeHubSpot({ rateLimit: false, indexLagMs: 300 });
  return { dir, ovh, crm };
}

async function teardown(ctx: { dir: string; ovh: FakeOvhEventsServer; crm: FakeHubSpot }, runner?: Runner) {
  if (runner?.alive) await runner.kill();
  await ctx.crm.close();
  await ctx.ovh.close();
  spawnSync('umount', [join(ctx.dir, 'state')], { stdio: 'ignore' });
  rmSync(ctx.dir, { recursive: true, force: true });
}

/** Phase 1: SIGKILL at random points while calls flow and the CRM fails now and then. */
async function phaseKills(): Promise<Row> {
  const ctx = await setup();
  const { crm, ovh } = ctx;
  writeConfig(ctx.dir, crm, ovh);
  const calls = SHORT ? 60 : 300;
  const killsWanted = Number(process.env.CHAOS_KILLS ?? (SHORT ? 6 : 30));
  const { expected, batches } = makeCalls('kill', calls, new Date('2026-12-05T08:00:00Z'));
  crm.inject({ status: 503, on: 'write', times: Math.ceil(calls / 10) });
  const runner = new Runner(ctx.dir);
  runner.start();
  let pushed = 0;
  let rss = 0;
  const perKill = Math.ceil(calls / killsWanted);
  while (pushed < batches.length) {
    // each runner lives 1.5 to 4 s (it starts in about 1 s): calls keep coming through its life,
    // and the kill falls at a random point of it
    const lifeMs = 1500 + random() * 2500;
    const bornAt = Date.now();
    for (let i = 0; i < perKill && pushed < batches.length; i++) {
      ovh.push(TOKEN, batches[pushed++] as unknown[]);
      await sleep((lifeMs / perKill) * (0.5 + random()));
    }
    await sleep(Math.max(0, bornAt + lifeMs - Date.now()));
    if (runner.kills.length < killsWanted) {
      await runner.kill();
      rss = Math.max(rss, runner.maxRssKb);
      runner.maxRssKb = 0;
      runner.start();
    }
  }
  // wait for every call whose events the runner could have kept (those answered to a poll just
  // before a kill may never come), and then until nothing more arrives for 5 s (calls the last
  // runner restored from a snapshot or the outbox), at most 60 s
  const neverReceived = answeredBeforeKill(ovh, runner.kills);
  const awaited = expected.filter((c) => !neverReceived(c.id)).map((c) => c.id);
  let lastCount = -1;
  let stableSince = Date.now();
  await waitFor(
    'every received call logged, then no more for 5 s',
    () => {
      const logged = new Set(crm.records('calls').map((r) => String(r.properties.hs_call_external_id)));
      if (logged.size !== lastCount) {
        lastCount = logged.size;
        stableSince = Date.now();
      }
      return awaited.every((id) => logged.has(id)) && Date.now() - stableSince >= 5_000;
    },
    // HubSpot allows 4 searches a second (2 lookups): a backlog of calls takes its time
    Math.max(60_000, calls * 800),
  );
  await sleep(1500);
  const code = await runner.stop();
  if (process.env.CHAOS_VERBOSE) {
    const dup = crm
      .records('calls')
      .filter(
        (r, _, all) =>
          all.filter((x) => x.properties.hs_call_external_id === r.properties.hs_call_external_id).length > 1,
      );
    const times = dup.map((r) => r.createdAt);
    const lo = Math.min(...times) - 3000;
    const hi = Math.max(...times) + 200;
    for (const r of crm.requests() as Array<{
      at?: number;
      method: string;
      path: string;
      status: number;
      summary: string;
    }>) {
      if ((r.at ?? 0) >= lo && (r.at ?? 0) <= hi)
        console.error(`    req ${r.at} ${r.method} ${r.path} ${r.status} ${r.summary}`);
    }
  }
  if (process.env.CHAOS_VERBOSE) console.error(runner.output.slice(-6000));
  const row = evaluate(
    'SIGKILL x' + runner.kills.length,
    expected,
    crm,
    ovh,
    runner.kills,
    Math.max(rss, runner.maxRssKb),
  );
  if (code !== 0) row.notes.push(`SIGTERM exit ${code}`);
  await teardown(ctx, runner);
  return row;
}

/** Phase 2: the CRM fails in turn — 5xx, 429 Retry-After 3600, hanging, 401 then fixed. */
async function phaseCrm(): Promise<Row> {
  const ctx = await setup();
  const { crm, ovh } = ctx;
  const port = await freePort();
  writeConfig(ctx.dir, crm, ovh, `http: { port: ${port}, host: '127.0.0.1', board: false },`);
  const runner = new Runner(ctx.dir);
  runner.start();
  const per = SHORT ? 8 : 20;
  const all: Expected[] = [];
  const notes: string[] = [];
  const readyz = async () => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
    } catch {
      return 0;
    }
  };
  await waitFor('runner ready', async () => (await readyz()) !== 0, 20_000);
  const run = async (label: string, fault: () => void, startIso: string) => {
    const { expected, batches } = makeCalls(label, per, new Date(startIso));
    all.push(...expected);
    fault();
    for (const batch of batches) ovh.push(TOKEN, batch);
    let saw503 = false;
    const t0 = Date.now();
    const done = await waitFor(
      `${label}: every call logged`,
      async () => {
        if ((await readyz()) === 503) saw503 = true;
        const ids = new Set(crm.records('calls').map((r) => String(r.properties.hs_call_external_id)));
        return expected.every((c) => ids.has(c.id));
      },
      SHORT ? 45_000 : 120_000,
    );
    notes.push(
      `${label}: ${done ? `${((Date.now() - t0) / 1000).toFixed(1)} s` : 'not all'}${saw503 ? ', /readyz 503 seen' : ''}`,
    );
  };
  await run('5xx', () => crm.inject({ status: 503, on: 'write', times: 12 }), '2026-12-05T09:00:00Z');
  await run(
    '429-3600',
    () => crm.inject({ status: 429, on: 'any', times: 1, retryAfterSeconds: 3600 }),
    '2026-12-05T09:30:00Z',
  );
  let maxConnections = 0;
  const sampler = setInterval(
    () => void crm.openConnections().then((n) => (maxConnections = Math.max(maxConnections, n))),
    100,
  );
  await run(
    'hang',
    () => crm.inject({ kind: 'hang', on: 'write', times: SHORT ? 6 : 60 }),
    '2026-12-05T10:00:00Z',
  );
  clearInterval(sampler);
  notes.push(`max connections to the CRM while it hung: ${maxConnections}`);
  await run('401', () => crm.inject({ status: 401, on: 'any', times: 4 }), '2026-12-05T10:30:00Z');
  const before = Date.now();
  const code = await runner.stop();
  notes.push(`SIGTERM exit ${code} in ${Date.now() - before} ms`);
  const db = join(ctx.dir, 'state', 'state.db');
  const dead = spawnSync(
    process.execPath,
    [
      '-e',
      `const D=require(${JSON.stringify(resolve(HERE, '../node_modules/better-sqlite3'))});const d=new D(${JSON.stringify(db)},{readonly:true});console.log(d.prepare("select count(*) n from outbox where status='dead'").get().n)`,
    ],
    { encoding: 'utf8' },
  );
  notes.push(`dead letters: ${dead.stdout.trim() || dead.stderr.trim().split('\n')[0]}`);
  const row = evaluate('CRM faults', all, crm, ovh, [], runner.maxRssKb);
  if (process.env.CHAOS_VERBOSE) console.error(runner.output.slice(-6000));
  row.notes.push(...notes);
  if (code !== 0) row.lostOther += 0;
  await teardown(ctx, runner);
  return row;
}

/**
 * Phase: load. New callers at 3 a second against HubSpot's own limits (the fake enforces them:
 * 190 requests / 10 s, 5 searches / s; the adapter keeps to 4 searches / s). Every ring asks for a
 * screen pop (two searches), every end for a logged call: lookups queue. Screen pops go first; a
 * lookup that cannot pop within its deadline is abandoned. Every call must be logged within two
 * minutes after the load stops.
 */
async function phaseLoad(): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'cti-chaos-'));
  mkdirSync(join(dir, 'state'));
  const ovh = await startFakeOvhEventsServer({ holdMs: 300 });
  const crm = await startFakeHubSpot({ indexLagMs: 300 });
  const ctx = { dir, ovh, crm };
  const port = await freePort();
  writeConfig(dir, crm, ovh, `http: { port: ${port}, host: '127.0.0.1', board: false },`);
  const runner = new Runner(dir);
  runner.start();
  await waitFor(
    'runner ready',
    async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined)) !== undefined,
    20_000,
  );
  const seconds = SHORT ? 20 : 120;
  const perSecond = 3;
  // calls timed as they are pushed (now, 1/3 s apart), as OVH would time them
  const { expected, batches } = makeCalls('load', seconds * perSecond, new Date(), 1 / perSecond);
  const t0 = Date.now();
  for (let i = 0; i < batches.length; i++) {
    ovh.push(TOKEN, batches[i] as unknown[]);
    const next = t0 + ((i + 1) * 1000) / perSecond;
    await sleep(Math.max(0, next - Date.now()));
  }
  const loadEnded = Date.now();
  const ids = new Set(expected.map((c) => c.id));
  const drained = await waitFor(
    'every call logged',
    () =>
      crm.records('calls').filter((r) => ids.has(String(r.properties.hs_call_external_id))).length >=
      ids.size,
    120_000,
  );
  const drainSeconds = (Date.now() - loadEnded) / 1000;
  const metrics = await fetch(`http://127.0.0.1:${port}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  const sum = (pattern: RegExp) => [...metrics.matchAll(pattern)].reduce((n, m) => n + Number(m[1] ?? 0), 0);
  const pops = sum(/^cti_screen_pops_total\{[^}]*\} (\S+)$/gm);
  const lookups = sum(/^cti_lookup_duration_seconds_count\{[^}]*\} (\S+)$/gm);
  const within = (le: string) =>
    sum(new RegExp(`^cti_lookup_duration_seconds_bucket\\{[^}]*le="${le}"[^}]*\\} (\\S+)$`, 'gm'));
  const refused = crm.requests().filter((r) => r.status === 429).length;
  const families = new Map<string, number>();
  for (const r of crm.requests()) families.set(r.family, (families.get(r.family) ?? 0) + 1);
  const code = await runner.stop();
  const row = evaluate(`load ${perSecond}/s x ${seconds} s`, expected, crm, ovh, [], runner.maxRssKb);
  row.notes.push(
    drained
      ? `all logged ${drainSeconds.toFixed(1)} s after the load stopped (target ≤ 120 s)`
      : `NOT all logged 120 s after the load stopped`,
    `${pops} screen pops, ${lookups} lookups answered (within 0.5/1/2.5/5 s: ${['0.5', '1', '2.5', '5'].map(within).join('/')})`,
    `${crm.requests().length} HubSpot requests (${[...families].map(([f, n]) => `${f} ${n}`).join(', ')}), ${refused} answered 429`,
  );
  if (!drained) {
    row.lostOther = Math.max(row.lostOther, 1);
    row.details.push(
      `not every call was logged within 120 s of the load's end (${row.logged} of ${row.calls})`,
    );
  }
  if (process.env.CHAOS_VERBOSE) console.error(runner.output.slice(-20_000));
  if (code !== 0) row.notes.push(`SIGTERM exit ${code}`);
  await teardown(ctx, runner);
  return row;
}

/** Phase 3: the stream fails — 5xx, garbage, huge, slow answers, a session reset. */
async function phaseStream(): Promise<Row> {
  const ctx = await setup();
  const { crm, ovh } = ctx;
  writeConfig(ctx.dir, crm, ovh);
  const runner = new Runner(ctx.dir);
  runner.start();
  await sleep(1500);
  const faults = [
    () => ovh.inject({ type: 'http-error', status: 503, times: 3 }),
    () => ovh.inject({ type: 'garbage', times: 2 }),
    () => ovh.inject({ type: 'huge', bytes: 8 * 1024 * 1024, times: 1 }),
    () => ovh.inject({ type: 'slow', delayMs: 2000, times: 2 }),
  ];
  const all: Expected[] = [];
  for (const [n, fault] of faults.entries()) {
    const { expected, batches } = makeCalls(
      `stream${n}`,
      SHORT ? 5 : 15,
      new Date(`2026-12-05T1${n}:00:00Z`),
    );
    all.push(...expected);
    fault();
    for (const batch of batches) ovh.push(TOKEN, batch);
    await sleep(SHORT ? 1500 : 3000);
  }
  await waitFor(
    'every call logged',
    () => {
      const ids = new Set(crm.records('calls').map((r) => String(r.properties.hs_call_external_id)));
      return all.every((c) => ids.has(c.id));
    },
    60_000,
  );
  const code = await runner.stop();
  const row = evaluate('stream faults', all, crm, ovh, [], runner.maxRssKb);
  if (code !== 0) row.notes.push(`SIGTERM exit ${code}`);
  row.notes.push('5xx, garbage, 8 MiB answer, slow answers');
  await teardown(ctx, runner);
  return row;
}

/** Phase 4: the state disk is full while calls end, then has room again. */
async function phaseDiskFull(): Promise<Row> {
  const ctx = await setup();
  const { crm, ovh } = ctx;
  const stateDir = join(ctx.dir, 'state');
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', stateDir]);
  if (mounted.status !== 0) {
    await teardown(ctx);
    return {
      phase: 'disk full',
      calls: 0,
      logged: 0,
      lostNeverReceived: 0,
      lostOther: 0,
      duplicated: 0,
      wrongDurations: 0,
      maxRssMb: 0,
      notes: ['SKIPPED: cannot mount a small tmpfs here (needs root)'],
      details: [],
    };
  }
  writeConfig(ctx.dir, crm, ovh);
  const runner = new Runner(ctx.dir);
  runner.start();
  await sleep(2000);
  const filler = join(stateDir, 'filler');
  spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k', 'count=100'], { stdio: 'ignore' });
  const { expected, batches } = makeCalls('full', 20, new Date('2026-12-05T15:00:00Z'));
  for (const batch of batches) ovh.push(TOKEN, batch);
  await sleep(4000);
  const duringFull = new Set(crm.records('calls').map((r) => String(r.properties.hs_call_external_id))).size;
  unlinkSync(filler);
  await waitFor(
    'every call logged once there is room',
    () => {
      const ids = new Set(crm.records('calls').map((r) => String(r.properties.hs_call_external_id)));
      return expected.every((c) => ids.has(c.id));
    },
    60_000,
  );
  const code = await runner.stop();
  const row = evaluate('disk full', expected, crm, ovh, [], runner.maxRssKb);
  row.notes.push(`${duringFull} logged while the disk was full`, `SIGTERM exit ${code}`);
  await teardown(ctx, runner);
  return row;
}

// big enough to be clipped (256), small enough that a poll answer of the fake stays under the
// runner's 4 MiB answer cap (an answer over it is refused whole: that is the stream-faults phase)
const HUGE = 'x'.repeat(4_000);
/** Phase 5: a hostile stream — fuzzed events (huge strings, deep nesting, wrong types) with real calls between. */
async function phaseFuzz(): Promise<Row> {
  const ctx = await setup();
  const { crm, ovh } = ctx;
  writeConfig(ctx.dir, crm, ovh);
  const runner = new Runner(ctx.dir);
  runner.start();
  await sleep(1500);
  const total = SHORT ? 20_000 : 100_000;
  const { expected, batches } = makeCalls('fuzz', 20, new Date('2026-12-05T16:00:00Z'));
  const junk = [HUGE, { a: { b: { c: [HUGE] } } }, 42, null, [], true, -1e308];
  const every = Math.floor(total / batches.length);
  let chunk: unknown[] = [];
  for (let i = 0; i < total; i++) {
    const pick = junk[i % junk.length];
    chunk.push({
      Event: ['start_ringing', 'end_calling', 'member-queue-start', HUGE.slice(0, 1000)][i % 4],
      Token: TOKEN,
      Ressource: i % 5 === 0 ? HUGE : LINE,
      Timestamp: String(1_767_600_000_000_000_000n + BigInt(i) * 1_000_000n),
      Data: {
        CallId: i % 3 === 0 ? `${HUGE.slice(0, 5000)}${i}` : pick,
        Calling: i % 2 ? HUGE : `06${i}`,
        Ts: 1_767_600_000 + i,
        QueueMemberUUID: `${HUGE.slice(0, 9000)}${i}`,
        Deep: { d: { d: { d: [HUGE] } } },
      },
      Details: { Description: HUGE },
    });
    if (i % every === 0 && batches.length > 0) chunk.push(...(batches.shift() as unknown[]));
    if (chunk.length >= 200) {
      ovh.push(TOKEN, chunk);
      chunk = [];
      await sleep(5);
    }
  }
  for (const batch of batches) chunk.push(...batch);
  ovh.push(TOKEN, chunk);
  await waitFor('the fuzzed stream drained', () => ovh.pending(TOKEN) === 0, SHORT ? 120_000 : 600_000);
  await waitFor(
    'the real calls logged',
    () => {
      const ids = new Set(crm.records('calls').map((r) => String(r.properties.hs_call_external_id)));
      return expected.every((c) => ids.has(c.id));
    },
    30_000,
  );
  const alive = runner.alive;
  const code = await runner.stop();
  const row = evaluate(`fuzz ${total / 1000}k events`, expected, crm, ovh, [], runner.maxRssKb);
  row.notes.push(
    alive ? 'runner alive' : 'RUNNER CRASHED',
    `SIGTERM exit ${code}`,
    `RSS target < 300 MB: ${row.maxRssMb < 300 ? 'met' : 'MISSED'}`,
  );
  if (!alive) {
    row.lostOther = Math.max(row.lostOther, 1);
    row.details.push(
      `the runner crashed on the fuzzed stream; its last output: ${runner.output.slice(-400)}`,
    );
  }
  await teardown(ctx, runner);
  return row;
}

/**
 * Phase 6 (needs Redis at REDIS_URL): 3 runners share 120 tokens through a Redis store (token
 * leases, shared outbox); one runner at a time is SIGKILLed at random points while calls flow on
 * every token, then restarted. Notes the longest lease takeover (every token polled again by a live
 * runner).
 */
async function phaseCluster(): Promise<Row> {
  const { connectRedis, redisKeys, tokenId } = await import('@cti-bridge/store-redis');
  const { deletePrefix, probeRedis, randomPrefix } = await import('@cti-bridge/store-redis/testing');
  const probe = await probeRedis();
  if (!probe.ok) {
    return {
      phase: 'cluster (skipped)',
      calls: 0,
      logged: 0,
      lostNeverReceived: 0,
      lostOther: 0,
      duplicated: 0,
      wrongDurations: 0,
      maxRssMb: 0,
      notes: [`no Redis at ${probe.url}: ${probe.reason}`],
      details: [],
    };
  }
  const ctx = await setup();
  const { crm, ovh } = ctx;
  writeConfig(ctx.dir, crm, ovh); // for the adapter link; the config is replaced below
  const prefix = randomPrefix('chaos');
  const tokenCount = 120;
  const tokens = Array.from(
    { length: tokenCount },
    // the index leads, so that the masked tokens of the logs (first 8 characters) tell them apart
    (_, i) => `C1A${String(i).padStart(5, '0')}-0000-4000-8000-00000000C1A0`,
  );
  writeFileSync(
    join(ctx.dir, 'cti.config.mjs'),
    `import { hubspot } from '@cti-bridge/adapter-hubspot';
     const tokens = ${JSON.stringify(tokens)};
     export default {
       store: { kind: 'redis', url: ${JSON.stringify(probe.url)}, prefix: ${JSON.stringify(prefix)}, outbox: ${JSON.stringify(OUTBOX)}, leaseMs: 3000, renewMs: 1000, claimMs: 5000 },
       adapters: { hubspot: hubspot({ accessToken: ${JSON.stringify(crm.accessToken)}, basePath: ${JSON.stringify(crm.url)}, portalId: ${crm.portalId} }) },
       tokens: Object.fromEntries(tokens.map((t) => [t, { adapters: ['hubspot'], lookup: [] }])),
       delivery: { baseDelayMs: 50, maxDelayMs: 500, maxAttempts: 100, timeoutMs: 1500, maxRetryAfterMs: 2000, authRetryMs: 500 },
       pipeline: { snapshotIntervalMs: 200, settleMs: 500 },
       http: false,
       logging: { level: ${JSON.stringify(process.env.CHAOS_LOG_LEVEL ?? 'warn')} },
       ovh: { baseUrl: ${JSON.stringify(ovh.url)}, pollTimeoutMs: 5000 },
     };`,
  );
  const redis = await connectRedis({ url: probe.url });
  const keys = redisKeys(prefix);
  // Which calls the runners received, exactly: a call whose id reached Redis in any write (the
  // inbox keeping a poll's answer, a tracker snapshot, an outbox entry) was received, and must be
  // logged whatever dies after. One that never did was answered to a poll whose runner died before
  // keeping it: OVH v1 has no acknowledgement, so that call is gone (healing covers it).
  const reachedRedis = new Map<string, string[]>();
  // For the details of a lost call: every command on the inbox of its token, and which runner
  // held it (the lease script's arguments name the runner).
  const inboxHistory = new Map<string, string[]>();
  const inboxOf = new Map<string, string>();
  const monitor = await redis.monitor();
  // a monitor that fails would make received calls look never received: the phase fails instead
  let monitorError: unknown;
  monitor.on('error', (error: unknown) => {
    monitorError ??= error;
  });
  monitor.on('monitor', (time: string, args: string[]) => {
    const summary = `${args
      .slice(0, 7)
      .map((a) => (a.length > 48 ? `${a.slice(0, 40)}…` : a))
      .join(' ')} @${time}`;
    const ids = new Set<string>();
    for (const arg of args) for (const found of arg.matchAll(/cluster-\d+/g)) ids.add(found[0]);
    for (const id of ids) {
      const writes = reachedRedis.get(id) ?? [];
      // a takeover copies the dead runner's snapshot once per token it held: the first copy says it
      const copy = /:snap:handover-src:/.test(args[1] ?? '');
      const copied = copy && /:snap:handover-src/.test(writes.at(-1) ?? '');
      if (writes.length < 400 && !copied)
        writes.push(process.env.CHAOS_VERBOSE ? `${summary} ⟨${around(args, id)}⟩` : summary);
      reachedRedis.set(id, writes);
    }
    for (const arg of args.slice(1, 6)) {
      const inbox = /:inbox(?:-late)?:([0-9a-f]+)$/.exec(arg)?.[1];
      if (inbox === undefined) continue;
      const history = inboxHistory.get(inbox) ?? [];
      if (history.length < 1500) history.push(summary);
      inboxHistory.set(inbox, history);
      for (const id of ids) if (!inboxOf.has(id)) inboxOf.set(id, inbox);
      break; // a script names the answers hash and the late list: one line for both
    }
  });
  const runners = ['r1', 'r2', 'r3'].map((name) => new Runner(ctx.dir, { CTI_RUNNER_NAME: name }));
  const names = ['r1', 'r2', 'r3'];
  /** Every token held by a live runner among `live`. */
  const covered = async (live: readonly string[]) => {
    const leases = await redis.hgetall(keys.leases);
    const now = Date.now();
    return tokens.every((token) => {
      const [owner, expires] = (leases[tokenId(token)] ?? '|0').split('|');
      return Number(expires) > now && live.includes(owner as string);
    });
  };
  for (const runner of runners) runner.start();
  await waitFor('the 3 runners to hold every token', () => covered(names), 30_000);
  // A token's first poll opens its OVH session, whose id the runner learns only from the answer: a
  // runner killed before that leaves a session nobody can read, and what OVH queues there is gone
  // (v1 has no acknowledgement; healing from the call records covers it, not configured here).
  // That happens once in a token's life, so the kills start once every token has its cursor.
  await waitFor(
    'every token to have its session cursor',
    async () => (await Promise.all(tokens.map((token) => redis.exists(keys.cursor(token))))).every(Boolean),
    30_000,
  );

  // Calls: one scenario per call, on every token in turn.
  const count = SHORT ? 240 : 600;
  const expected: Expected[] = [];
  const batches: Array<[string, unknown[]]> = [];
  for (let i = 0; i < count; i++) {
    const token = tokens[i % tokenCount] as string;
    const scenario = createScenario({ token, start: new Date('2026-12-05T09:00:00Z'), seed: i + 1 });
    const id = `cluster-${i}`;
    const talk = 10 + ((i * 7) % 50);
    scenario.inboundAnswered({
      from: `06${String(30_000_000 + i * 37).slice(-8)}`,
      to: '0972101010',
      ringSeconds: 3,
      talkSeconds: talk,
      callId: id,
      startAt: Math.floor(i / tokenCount) * 120,
    });
    expected.push({ id, talk });
    batches.push([token, scenario.events()]);
  }
  const killsWanted = Number(process.env.CHAOS_CLUSTER_KILLS ?? (SHORT ? 3 : 8));
  const perKill = Math.ceil(count / (killsWanted + 1));
  const kills: number[] = [];
  let takeoverMax = 0;
  let pollingMax = 0;
  let rss = 0;
  let pushed = 0;
  while (pushed < batches.length) {
    for (let i = 0; i < perKill && pushed < batches.length; i++) {
      const [token, events] = batches[pushed++] as [string, unknown[]];
      ovh.push(token, events);
      if (i % 10 === 9) await sleep(random() * 50);
    }
    await sleep(random() * 1500);
    if (kills.length < killsWanted) {
      const victim = Math.floor(random() * runners.length);
      const runner = runners[victim] as Runner;
      const leases = await redis.hgetall(keys.leases);
      const orphans = tokens.filter((token) => leases[tokenId(token)]?.startsWith(`${names[victim]}|`));
      await runner.kill();
      const at = runner.kills.at(-1) as number;
      kills.push(at);
      rss = Math.max(rss, runner.maxRssKb);
      const live = names.filter((_, i) => i !== victim);
      if (await waitFor('the other runners to take its tokens', () => covered(live), 20_000)) {
        takeoverMax = Math.max(takeoverMax, Date.now() - at);
      }
      // taken is not yet polled: a new holder first adopts the token's calls in flight
      const polledAgain = () =>
        orphans.every((token) => ovh.requests().some((r) => r.token === token && r.at > at));
      if (await waitFor('every one of its tokens polled again', polledAgain, 30_000)) {
        pollingMax = Math.max(pollingMax, Date.now() - at);
      } else pollingMax = Number.POSITIVE_INFINITY;
      runner.maxRssKb = 0;
      runner.start();
    }
  }
  // wait for every call the runners received (not those answered to a poll whose runner died
  // before keeping the answer: they never come)
  // (every event pushed answered to a poll first, and "received" asked again at each check: the
  // runners of a starved machine may still be polling what was pushed last)
  await sleep(500); // the monitor's last lines
  await waitFor(
    'every received call logged',
    () => {
      const logged = new Set(crm.records('calls').map((r) => String(r.properties.hs_call_external_id)));
      const polled = tokens.every((token) => ovh.pending(token) === 0);
      return polled && expected.every((c) => !reachedRedis.has(c.id) || logged.has(c.id));
    },
    60_000,
  );
  await sleep(1500);
  const unpolled = tokens.filter((token) => ovh.pending(token) > 0);
  if (process.env.CHAOS_VERBOSE) {
    const leases = await redis.hgetall(keys.leases);
    for (const token of unpolled.slice(0, 3)) {
      const cursor = await redis.get(keys.cursor(token));
      console.error(
        `  unpolled ${token}: pending ${ovh.pending(token)}, lease ${leases[tokenId(token)]}, cursor ${cursor}`,
      );
      for (const r of ovh
        .requests()
        .filter((x) => x.token === token)
        .slice(-6)) {
        console.error(`    ${r.at} session=${r.session} ${r.outcome} ${r.callIds?.length ?? 0}`);
      }
    }
  }
  const codes = [];
  for (const runner of runners) {
    rss = Math.max(rss, runner.maxRssKb);
    codes.push(await runner.stop());
  }
  monitor.disconnect();
  const row = evaluate(`cluster kill x${kills.length}`, expected, crm, ovh, kills, rss, (id) =>
    reachedRedis.has(id),
  );
  for (const [i, line] of row.details.entries()) {
    const id = line.slice(0, line.indexOf(':'));
    const writes = reachedRedis.get(id);
    if (!writes) continue;
    row.details[i] = `${line}; reached Redis: ${writes.slice(0, 40).join(' | ')}`;
    const inbox = inboxOf.get(id);
    if (process.env.CHAOS_VERBOSE && inbox) {
      // its inbox from the keep on (the late list's DELs left out)
      const history = (inboxHistory.get(inbox) ?? []).filter((x) => !/^DEL /.test(x));
      const from = history.findIndex((x) => x.startsWith('HSETNX'));
      console.error(`  ${id}: its inbox\n    ${history.slice(Math.max(0, from - 2)).join('\n    ')}`);
      console.error(`  ${id}: every write naming it\n    ${writes.join('\n    ')}`);
    }
  }
  // a call not logged whose entry still waits in the shared outbox is late (a starved machine),
  // not lost: say how many
  const { createRedisStore } = await import('@cti-bridge/store-redis');
  const left = await createRedisStore({
    url: probe.url,
    prefix,
    outbox: OUTBOX === 'bullmq' ? 'bullmq' : 'lua',
  });
  const waiting = (await left.outbox.counts()).pending;
  await left.close();
  if (waiting > 0)
    row.notes.push(`${waiting} outbox entries still pending at the end (not delivered in time)`);
  row.notes.push(
    `3 runners, ${tokenCount} tokens on Redis, ${OUTBOX} outbox, seed ${argValue('seed') ?? 20261205}`,
    ...(unpolled.length > 0 ? [`${unpolled.length} token(s) with events never polled`] : []),
    `longest takeover ${takeoverMax} ms (lease 3000 ms, renew 1000 ms), every token polled again ${Number.isFinite(pollingMax) ? `${pollingMax} ms` : 'not within 30 s'} after a kill`,
  );
  if (codes.some((code) => code !== 0)) row.notes.push(`SIGTERM exits ${codes.join(', ')}`);
  if (monitorError !== undefined) {
    row.error = `the Redis MONITOR that tells which calls the runners received failed (${monitorError instanceof Error ? monitorError.message : String(monitorError)}): received calls may be counted as never received`;
    row.notes.push(row.error);
  }
  redis.disconnect();
  await deletePrefix(probe.url, prefix);
  await teardown(ctx);
  return row;
}

if (!existsSync(CLI)) {
  console.error(`chaos: ${CLI} is missing: build first (pnpm build)`);
  process.exit(2);
}
const only = argValue('only');
const phases: Array<[string, () => Promise<Row>]> = [
  ['kills', phaseKills],
  ['crm', phaseCrm],
  ['load', phaseLoad],
  ['stream', phaseStream],
  ['disk', phaseDiskFull],
  ['fuzz', phaseFuzz],
  ['cluster', phaseCluster],
];
const rows: Row[] = [];
for (const [name, phase] of phases) {
  if (only && only !== name) continue;
  const t0 = Date.now();
  process.stdout.write(`▶ ${name}…\n`);
  const row = await phase();
  row.notes.push(`${Math.round((Date.now() - t0) / 1000)} s`);
  rows.push(row);
}
const pad = (v: unknown, n: number) => String(v).padEnd(n);
console.log(
  `\n${pad('phase', 18)}${pad('calls', 7)}${pad('logged', 8)}${pad('lost: never received', 22)}${pad('lost: other', 13)}${pad('duplicated', 12)}${pad('wrong durations', 17)}${pad('max RSS MB', 12)}notes`,
);
for (const r of rows) {
  console.log(
    `${pad(r.phase, 18)}${pad(r.calls, 7)}${pad(r.logged, 8)}${pad(r.lostNeverReceived, 22)}${pad(r.lostOther, 13)}${pad(r.duplicated, 12)}${pad(r.wrongDurations, 17)}${pad(r.maxRssMb, 12)}${r.notes.join('; ')}`,
  );
}
const failed = rows.filter((r) => r.duplicated > 0 || r.lostOther > 0 || r.error !== undefined);
const MAX_DETAILS = 20;
/** What went wrong in a failed phase, in words (the CI summary prints it under the closing counts). */
const failureMessage = (r: Row) =>
  [
    `${r.phase}: ${r.calls} calls, ${r.logged} logged, ${r.lostOther} lost (received), ${r.lostNeverReceived} never received, ${r.duplicated} duplicated; ${r.notes.join('; ')}`,
    ...r.details.slice(0, MAX_DETAILS),
    ...(r.details.length > MAX_DETAILS ? [`… and ${r.details.length - MAX_DETAILS} more`] : []),
  ].join('\n');
for (const r of rows.filter((row) => row.details.length > 0)) {
  console.log(`\n${r.phase}:`);
  for (const line of r.details.slice(0, MAX_DETAILS)) console.log(`  ${line}`);
  if (r.details.length > MAX_DETAILS) console.log(`  … and ${r.details.length - MAX_DETAILS} more`);
}
// `--report <file>`: one "test" per phase, in the shape of vitest's JSON report (CI's closing line)
const reportAt = process.argv.indexOf('--report');
if (reportAt > 0 && process.argv[reportAt + 1]) {
  writeFileSync(
    process.argv[reportAt + 1] as string,
    JSON.stringify({
      numPassedTests: rows.length - failed.length,
      numFailedTests: failed.length,
      testResults: [
        {
          name: 'pnpm chaos --short',
          status: failed.length === 0 ? 'passed' : 'failed',
          assertionResults: rows.map((r) => ({
            title: r.phase,
            status: failed.includes(r) ? 'failed' : 'passed',
            failureMessages: failed.includes(r) ? [failureMessage(r)] : [],
          })),
        },
      ],
    }),
  );
}
console.log(
  failed.length === 0
    ? '\nchaos: no duplicate, no received call lost'
    : `\nchaos: FAILED in ${failed.map((r) => r.phase).join(', ')}`,
);
process.exit(failed.length === 0 ? 0 : 1);
