import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hubspot } from '@cti-bridge/adapter-hubspot';
import { startFakeHubSpot } from '@cti-bridge/adapter-hubspot/testing';
import { createScenario, startFakeOvhEventsServer, waitFor } from '@cti-bridge/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from './config/schema.js';
import { createLogger } from './ops/logger.js';
import { startRunner } from './runtime.js';

const TOKEN = 'DEAD11NE-0000-4000-8000-000000000001';
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cti-deadline-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Sockets this process has open to a server (the runner's side of the connections). */
function clientSockets(url: string): number {
  const port = Number(new URL(url).port);
  const handles = (
    process as unknown as { _getActiveHandles(): Array<{ remotePort?: number }> }
  )._getActiveHandles();
  return handles.filter((handle) => handle.remotePort === port).length;
}

describe('a CRM that hangs', () => {
  it('holds a bounded number of sockets while it hangs, and none is left open after stop', async () => {
    const ovh = await startFakeOvhEventsServer({ holdMs: 200 });
    const crm = await startFakeHubSpot({ rateLimit: false, indexLagMs: 0 });
    // every write hangs: HubSpot accepts the connection and never answers
    crm.inject({ kind: 'hang', on: 'write', times: 1_000 });
    const runner = await startRunner({
      config: parseConfig({
        store: { kind: 'sqlite', path: join(dir, 'state.db') },
        adapters: {
          hubspot: hubspot({ accessToken: crm.accessToken, basePath: crm.url, portalId: crm.portalId }),
        },
        tokens: { [TOKEN]: { adapters: ['hubspot'] } },
        delivery: { baseDelayMs: 20, maxDelayMs: 50, maxAttempts: 100, timeoutMs: 300, concurrency: 2 },
        pipeline: { snapshotIntervalMs: 50, settleMs: 0 },
        http: false,
        logging: { level: 'silent' },
        ovh: { baseUrl: ovh.url, pollTimeoutMs: 5000 },
      }),
      logger: createLogger({ level: 'silent' }),
    });
    const scenario = createScenario({ token: TOKEN });
    for (let i = 0; i < 6; i++) {
      crm.seed('contacts', { firstname: `Caller ${i}`, phone: `+3369900113${i}` }, { indexed: true });
      scenario.inboundMissed({
        from: `+3369900113${i}`,
        to: '0033972101011',
        ringSeconds: 5,
        callId: `h-${i}`,
      });
    }
    ovh.push(TOKEN, scenario.events());
    // writes time out after 300 ms, each attempt waits (at most 300 ms more) for its aborted write
    // to end before its retry, 20-50 ms later; without deadlines each one left its socket open.
    // Sample the open sockets every 50 ms until 8 retries have happened (not for a fixed time: a
    // slow machine gets as many retries, later), keeping the most seen.
    let most = 0;
    await waitFor(
      () => {
        most = Math.max(most, clientSockets(crm.url));
        return runner.connector.stats().retries >= 8;
      },
      'eight retries of the hanging writes',
      { intervalMs: 50 },
    );
    // two delivery slots, the screen-pop lookups, and one being replaced: bounded, not one per retry
    expect(most).toBeLessThanOrEqual(5);
    await runner.stop(2_000);
    expect(clientSockets(crm.url)).toBe(0);
    await crm.close();
    await ovh.close();
  }, 30_000);
});
