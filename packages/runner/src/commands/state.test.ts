import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../__fixtures__/spawn-cli.js';
import { explainNativeBindingError } from '../store/native-binding.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cti-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const MISMATCH = fileURLToPath(new URL('../store/__fixtures__/mismatched-binding.cjs', import.meta.url));

/**
 * A config whose adapter (an installed package whose factory refuses a placeholder secret) needs
 * a secret; SQLite state in ./state.db.
 */
function writeConfig(): void {
  const pkg = join(dir, 'node_modules', 'strict-crm-adapter');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({ name: 'strict-crm-adapter', type: 'module', exports: './index.js' }),
  );
  writeFileSync(
    join(pkg, 'index.js'),
    `import { memoryAdapter } from '@cti-bridge/core';
     export function strictCrm({ secret }) {
       if (!/^s3cr3t-/.test(secret)) throw new Error('strictCrm: secret must start with s3cr3t-');
       return memoryAdapter({ name: 'crm' });
     }`,
  );
  writeFileSync(
    join(dir, 'cti.config.mts'),
    `import { strictCrm } from 'strict-crm-adapter';
     import { defineConfig, env } from 'cti-runner';
     export default defineConfig({
       store: { kind: 'sqlite', path: './state.db' },
       adapters: { crm: strictCrm({ secret: env('CTI_TEST_CRM_SECRET') }) },
       tokens: { 'STATE000-TOKEN': { adapters: ['crm'] } },
       http: false,
     });`,
  );
}

describe('state file', () => {
  it('check does not create the state file', async () => {
    writeConfig();
    const check = await runCli(['check', '--skip-tokens'], {
      cwd: dir,
      env: { CTI_TEST_CRM_SECRET: 's3cr3t-value' },
    });
    expect(check.stdout).toMatch(/store\s+.*state\.db\s+ok\s+schema v\d+ — not created yet/);
    expect(check.code).toBe(0);
    expect(existsSync(join(dir, 'state.db'))).toBe(false);
  }, 60_000);

  it('outbox list works without the CRM secrets the config reads', async () => {
    writeConfig();
    const list = await runCli(['outbox', 'list'], { cwd: dir, env: { CTI_TEST_CRM_SECRET: undefined } });
    // Before the first run: nothing to list, and nothing created.
    expect(list.stderr).toContain('no state file at');
    expect(list.code).toBe(1);
    expect(existsSync(join(dir, 'state.db'))).toBe(false);
    // After it: the outbox, still without the secret.
    const run = spawnCli(['run'], { cwd: dir, env: { CTI_TEST_CRM_SECRET: 's3cr3t-value' } });
    const deadline = Date.now() + 45_000;
    while (
      !run.stdout().includes('cti-runner started') &&
      run.child.exitCode === null &&
      Date.now() < deadline
    )
      await new Promise((r) => setTimeout(r, 50));
    run.child.kill('SIGTERM');
    expect(await run.exited, run.stderr()).toBe(0);
    const after = await runCli(['outbox', 'list'], { cwd: dir, env: { CTI_TEST_CRM_SECRET: undefined } });
    expect(after.stderr).toBe('');
    expect(after.stdout).toContain('0 shown');
    expect(after.code).toBe(0);
  }, 60_000);
});

describe('better-sqlite3 native binding that does not load', () => {
  it('run and check each say it in one actionable line', async () => {
    writeConfig();
    const env = {
      CTI_TEST_CRM_SECRET: 's3cr3t-value',
      NODE_OPTIONS: `--require ${MISMATCH}`,
      // better-sqlite3 itself, even where CI swaps in node:sqlite (see store/database.ts).
      CTI_SQLITE_DRIVER: undefined,
    };
    const run = await runCli(['run'], { cwd: dir, env });
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('npm rebuild better-sqlite3');
    expect(lines[0]).toContain('install script');

    const check = await runCli(['check', '--skip-tokens'], { cwd: dir, env });
    expect(check.code).toBe(3);
    const row = check.stdout.split('\n').filter((line) => line.startsWith('store'));
    expect(row).toHaveLength(1);
    expect(row[0]).toMatch(/store\s+.*FAIL\s+.*npm rebuild better-sqlite3/);
    expect(check.stdout.split('\n').filter((line) => line.includes('NODE_MODULE_VERSION'))).toHaveLength(0);
  }, 60_000);

  it('explains a missing binding (install script not run) and leaves other errors alone', () => {
    const missing = new Error(
      'Could not locate the bindings file. Tried:\n → /app/node_modules/better-sqlite3/build/better_sqlite3.node',
    );
    expect(explainNativeBindingError(missing)).toMatch(/not built.*npm rebuild better-sqlite3/);
    expect(explainNativeBindingError(new Error('SQLITE_CANTOPEN: unable to open database file'))).toBe(
      undefined,
    );
  });
});
