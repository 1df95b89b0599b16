import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeOvhEventsServer, waitFor } from '@cti-bridge/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, spawnCli, whileRunning } from '../__fixtures__/spawn-cli.js';
import { acquireStoreLock } from './lock.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cti-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('SQLite single-runner lock', () => {
  it('a second holder is refused while the first runs; release frees the file', () => {
    const file = join(dir, 'state.db');
    // The parent process stands for "another runner that is alive".
    const other = acquireStoreLock(file, process.ppid);
    expect(JSON.parse(readFileSync(`${file}.lock`, 'utf8'))).toMatchObject({
      pid: process.ppid,
      host: hostname(),
    });
    expect(() => acquireStoreLock(file)).toThrow(
      new RegExp(
        `another cti-runner \\(pid ${process.ppid} on .*already uses the state file .*state\\.db.*store kind 'redis'`,
      ),
    );
    other.release();
    expect(existsSync(`${file}.lock`)).toBe(false);
    const mine = acquireStoreLock(file);
    mine.release();
  });

  it('a lock left by a runner that died is taken over', () => {
    const file = join(dir, 'state.db');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: dead, host: hostname(), startedAt: 'earlier' }));
    const lock = acquireStoreLock(file);
    expect(JSON.parse(readFileSync(`${file}.lock`, 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
  });

  it('cti-runner run: a second runner on the same SQLite file refuses to start (exit 1)', async () => {
    const ovh = await startFakeOvhEventsServer({ holdMs: 5_000 });
    writeFileSync(
      join(dir, 'cti.config.ts'),
      `import { memoryAdapter } from '@cti-bridge/core';
       import { defineConfig } from 'cti-runner';
       export default defineConfig({
         store: { kind: 'sqlite', path: './state.db' },
         adapters: { crm: memoryAdapter({ name: 'crm' }) },
         tokens: { 'LOCK0000-TOKEN': { adapters: ['crm'] } },
         ovh: { baseUrl: '${ovh.url}' },
         http: false,
       });`,
    );
    const first = spawnCli(['run', '--config', 'cti.config.ts'], { cwd: dir });
    try {
      await waitFor(
        () => first.stdout().includes('cti-runner started'),
        'the first runner to start',
        whileRunning(first, { timeoutMs: 45_000, intervalMs: 50 }),
      );
      expect(first.stdout(), first.stderr()).toContain('cti-runner started');
      const second = await runCli(['run', '--config', 'cti.config.ts'], { cwd: dir });
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`another cti-runner (pid ${first.child.pid}`);
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(existsSync(join(dir, 'state.db.lock'))).toBe(false);
    } finally {
      first.child.kill('SIGKILL');
      await ovh.close();
    }
  }, 60_000);
});
