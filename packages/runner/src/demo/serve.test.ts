import 'reflect-metadata';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@cti-bridge/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, spawnCli, whileRunning } from '../__fixtures__/spawn-cli.js';
import { startDemoServer } from './serve.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cti-serve-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('cti-runner demo --serve', () => {
  it('the real `run` with the config it writes logs every call in every fake CRM, and stops on SIGTERM (exit 0)', async () => {
    const server = await startDemoServer({ dir, httpPort: 0 });
    // `check` first, as a user would: its one-off probe poll is not a runner to play the calls to.
    const check = await runCli(['check', '--config', join(dir, 'cti.config.mjs'), '--probe-timeout', '500'], {
      cwd: dir,
    });
    expect(check.stdout).toContain('All checks passed.');
    expect(server.polled()).toBe(false);
    const run = spawnCli(['run', '--config', server.configPath, '--shutdown-timeout', '3000'], { cwd: dir });
    try {
      expect(server.configPath).toBe(join(dir, 'cti.config.mjs'));
      expect(readFileSync(server.configPath, 'utf8')).toContain("from '@cti-bridge/adapter-hubspot'");
      expect(server.crms.map((crm) => crm.name)).toEqual(['salesforce', 'hubspot', 'odoo']);
      await waitFor(() => server.polled(), 'the runner to poll', whileRunning(run, { timeoutMs: 60_000 }));
      expect(run.child.exitCode, run.stderr()).toBe(null);
      const expected = await server.play();
      await waitFor(
        async () => [...(await server.logged(expected)).values()].every((n) => n === expected.length),
        'every call logged',
        whileRunning(run, { timeoutMs: 60_000, intervalMs: 100 }),
      );
      expect(existsSync(join(dir, 'cti-demo-run.db'))).toBe(true);
      const stoppedAt = Date.now();
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(Date.now() - stoppedAt).toBeLessThan(3000 + 5000);
      expect(run.stdout()).toContain('cti-runner stopped');
    } finally {
      run.child.kill('SIGKILL');
      await server.close();
    }
  }, 150_000);
});
