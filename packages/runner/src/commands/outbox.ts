import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { OutboxEntry, OutboxFilter, OutboxStatus, Store } from '@cti-bridge/core';
import { loadStoreConfig } from '../config/load.js';
import { EXIT, ExitError } from '../exit-codes.js';
import { maskToken } from '../ops/secrets.js';
import { renderTable } from '../ops/table.js';
import { openSqliteStore, storeFilePath } from '../store/open.js';
import { isTokenReference } from '../store/token-safe-store.js';

/** Options shared by the `outbox` sub-commands. */
export interface OutboxOptions {
  readonly config?: string;
  /** SQLite file to open directly (no config needed). */
  readonly db?: string;
  readonly adapter?: string;
  readonly status?: string;
  readonly id?: string[];
  readonly olderThan?: string;
  readonly format?: string;
  readonly limit?: string;
}

const STATUSES: readonly OutboxStatus[] = ['pending', 'delivered', 'dead'];

/** `30m`, `12h`, `7d` → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim());
  if (match === null)
    throw new ExitError(
      EXIT.USAGE,
      `--older-than: expected a duration such as 30m, 12h or 7d, got '${text}'`,
    );
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

async function open(options: OutboxOptions): Promise<Store> {
  // The store only: the CRMs' secrets need not be set to look at the outbox.
  const config = options.db === undefined ? await loadStoreConfig(options.config) : undefined;
  if (config?.store.kind === 'redis') {
    const { openRedisStore } = await import('../store/open-redis.js');
    return openRedisStore(config.store);
  }
  const file = options.db ?? (config ? storeFilePath(config.store, config.path) : undefined);
  // Looking at the outbox creates nothing: no state file yet means nothing was queued.
  if (file !== undefined && file !== ':memory:' && !existsSync(file)) {
    throw new ExitError(EXIT.RUNTIME, `no state file at ${resolve(file)} (cti-runner run creates it)`);
  }
  return openSqliteStore({ path: file ?? ':memory:' });
}

function filterOf(options: OutboxOptions, defaultStatus: OutboxStatus | undefined): OutboxFilter {
  const status = options.status ?? defaultStatus;
  if (status !== undefined && !STATUSES.includes(status as OutboxStatus)) {
    throw new ExitError(EXIT.USAGE, `--status: expected one of ${STATUSES.join(', ')}, got '${status}'`);
  }
  const limit = options.limit === undefined ? undefined : Number(options.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new ExitError(EXIT.USAGE, `--limit: expected a positive integer, got '${options.limit}'`);
  }
  return {
    ...(status === undefined ? {} : { status: status as OutboxStatus }),
    ...(options.adapter === undefined ? {} : { adapter: options.adapter }),
    ...(options.id === undefined || options.id.length === 0 ? {} : { ids: options.id }),
    ...(options.olderThan === undefined
      ? {}
      : { updatedBefore: Date.now() - parseDuration(options.olderThan) }),
    ...(limit === undefined ? {} : { limit }),
  };
}

function summary(entry: OutboxEntry): string {
  const payload = entry.payload as { call?: { callId?: string }; callId?: string } | null;
  return payload?.call?.callId ?? payload?.callId ?? '';
}

/** `cti-runner outbox list`: entries (dead letters by default) as a table or JSON lines. */
export async function outboxList(options: OutboxOptions, out: (line: string) => void): Promise<number> {
  const store = await open(options);
  try {
    const entries = await store.outbox.list(filterOf(options, 'dead'));
    if (options.format === 'json') {
      // the payload carries the call's OVH event token (its reference since token-safe-store.ts,
      // in clear in an older file): printed masked, as in logs
      for (const entry of entries) {
        out(
          JSON.stringify(entry, (key, value) =>
            key === 'token' && typeof value === 'string' && !isTokenReference(value)
              ? maskToken(value)
              : value,
          ),
        );
      }
      return EXIT.OK;
    }
    const counts = await store.outbox.counts(options.adapter);
    out(
      renderTable(
        ['id', 'adapter', 'kind', 'status', 'attempts', 'call', 'last error'],
        entries.map((e) => [
          e.id,
          e.adapter,
          e.kind,
          e.status,
          String(e.attempts),
          summary(e),
          e.lastError === undefined ? '' : `${e.lastError.kind}: ${e.lastError.message}`.slice(0, 80),
        ]),
      ),
    );
    out(
      `\n${entries.length} shown — pending ${counts.pending}, delivered ${counts.delivered}, dead ${counts.dead}`,
    );
    return EXIT.OK;
  } finally {
    await store.close();
  }
}

/** `cti-runner outbox retry`: dead letters become pending again (a running or next runner delivers them). */
export async function outboxRetry(options: OutboxOptions, out: (line: string) => void): Promise<number> {
  const store = await open(options);
  try {
    const count = await store.outbox.requeue(filterOf(options, 'dead'), Date.now());
    out(
      `${count} dead letter(s) queued for delivery again; a running cti-runner (or the next start) delivers them.`,
    );
    return EXIT.OK;
  } finally {
    await store.close();
  }
}

/** `cti-runner outbox purge`: deletes delivered and dead entries (pending ones only with --status pending). */
export async function outboxPurge(options: OutboxOptions, out: (line: string) => void): Promise<number> {
  const store = await open(options);
  try {
    const count = await store.outbox.purge(filterOf(options, undefined));
    out(`${count} outbox entr${count === 1 ? 'y' : 'ies'} deleted.`);
    return EXIT.OK;
  } finally {
    await store.close();
  }
}
