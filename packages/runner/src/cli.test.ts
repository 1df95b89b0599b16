import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeOvhEventsServer } from '@cti-bridge/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from './__fixtures__/spawn-cli.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cti-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const NO_OVH = { OVH_EVENT_TOKEN: undefined, HUBSPOT_ACCESS_TOKEN: undefined };

/** A `cti.config.ts` in the test directory: one token into core's memoryAdapter, SQLite state. */
function writeMemoryConfig(token: string, ovhUrl: string, more = ''): void {
  writeFileSync(
    join(dir, 'cti.config.ts'),
    `import { memoryAdapter } from '@cti-bridge/core';
     import { defineConfig } from 'cti-runner';
     export default defineConfig({
       store: { kind: 'sqlite', path: './state.db' },
       adapters: { crm: memoryAdapter({ name: 'crm' }) },
       tokens: { '${token}': { adapters: ['crm'] } },
       ovh: { baseUrl: '${ovhUrl}' },
       ${more}
     });`,
  );
}

describe('cti-runner CLI', () => {
  it('init writes a commented config; check then names the missing variable (exit 2)', async () => {
    const init = await runCli(['init'], { cwd: dir });
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('npx cti-runner check --config cti.config.ts');
    const text = readFileSync(join(dir, 'cti.config.ts'), 'utf8');
    expect(text).toContain("import { defineConfig, env } from 'cti-runner';");
    expect(text).toContain('// ');

    const again = await runCli(['init'], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stdout).toContain('already exists');

    const check = await runCli(['check', '--config', 'cti.config.ts'], { cwd: dir, env: NO_OVH });
    expect(check.code).toBe(2);
    expect(check.stderr).toContain('environment variables not set: HUBSPOT_ACCESS_TOKEN, OVH_EVENT_TOKEN');
  }, 60_000);

  it('a typo in the config fails with exit 2 and names the key', async () => {
    writeFileSync(
      join(dir, 'cti.config.ts'),
      `import { memoryAdapter } from '@cti-bridge/core';
       import { defineConfig } from 'cti-runner';
       export default defineConfig({
         adapters: { hubspot: memoryAdapter({ name: 'hubspot' }), odoo: memoryAdapter({ name: 'odoo' }) },
         tokens: { ABC: { adapters: ['hubspt'] } },
       });`,
    );
    const result = await runCli(['check'], { cwd: dir });
    expect(result.code).toBe(2);
    // the token key is masked in the message (ABC is too short to show any of it)
    expect(result.stderr).toContain(
      "tokens.….adapters[0]: unknown adapter 'hubspt' — defined adapters: hubspot, odoo",
    );
  }, 30_000);

  it('check prints a table: ok against reachable fakes (exit 0), a failing token is exit 3', async () => {
    const ovh = await startFakeOvhEventsServer({ holdMs: 300 });
    try {
      writeMemoryConfig('GOOD0000-TOKEN', ovh.url);
      // bounded generously: on a loaded machine the CLI's start alone takes seconds
      const ok = await runCli(['check', '--probe-timeout', '1000'], { cwd: dir, timeoutMs: 55_000 });
      expect(ok.stdout, `check printed nothing (exit ${ok.code}): ${ok.stderr}`).toMatch(
        /config\s+.*cti\.config\.ts\s+ok/,
      );
      expect(ok.stdout).toMatch(/store\s+.*state\.db\s+ok\s+schema v1/);
      expect(ok.stdout).toMatch(/adapter\s+crm\s+ok/);
      expect(ok.stdout).toMatch(/ovh token\s+GOOD0000…\s+ok\s+reachable/);
      expect(ok.stdout).toContain('All checks passed.');
      expect(ok.code).toBe(0);
      expect(ok.stdout).not.toContain('GOOD0000-TOKEN');

      ovh.inject({ type: 'http-error', status: 403, times: 1 });
      const failed = await runCli(['check', '--probe-timeout', '1000'], { cwd: dir, timeoutMs: 55_000 });
      expect(failed.stdout).toMatch(/ovh token\s+GOOD0000…\s+FAIL\s+HTTP 403: token possibly invalid/);
      expect(failed.code).toBe(3);
    } finally {
      await ovh.close();
    }
  }, 120_000);

  it('run polls, releases its start-up memory 2 s after start, and stops on SIGTERM (exit 0)', async () => {
    const ovh = await startFakeOvhEventsServer({ holdMs: 5_000 });
    writeMemoryConfig('SETTLE00-TOKEN', ovh.url, "http: false, logging: { level: 'debug' },");
    const proc = spawnCli(['run', '--config', 'cti.config.ts'], { cwd: dir });
    try {
      const released = () =>
        proc
          .stdout()
          .split('\n')
          .filter((line) => line.includes('start-up memory released'))
          .map((line) => JSON.parse(line) as { beforeMb: number; afterMb: number });
      const deadline = Date.now() + 30_000;
      while (released().length === 0 && proc.child.exitCode === null && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(ovh.requests().some((r) => r.token === 'SETTLE00-TOKEN')).toBe(true);
      const [line] = released();
      expect(line, proc.stdout() + proc.stderr()).toBeDefined();
      expect(line?.afterMb).toBeLessThanOrEqual(line?.beforeMb ?? 0);
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      expect(proc.stdout()).toContain('cti-runner stopped');
    } finally {
      proc.child.kill('SIGKILL');
      await ovh.close();
    }
  }, 60_000);

  it('--help works on every command; an unknown option is a usage error (exit 2)', async () => {
    const help = await runCli(['replay', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--dry-run');
    expect(help.stdout).toContain('Exit codes:');
    const bad = await runCli(['outbox', 'list', '--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown option '--bogus'");
  }, 30_000);
});
