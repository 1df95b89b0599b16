import type { NewOutboxEntry, OutboxEntry, OutboxFilter, OutboxStatus, OutboxStore } from '@cti-bridge/core';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';
import { CLAIM_DUE, ENQUEUE, NEXT_DUE, REQUEUE_OR_PURGE, SETTLE } from './scripts.js';

type Script = 'ctiEnqueue' | 'ctiClaimDue' | 'ctiNextDue' | 'ctiSettle' | 'ctiRequeuePurge';

/** The store's ioredis client with the outbox's Lua scripts defined as commands. */
export type ScriptClient = Redis & Record<Script, (...args: (string | number)[]) => Promise<unknown>>;

/** Defines the outbox's Lua scripts on a client (once per client). */
export function defineScripts(client: Redis): ScriptClient {
  const scripts: Record<Script, string> = {
    ctiEnqueue: ENQUEUE,
    ctiClaimDue: CLAIM_DUE,
    ctiNextDue: NEXT_DUE,
    ctiSettle: SETTLE,
    ctiRequeuePurge: REQUEUE_OR_PURGE,
  };
  for (const [name, lua] of Object.entries(scripts)) {
    if (!(name in client)) client.defineCommand(name, { numberOfKeys: 0, lua });
  }
  return client as ScriptClient;
}

/** What the Lua outbox works with. */
export interface LuaOutboxContext {
  readonly client: ScriptClient;
  readonly keys: RedisKeys;
  /** The name this store claims entries under. */
  readonly owner: string;
  readonly claimMs: number;
  readonly clock: () => number;
}

/** An entry hash (HGETALL as an object or a flat array) as an {@link OutboxEntry}. */
function toEntry(hash: Record<string, string>): OutboxEntry {
  const entry: Record<string, unknown> = {
    id: hash.id,
    adapter: hash.adapter,
    kind: hash.kind,
    payload: JSON.parse(hash.payload ?? 'null') as unknown,
    createdAt: Number(hash.createdAt),
    status: hash.status,
    attempts: Number(hash.attempts),
    nextAttemptAt: Number(hash.nextAttemptAt),
    updatedAt: Number(hash.updatedAt),
  };
  if (hash.lastError !== undefined) entry.lastError = JSON.parse(hash.lastError) as unknown;
  if (hash.result !== undefined) entry.result = JSON.parse(hash.result) as unknown;
  return entry as unknown as OutboxEntry;
}

function pairs(flat: readonly string[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i] as string] = flat[i + 1] as string;
  return hash;
}

const byAge = (a: OutboxEntry, b: OutboxEntry) =>
  a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The entries of these ids (missing ones left out), read in one pipeline. */
async function read(ctx: LuaOutboxContext, ids: readonly string[]): Promise<OutboxEntry[]> {
  if (ids.length === 0) return [];
  const pipeline = ctx.client.pipeline();
  for (const id of ids) pipeline.hgetall(ctx.keys.entry(id));
  const results = (await pipeline.exec()) ?? [];
  const entries: OutboxEntry[] = [];
  for (const [error, hash] of results) {
    if (error) throw error;
    const record = hash as Record<string, string>;
    if (record.id !== undefined) entries.push(toEntry(record));
  }
  return entries;
}

const matches = (entry: OutboxEntry, filter: OutboxFilter) =>
  (filter.status === undefined || entry.status === filter.status) &&
  (filter.adapter === undefined || entry.adapter === filter.adapter) &&
  (filter.ids === undefined || filter.ids.includes(entry.id)) &&
  (filter.updatedBefore === undefined || entry.updatedAt < filter.updatedBefore);

