import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deletePrefix, randomPrefix, redisTestGate } from '@cti-bridge/store-redis/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCheck } from '../commands/check.js';
import { outboxList, outboxRetry } from '../commands/outbox.js';
import { configSchema } from '../config/schema.js';
import { openConfiguredStore } from './open.js';

const gate = await redisTestGate('runner redis store');

describe('store config: redis', () => {
  it('accepts kind redis with a url, defaults the prefix, refuses a non-redis URL', () => {
    const store = configSchema.shape.store;
    expect(store.parse({ kind: 'redis', url: 'redis://127.0.0.1:6379' })).toEqual({
      kind: 'redis',
      url: 'redis://127.0.0.1:6379',
      prefix: 'cti',
    });
    expect(store.parse({ kind: 'redis', url: 'redis://127.0.0.1:6379', outbox: 'bullmq' })).toMatchObject({
      outbox: 'bullmq',
    });
    expect(store.safeParse({ kind: 'redis', url: 'redis://127.0.0.1:6379', outbox: 'kafka' }).success).toBe(
      false,
    );
    const refused = store.safeParse({ kind: 'redis', url: 'http://x' });
    expect(refused.error?.issues[0]?.message).toContain('redis://127.0.0.1:6379');
  });

  it('an unreachable Redis is one line naming the URL with its password masked', async () => {
    await expect(
      openConfiguredStore({ kind: 'redis', url: 'redis://:hunter2@127.0.0.1:1', prefix: 'x' }),
    ).rejects.toThrow(/Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1\/? cannot be reached/);
  });
});

if (gate.mustFail) {
  it('runner redis store needs a reachable Redis', () => {
    throw new Error(gate.mustFail);
  });
}

describe.skipIf(!gate.run)('runner with a redis store', () => {
  let dir: string;
  let prefix: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cti-redis-'));
    prefix = randomPrefix('runner');
    writeFileSync(
      join(dir, 'cti.config.ts'),
      `import { memoryAdapter } from '@cti-bridge/core';
       import { defineConfig, env } from 'cti-runner';
       export default defineConfig({
         store: { kind: 'redis', url: env('REDIS_URL', { default: '${gate.url}' }), prefix: '${prefix}' },
         adapters: { crm: memoryAdapter({ name: 'crm' }) },
         tokens: { 'tok-abcdefgh-1': { adapters: ['crm'] } },
       });`,
    );
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    await deletePrefix(gate.url, prefix);
  });

  it('check verifies the connection and the server version', async () => {
    const lines: string[] = [];
    const code = await runCheck({ config: join(dir, 'cti.config.ts'), skipTokens: true }, (line) =>
      lines.push(line),
    );
    const text = lines.join('\n');
    expect(text).toMatch(/store .*redis \(prefix cti-runner:[0-9a-f]+\).*ok.*Redis \d+\.\d+\.\d+/);
    expect(text).toMatch(/outbox Lua/);
    expect(code).toBe(0);
  });

  it("check says which outbox runs: outbox: 'bullmq'", async () => {
    const file = join(dir, 'cti.config.ts');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(`prefix: '${prefix}'`, `prefix: '${prefix}', outbox: 'bullmq'`),
    );
    const lines: string[] = [];
    const code = await runCheck({ config: file, skipTokens: true }, (line) => lines.push(line));
    expect(lines.join('\n')).toMatch(/store .*redis .*ok.*outbox BullMQ/);
    expect(code).toBe(0);
  });

  it('outbox commands list and retry the dead letters of the BullMQ outbox', async () => {
    const file = join(dir, 'cti.config.ts');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(`prefix: '${prefix}'`, `prefix: '${prefix}', outbox: 'bullmq'`),
    );
    const store = await openConfiguredStore({ kind: 'redis', url: gate.url, prefix, outbox: 'bullmq' });
    try {
      await store.outbox.enqueue({ id: 'e1', adapter: 'crm', kind: 'log-call', payload: {}, createdAt: 1 });
      await store.outbox.markDead('e1', { kind: 'invalid', message: 'bad field' }, 2);
      const lines: string[] = [];
      expect(await outboxList({ config: file }, (line) => lines.push(line))).toBe(0);
      expect(lines.join('\n')).toContain('bad field');
      expect(await outboxRetry({ config: file }, () => {})).toBe(0);
      expect(await store.outbox.get('e1')).toMatchObject({ status: 'pending', attempts: 0 });
    } finally {
      await store.close();
    }
  });

  it('outbox commands read the shared outbox in Redis', async () => {
    const store = await openConfiguredStore({ kind: 'redis', url: gate.url, prefix });
    await store.outbox.enqueue({
      id: 'e1',
      adapter: 'crm',
      kind: 'log-call',
      payload: { callId: 'c-1' },
      createdAt: 1,
    });
    await store.outbox.markDead('e1', { kind: 'invalid', message: 'bad field' }, 2);
    await store.close();
    const lines: string[] = [];
    expect(await outboxList({ config: join(dir, 'cti.config.ts') }, (line) => lines.push(line))).toBe(0);
    expect(lines.join('\n')).toContain('bad field');
  });
});
