import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConformanceHarness } from '@cti-bridge/adapter-salesforce/testing';
import { createScenario, startFakeOvhEventsServer, waitFor as waitUntil } from '@cti-bridge/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliProcess, spawnCli } from './__fixtures__/spawn-cli.js';
import { openDatabase } from './store/database.js';

const TOKEN = 'C7A5H000-0000-4000-8000-00000000DEAD';

/**
 * Core's `waitFor` with what these crash tests need on top, which is why it stays a wrapper: it
 * gives up at once when the runner process `proc` has exited (it will not bring the condition about
 * any more) and shows the runner's output when giving up; a 60 s deadline and a 25 ms interval.
 */
const waitFor = (
  condition: () => boolean | Promise<boolean>,
  what: string,
  proc?: CliProcess,
  timeoutMs = 60_000,
) =>
  waitUntil(condition, what, {
    timeoutMs,
    intervalMs: 25,
    // a runner that has exited will not bring the condition about: give up at once
    stopWhen: () => proc !== undefined && (proc.child.exitCode !== null || proc.child.signalCode !== null),
    context: () => `--- runner stdout:\n${proc?.stdout()}\n--- runner stderr:\n${proc?.stderr()}`,
  });

/** Reads the runner's SQLite file from outside, as an operator would (WAL allows it). */
function inspect(path: string): { entries: number; pending: number; dead: number; snapshot: string } {
  if (!existsSync(path)) return { entries: 0, pending: 0, dead: 0, snapshot: '' };
  const db = openDatabase(path, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{
      name: string;
    }>;
    if (!tables.some((t) => t.name === 'outbox')) return { entries: 0, pending: 0, dead: 0, snapshot: '' };
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    const snapshot = db.prepare("SELECT value FROM snapshots WHERE key = 'tracker'").get() as
      | { value: string }
      | undefined;
    return {
      entries: count("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'log-call'"),
      pending: count("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'"),
      dead: count("SELECT COUNT(*) AS n FROM outbox WHERE status = 'dead'"),
      snapshot: snapshot?.value ?? '',
    };
  } finally {
    db.close();
  }
}

const children: CliProcess[] = [];
afterAll(() => {
  for (const proc of children) proc.child.kill('SIGKILL');
});

describe('crash safety (SIGKILL during a CRM outage)', () => {
  it('killed at several points and restarted on the same SQLite file, every call is logged exactly once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cti-crash-'));
    const db = join(dir, 'state.db');
    const ovh = await startFakeOvhEventsServer({ holdMs: 300 });
    const crm = await createConformanceHarness();
    try {
      await crm.seedContact({ name: 'Alice Martin', phone: '+33 6 12 34 56 78' });
      writeFileSync(
        join(dir, 'cti.config.ts'),
        `import { salesforce } from '@cti-bridge/adapter-salesforce';
         import { defineConfig } from 'cti-runner';
         export default defineConfig({
           store: { kind: 'sqlite', path: './state.db' },
           adapters: {
             salesforce: salesforce({
               auth: { type: 'token', instanceUrl: ${JSON.stringify(crm.fake.url)}, accessToken: ${JSON.stringify(crm.fake.credentials.accessToken)} },
               task: { externalIdField: 'Call_Id__c' },
             }),
           },
           tokens: { ${JSON.stringify(TOKEN)}: { adapters: ['salesforce'] } },
           delivery: { baseDelayMs: 50, maxDelayMs: 300, maxAttempts: 100 },
           pipeline: { snapshotIntervalMs: 50 },
           http: false,
           logging: { level: 'info' },
           ovh: { baseUrl: ${JSON.stringify(ovh.url)}, pollTimeoutMs: 5000 },
         });`,
      );

      // The day: four calls, a fifth still going when the first kill happens, then three more.
      const s = createScenario({ token: TOKEN, start: new Date('2026-03-02T08:00:00Z') });
      const ids: string[] = [];
      const call = (n: number) => {
        const id = `crash-${n}`;
        ids.push(id);
        if (n % 2 === 0)
          s.inboundMissed({ from: '0612345678', to: '0033972101010', ringSeconds: 10, callId: id });
        else
          s.inboundAnswered({
            from: '+33699001122',
            to: '0033972101011',
            ringSeconds: 5,
            talkSeconds: 30 + n,
            callId: id,
          });
        s.wait(30);
      };
      for (let n = 1; n <= 4; n++) call(n);
      const before = s.events().length;
      ids.push('crash-flight');
      s.inboundAnswered({
        from: '0612345678',
        to: '0033972101012',
        ringSeconds: 4,
        talkSeconds: 120,
        callId: 'crash-flight',
      });
      s.wait(30);
      const flight = s.events().slice(before);
      const batch1 = [...s.events().slice(0, before), ...flight.slice(0, -1)];
      const flightEnd = flight.slice(-1);
      for (let n = 5; n <= 7; n++) call(n);
      const batch2 = [...flightEnd, ...s.events().slice(before + flight.length)];

      // The CRM is down: its next 40 writes answer 503.
      crm.injectFault({ status: 503, on: 'write', times: 40 });
      const start = () => {
        const proc = spawnCli(['run', '--config', 'cti.config.ts'], { cwd: dir });
        children.push(proc);
        return proc;
      };
      const kill = async (proc: CliProcess) => {
        proc.child.kill('SIGKILL');
        expect(await proc.exited).toBe('SIGKILL');
      };

      // Kill 1: every call of the morning is in the outbox (undelivered), one call is in flight.
      let proc = start();
      ovh.push(TOKEN, batch1);
      await waitFor(
        () => {
          const state = inspect(db);
          return state.entries === 4 && state.snapshot.includes('crash-flight');
        },
        'four undelivered calls and the call in flight in the snapshot',
        proc,
      );
      await kill(proc);

      // Events keep coming while the runner is down: the OVH session buffers them. (Wait until the
      // server saw the dead connection go: an event answered to a poll whose client just died is
      // lost — v1 has no acknowledgement — which is not what this test is about.)
      await waitFor(() => ovh.held() === 0, 'the killed poll to be dropped by the server');
      ovh.push(TOKEN, batch2);

      // Kill 2: restarted, it resumed the session and the call in flight.
      proc = start();
      await waitFor(() => inspect(db).entries === ids.length, 'every call in the outbox', proc);
      await kill(proc);

      // Kill 3: while deliveries are being retried against the failing CRM.
      proc = start();
      await waitFor(
        async () => {
          let logged = 0;
          for (const id of ids) logged += (await crm.loggedCalls(id)).length;
          return logged > 0 || inspect(db).pending < ids.length;
        },
        'some delivery progress',
        proc,
      );
      await kill(proc);

      // Last start: everything is delivered, then a graceful stop.
      proc = start();
      await waitFor(
        async () => {
          for (const id of ids) if ((await crm.loggedCalls(id)).length === 0) return false;
          return inspect(db).pending === 0;
        },
        'every call logged',
        proc,
      );
      // (the earlier runs may have logged everything: signal it only once it listens for signals)
      await waitFor(() => proc.stdout().includes('cti-runner started'), 'the runner to have started', proc);
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);

      for (const id of ids) {
        expect((await crm.loggedCalls(id)).length, `${id} logged exactly once`).toBe(1);
      }
      const flightLogged = (await crm.loggedCalls('crash-flight'))[0];
      expect(flightLogged?.durationSeconds).toBe(120);
      expect(inspect(db)).toMatchObject({ pending: 0, dead: 0, entries: ids.length });
    } finally {
      await crm.close();
      await ovh.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