/** The entries matching a filter, oldest first, read in pages from the smallest index that fits. */
async function selected(ctx: LuaOutboxContext, filter: OutboxFilter): Promise<OutboxEntry[]> {
  const { client, keys } = ctx;
  const limit = filter.limit === undefined ? Number.POSITIVE_INFINITY : Math.max(0, filter.limit);
  if (limit === 0) return [];
  if (filter.ids !== undefined) {
    const found = (await read(ctx, [...new Set(filter.ids)])).filter((e) => matches(e, filter)).sort(byAge);
    return found.slice(0, limit);
  }
  const index = filter.status === undefined ? keys.all : keys.status(filter.status);
  const found: OutboxEntry[] = [];
  const page = 500;
  for (let offset = 0; found.length < limit; offset += page) {
    const ids = await client.zrange(index, offset, offset + page - 1);
    if (ids.length === 0) break;
    for (const entry of await read(ctx, ids)) {
      if (matches(entry, filter)) found.push(entry);
      if (found.length >= limit) break;
    }
    if (ids.length < page) break;
  }
  return found;
}

/** Settles one entry with the SETTLE script (only this store's claim, or a delivery, changes it). */
async function settle(
  ctx: LuaOutboxContext,
  id: string,
  action: 'delivered' | 'retry' | 'dead',
  now: number,
  nextAttemptAt: number,
  error: OutboxEntry['lastError'],
  result: unknown,
): Promise<void> {
  await ctx.client.ctiSettle(
    ctx.keys.prefix,
    id,
    action,
    now,
    ctx.owner,
    nextAttemptAt,
    error ? JSON.stringify({ kind: error.kind, message: error.message }) : '',
    JSON.stringify(result ?? null),
  );
}

/** Writes one new entry with the ENQUEUE script: true when written, false when its id exists. */
export async function enqueueLua(
  ctx: LuaOutboxContext,
  entry: NewOutboxEntry,
  payload: string,
): Promise<boolean> {
  const P = ctx.keys.prefix;
  return (
    (await ctx.client.ctiEnqueue(P, entry.id, entry.adapter, entry.kind, payload, entry.createdAt)) === 1
  );
}

/**
 * The outbox on the store's own Lua scripts, every change of an entry one script. `enqueue` is the
 * one given (the store's buffered enqueue).
 */
export function createLuaOutbox(ctx: LuaOutboxContext, enqueue: OutboxStore['enqueue']): OutboxStore {
  const { client, keys, owner, claimMs, clock } = ctx;
  const P = keys.prefix;
  return {
    enqueue,
    async get(id) {
      return (await read(ctx, [id]))[0];
    },
    async due(adapter, now, limit) {
      if (limit <= 0) return [];
      const claimed = (await client.ctiClaimDue(P, adapter, now, limit, owner, now + claimMs)) as string[][];
      return claimed.map((flat) => toEntry(pairs(flat)));
    },
    async nextDueAt(adapter) {
      const next = (await client.ctiNextDue(P, adapter, owner, clock())) as string | null;
      return next === null ? undefined : Number(next);
    },
    async markDelivered(id, result, now) {
      await settle(ctx, id, 'delivered', now, 0, undefined, result);
    },
    async markRetry(id, error, nextAttemptAt, now) {
      await settle(ctx, id, 'retry', now, nextAttemptAt, error, undefined);
    },
    async markDead(id, error, now) {
      await settle(ctx, id, 'dead', now, 0, error, undefined);
    },
    async list(filter = {}) {
      return selected(ctx, filter);
    },
    async requeue(filter, now) {
      let count = 0;
      for (const entry of await selected(ctx, filter)) {
        if (entry.status !== 'dead') continue;
        count += Number(await client.ctiRequeuePurge(P, entry.id, 'requeue', 'dead', now));
      }
      return count;
    },
    async purge(filter) {
      let count = 0;
      for (const entry of await selected(ctx, filter)) {
        if (entry.status === 'pending' && filter.status !== 'pending') continue;
        count += Number(await client.ctiRequeuePurge(P, entry.id, 'purge', entry.status, 0));
      }
      return count;
    },
    async counts(adapter) {
      const result: Record<OutboxStatus, number> = { pending: 0, delivered: 0, dead: 0 };
      const counters = await client.hgetall(keys.counts);
      for (const [field, value] of Object.entries(counters)) {
        const bar = field.indexOf('|');
        const status = field.slice(0, bar) as OutboxStatus;
        if (!(status in result)) continue;
        if (adapter === undefined || field.slice(bar + 1) === adapter) result[status] += Number(value);
      }
      return result;
    },
  };
}
