/**
 * `cti-runner outbox retry` from a second process, with the outbox on BullMQ (Redis store,
 * `outbox: 'bullmq'`): the requeued dead letter waits in its queue, and the running runner
 * (its connector polls the outbox every 2 s) delivers it within seconds.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeHubSpot } from '@cti-bridge/adapter-hubspot/testing';
import { createScenario, startFakeOvhEventsServer, waitFor } from '@cti-bridge/core/testing';
import { connectRedis } from '@cti-bridge/store-redis';
import { deletePrefix, randomPrefix, redisTestGate } from '@cti-bridge/store-redis/testing';
import { describe, expect, it } from 'vitest';
import { runCli, spawnCli, whileRunning } from './__fixtures__/spawn-cli.js';

const gate = await redisTestGate('outbox retry on BullMQ (2 processes)');
const TOKEN = 'RETRY000-0000-4000-8000-0000000000B2';

if (gate.mustFail) {
  it('outbox retry on BullMQ needs a reachable Redis', () => {
    throw new Error(gate.mustFail);
  });
}

describe.skipIf(!gate.run)('cti-runner outbox retry from a second process, outbox on BullMQ', () => {
  it('the dead letter is delivered within 5 s by the running runner', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cti-retry-bullmq-'));
    const prefix = randomPrefix('retry-bullmq');
    const ovh = await startFakeOvhEventsServer({ holdMs: 200 });
    const crm = await startFakeHubSpot({ rateLimit: false, indexLagMs: 0 });
    const redis = await connectRedis({ url: gate.url });
    const failed = () => redis.zcard(`${prefix}:bq:hubspot:failed`);
    try {
      crm.seed('contacts', { firstname: 'Alice', phone: '+33612345678' }, { indexed: true });
      writeFileSync(
        join(dir, 'cti.config.ts'),
        `import { hubspot } from '@cti-bridge/adapter-hubspot';
         import { defineConfig } from 'cti-runner';
         export default defineConfig({
           store: { kind: 'redis', url: ${JSON.stringify(gate.url)}, prefix: ${JSON.stringify(prefix)}, outbox: 'bullmq' },
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
          callId: 'retry-bullmq-1',
        });
        ovh.push(TOKEN, scenario.events());
        await waitFor(
          async () => (await failed()) === 1,
          'a dead letter (a failed BullMQ job)',
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
        expect(await failed()).toBe(0);
        await waitFor(
          async () => (await redis.zcard(`${prefix}:bq:hubspot:completed`)) === 1,
          'the entry delivered',
          whileRunning(runner, { intervalMs: 50 }),
        );
      } finally {
        runner.child.kill('SIGTERM');
        await runner.exited;
      }
    } finally {
      redis.disconnect();
      await crm.close();
      await ovh.close();
      await deletePrefix(gate.url, prefix);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
