/**
 * A Redis restart in the middle of a run (for each outbox engine: the Lua scripts, BullMQ), against a redis-server of the test's own (random port,
 * append-only file in a temporary directory): what reached the outbox survives, entries enqueued
 * while Redis was down wait in memory and are written once, nothing is duplicated. Bounded (~5 s).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor as waitUntil } from '@cti-bridge/core/testing';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createRedisStore } from './redis-store.js';
import { outboxEnginesUnderTest } from './testing/index.js';

const hasServer = spawnSync('redis-server', ['--version']).status === 0;
if (!hasServer)
  process.stderr.write('\n!!!!! SKIPPED: the Redis restart test needs the redis-server binary\n\n');

const T0 = 1_760_000_000_000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const waitFor = (what: string, condition: () => boolean | Promise<boolean>, timeoutMs?: number) =>
  waitUntil(condition, what, { timeoutMs });

async function ping(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

describe.skipIf(!hasServer).each(outboxEnginesUnderTest())(
  'redis store (outbox %s) across a Redis restart',
  (outbox) => {
    it('keeps what reached the outbox, buffers during the outage, duplicates nothing', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cti-redis-restart-'));
      const port = await freePort();
      const url = `redis://127.0.0.1:${port}`;
      let server: ChildProcess | undefined;
      const start = async () => {
        server = spawn(
          'redis-server',
          ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''],
          { stdio: 'ignore' },
        );
        await waitFor('redis-server to answer', () => ping(url));
      };
      await start();
      const store = await createRedisStore({ url, prefix: 'restart', flushIntervalMs: 50, outbox });
      try {
        const entry = (i: number) => ({
          id: `r${String(i).padStart(2, '0')}`,
          adapter: 'crm',
          kind: 'log-call' as const,
          payload: { i },
          createdAt: T0 + i,
        });
        for (let i = 0; i < 20; i++) expect(await store.outbox.enqueue(entry(i))).toBe(true);
        for (const due of await store.outbox.due('crm', T0 + 100, 5)) {
          await store.outbox.markDelivered(due.id, { id: `act-${due.id}` }, T0 + 200);
        }

        // Redis goes down (a clean shutdown writes the append-only file), the runner goes on.
        const stopped = new Promise((resolve) => server?.once('exit', resolve));
        spawnSync('redis-cli', ['-p', String(port), 'shutdown']);
        await stopped;
        for (let i = 20; i < 25; i++) expect(await store.outbox.enqueue(entry(i))).toBe(true);
        expect(await store.outbox.enqueue(entry(20))).toBe(false);
        expect(store.buffered()).toBe(5);
        // BullMQ's delivery fails fast while Redis is down (the worker backs off): it never hangs.
        if (outbox === 'bullmq') await expect(store.outbox.due('crm', T0 + 100, 5)).rejects.toThrow();

        await start();
        await waitFor('the buffered entries to be written', () => store.buffered() === 0);
        // An entry written before the restart is still there: enqueuing it again changes nothing.
        expect(await store.outbox.enqueue(entry(3))).toBe(false);
        const all = await store.outbox.list();
        expect(all.map((e) => e.id)).toEqual(Array.from({ length: 25 }, (_, i) => entry(i).id));
        expect(await store.outbox.counts()).toEqual({ pending: 20, delivered: 5, dead: 0 });
        expect((await store.outbox.get('r00'))?.result).toEqual({ id: 'act-r00' });
        // Delivery goes on after the restart: the rest is handed out once, then nothing is due.
        const rest = await store.outbox.due('crm', T0 + 1_000, 100);
        expect(rest.map((e) => e.id)).toEqual(all.slice(5).map((e) => e.id));
        for (const due of rest) await store.outbox.markDelivered(due.id, { id: `act-${due.id}` }, T0 + 2_000);
        expect(await store.outbox.due('crm', T0 + 3_000, 100)).toEqual([]);
        expect(await store.outbox.counts()).toEqual({ pending: 0, delivered: 25, dead: 0 });
      } finally {
        await store.close();
        server?.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    }, 30_000);
  },
);
