import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeHubSpot } from '@cti-bridge/adapter-hubspot/testing';
import { createScenario, startFakeOvhEventsServer, waitFor } from '@cti-bridge/core/testing';
import { describe, expect, it } from 'vitest';
import { runCli, spawnCli, whileRunning } from './__fixtures__/spawn-cli.js';
import { openDatabase } from './store/database.js';

const TOKEN = 'RETRY000-0000-4000-8000-000000000001';

function deadLetters(path: string): number {
  if (!existsSync(path)) return 0;
  const db = openDatabase(path, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE name = 'outbox'").all();
    if (tables.length === 0) return 0;
    return (db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE status = 'dead'").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('cti-runner outbox retry from a second process', () => {
  it('reaches the running runner through the store: the dead letter is delivered within 5 s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cti-retry-'));
    const ovh = await startFakeOvhEventsServer({ holdMs: 200 });
    const crm = await startFakeHubSpot({ rateLimit: false, indexLagMs: 0 });
    try {
      crm.seed('contacts', { firstname: 'Alice', phone: '+33612345678' }, { indexed: true });
      writeFileSync(
        join(dir, 'cti.config.ts'),
        `import { hubspot } from '@cti-bridge/adapter-hubspot';
         import { defineConfig } from 'cti-runner';
         export default defineConfig({
           store: { kind: 'sqlite', path: './state.db' },
           adapters: { hubspot: hubspot({ accessToken: ${JSON.stringify(crm.accessToken)}, basePath: ${JSON.stringify(crm.url)}, portalId: ${crm.portalId} }) },
           tokens: { ${JSON.stringify(TOKEN)}: { adapters: ['hubspot'] } },
           pipeline: { settleMs: 0 },
           http: false,
           logging: { level: 'info' },
           ovh: { baseUrl: ${JSON.stringify(ovh.url)}, pollTimeoutMs: 5000 },
         });`,
      );
      // HubSpot refuses the write once as invalid: a permanent error, the entry becomes a dead letter
      crm.inject({ status: 400, on: 'write', times: 1 });
      const runner = spawnCli(['run', '--config', 'cti.config.ts'], { cwd: dir });
      try {
        const scenario = createScenario({ token: TOKEN });
        scenario.inboundAnswered({
          from: '0612345678',
          to: '0033972101010',
          ringSeconds: 4,
          talkSeconds: 30,
          callId: 'retry-1',
        });
        ovh.push(TOKEN, scenario.events());
        await waitFor(
          () => deadLetters(join(dir, 'state.db')) === 1,
          'a dead letter',
          whileRunning(runner, { timeoutMs: 45_000, intervalMs: 50 }),
        );
        expect(crm.records('calls')).toHaveLength(0);

        const retry = await runCli(['outbox', 'retry', '--config', 'cti.config.ts'], { cwd: dir });
        expect(retry.code, retry.stderr).toBe(0);
        expect(retry.stdout).toMatch(/1 dead letter\(s\) queued/);
        const retriedAt = Date.now();
        await waitFor(
          () => crm.records('calls').length === 1,
          'the retried call in HubSpot',
          whileRunning(runner, { intervalMs: 50 }),
        );
        expect(Date.now() - retriedAt, 'the retried call reached HubSpot within 5 s').toBeLessThanOrEqual(
          5_000,
        );
        expect(deadLetters(join(dir, 'state.db'))).toBe(0);
      } finally {
        runner.child.kill('SIGTERM');
        await runner.exited;
      }
    } finally {
      await crm.close();
      await ovh.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
