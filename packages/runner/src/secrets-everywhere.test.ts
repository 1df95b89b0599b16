import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeHubSpot } from '@cti-bridge/adapter-hubspot/testing';
import { createScenario, startFakeOvhEventsServer, waitFor } from '@cti-bridge/core/testing';
import { describe, expect, it } from 'vitest';
import { runCli, spawnCli, whileRunning } from './__fixtures__/spawn-cli.js';
import { tokenReference } from './store/token-safe-store.js';

// Every secret a config holds: the OVH event token, a CRM credential and a value read with env().
const OVH_TOKEN = 'SECRE7AA-7E57-4000-8000-00000000BEEF';
const CRM_TOKEN = 'pat-na1-00000000-refused-crm-credential';
const ENV_SECRET = 'env-secret-value-never-printed-0002';

const hits = (text: string) =>
  [OVH_TOKEN, CRM_TOKEN, ENV_SECRET].filter((secret) => text.includes(secret)).map((s) => s.slice(0, 12));

/**
 * Runs `cti-runner run` in `dir` until its output shows `text` (`what`, for the error when it does
 * not), stops it with `signal` (SIGKILL: a crash) and returns its whole output.
 */
async function runUntil(
  dir: string,
  env: Record<string, string>,
  text: string,
  what: string,
  signal: NodeJS.Signals,
): Promise<string> {
  const run = spawnCli(['run', '--config', 'cti.config.ts'], { cwd: dir, env });
  try {
    await waitFor(
      () => (run.stdout() + run.stderr()).includes(text),
      `${what} in the runner's output`,
      whileRunning(run, { timeoutMs: 30_000, intervalMs: 100 }),
    );
  } finally {
    run.child.kill(signal);
    await run.exited;
  }
  return run.stdout() + run.stderr();
}

describe('no secret in any output', () => {
  it('config errors, refused CRM credentials, a refused and an unreachable OVH stream, a crash: 0 hits at debug level', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cti-secrets-'));
    const ovh = await startFakeOvhEventsServer({ holdMs: 200 });
    const crm = await startFakeHubSpot({ rateLimit: false, indexLagMs: 0 });
    const env = { CTI_TEST_CRM_TOKEN: CRM_TOKEN, CTI_TEST_ENV_SECRET: ENV_SECRET };
    const config = (ovhUrl: string, extraToken = '') =>
      `import { hubspot } from '@cti-bridge/adapter-hubspot';
       import { defineConfig, env } from 'cti-runner';
       export default defineConfig({
         store: { kind: 'sqlite', path: './state.db' },
         adapters: { hubspot: hubspot({ accessToken: env('CTI_TEST_CRM_TOKEN'), basePath: ${JSON.stringify(crm.url)}, portalId: ${crm.portalId} }) },
         tokens: { ${JSON.stringify(OVH_TOKEN)}: { adapters: ['hubspot'], label: env('CTI_TEST_ENV_SECRET')${extraToken} } },
         delivery: { baseDelayMs: 50, maxDelayMs: 200 },
         pipeline: { settleMs: 0 },
         http: false,
         logging: { level: 'debug' },
         ovh: { baseUrl: ${JSON.stringify(ovhUrl)}, pollTimeoutMs: 2000 },
       });`;
    let output = '';
    try {
      // 1. a config error under the token's key
      writeFileSync(join(dir, 'cti.config.ts'), config(ovh.url, ", defaultCountri: 'FR'"));
      const bad = await runCli(['run', '--config', 'cti.config.ts'], { cwd: dir, env });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('defaultCountri');
      output += bad.stdout + bad.stderr;

      // 2. check: the CRM refuses the credential, the OVH stream refuses the token
      writeFileSync(join(dir, 'cti.config.ts'), config(ovh.url));
      ovh.inject({ type: 'http-error', status: 403, body: `token ${OVH_TOKEN} is not valid`, times: 2 });
      const check = await runCli(['check', '--config', 'cti.config.ts'], { cwd: dir, env });
      expect(check.code).not.toBe(0);
      output += check.stdout + check.stderr;

      // 3. run: refused polls, then a call whose lookups and writes HubSpot refuses (401), then a crash
      ovh.inject({ type: 'http-error', status: 403, body: `token ${OVH_TOKEN} is not valid`, times: 2 });
      const scenario = createScenario({ token: OVH_TOKEN });
      scenario.inboundAnswered({ from: '0612345678', to: '0033972101010', ringSeconds: 3, talkSeconds: 20 });
      ovh.push(OVH_TOKEN, scenario.events());
      output += await runUntil(dir, env, 'INVALID_AUTHENTICATION', "HubSpot's refusal", 'SIGKILL');
      expect(output).toContain('INVALID_AUTHENTICATION');

      // 4. after the crash, the OVH stream cannot be reached at all (network errors)
      writeFileSync(join(dir, 'cti.config.ts'), config('http://127.0.0.1:9'));
      output += await runUntil(dir, env, 'network error polling', 'a network error', 'SIGTERM');
      expect(output).toContain('network error polling');

      expect(output.length).toBeGreaterThan(2_000);
      expect(hits(output)).toEqual([]);
      // the state files: no secret at all, the OVH token included (cursors, snapshots and outbox
      // payloads hold its reference), and the call that ended did reach them
      const state = readdirSync(dir)
        .filter((f) => f.startsWith('state.db'))
        .map((f) => readFileSync(join(dir, f)).toString('latin1'))
        .join('');
      expect(existsSync(join(dir, 'state.db'))).toBe(true);
      expect(state).toContain(tokenReference(OVH_TOKEN));
      expect(hits(state)).toEqual([]);
    } finally {
      await crm.close();
      await ovh.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
