import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deletePrefix, randomPrefix, redisTestGate } from '@cti-bridge/store-redis/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCheck } from '../commands/check.js';
import { outboxList } from '../commands/outbox.js';
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
    expect(code).toBe(0);
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
