import { existsSync } from 'node:fs';
import { type CrmAdapter, DEFAULT_OVH_EVENTS_URL, type Store } from '@cti-bridge/core';
import { adapterContext } from '../adapter-context.js';
import { loadConfig } from '../config/load.js';
import type { CtiConfig } from '../config/schema.js';
import { buildBaseContainer, resolveAdapterFactoryContext } from '../di.js';
import { EXIT } from '../exit-codes.js';
import { createLogger, type RunnerLogger } from '../ops/logger.js';
import { maskToken } from '../ops/secrets.js';
import { renderTable } from '../ops/table.js';
import { openSqliteStore, openStore, storeFilePath } from '../store/open.js';
import { buildAdapters } from '../wiring.js';
import { probeToken } from './probe.js';

/** Options of `cti-runner check`. */
export interface CheckOptions {
  readonly config?: string;
  /** How long to wait on each OVH token probe (ms). */
  readonly probeTimeoutMs?: number;
  /** Skip the OVH token probes (offline check). */
  readonly skipTokens?: boolean;
}

/** Token probes at a time (each one is a long poll at OVH's events server). */
const PROBES_AT_ONCE = 20;

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every CRM user the tokens' `ownerMap` hands this adapter, for its `check` to verify. */
export function ownerIdsOf(config: CtiConfig, adapter: string): string[] {
  const ids = new Set<string>();
  for (const route of Object.values(config.tokens)) {
    for (const id of Object.values(route.ownerMap?.[adapter] ?? {})) ids.add(id);
  }
  return [...ids];
}

/** Opens the configured store for the check (adding its row); undefined when it cannot be opened. */
async function checkStore(config: CtiConfig, path: string, rows: string[][]): Promise<Store | undefined> {
  let store: Store | undefined;
  try {
    if (config.store.kind === 'redis') {
      const { checkRedisStore, openRedisStore } = await import('../store/open-redis.js');
      const report = await checkRedisStore(config.store);
      rows.push(['store', `redis (prefix ${config.store.prefix})`, report.ok ? 'ok' : 'FAIL', report.detail]);
      if (report.ok) store = await openRedisStore(config.store);
    } else {
      // check creates nothing: without the state file yet, the store (native binding, schema) is
      // checked in memory and run creates the file.
      const file = storeFilePath(config.store, path);
      const absent = file !== undefined && !existsSync(file);
      const sqlite = absent ? openSqliteStore({ path: ':memory:' }) : openStore(config.store, path);
      store = sqlite;
      rows.push([
        'store',
        file ?? 'memory',
        'ok',
        absent
          ? `schema v${sqlite.schemaVersion} — not created yet: run creates it`
          : `schema v${sqlite.schemaVersion}`,
      ]);
    }
  } catch (error) {
    rows.push(['store', config.store.kind, 'FAIL', (error as Error).message]);
  }
  return store;
}

/** Builds the adapters and runs every `check()` (adding a row each), then closes them and the store. */
async function checkAdapters(
  config: CtiConfig,
  store: Store,
  logger: RunnerLogger,
  rows: string[][],
): Promise<void> {
  let adapters: Map<string, CrmAdapter> = new Map();
  try {
    const base = buildBaseContainer({ config, logger, store, clock: Date.now });
    adapters = await buildAdapters(config, (name) => resolveAdapterFactoryContext(base, name));
  } catch (error) {
    rows.push(['adapters', '', 'FAIL', (error as Error).message]);
  }
  // Each check may wait up to 15 s on its CRM: all at once, rows in config order.
  const checks = await Promise.all(
    [...adapters].map(async ([name, adapter]): Promise<string[]> => {
      if (adapter.check === undefined)
        return ['adapter', name, 'ok', `${adapter.name}: no check() offered — credentials untested`];
      try {
        const report = await withTimeout(
          adapter.check({
            ...adapterContext(store, name, logger, AbortSignal.timeout(15_000)),
            ownerIds: ownerIdsOf(config, name),
          }),
          15_000,
          `${name} check`,
        );
        return ['adapter', name, report.ok ? 'ok' : 'FAIL', report.message];
      } catch (error) {
        return ['adapter', name, 'FAIL', (error as Error).message];
      }
    }),
  );
  rows.push(...checks);
  await Promise.all([...adapters.values()].map((a) => a.close?.().catch(() => undefined)));
  await store.close();
}

/** Probes every OVH token, a batch at a time (or lists them as skipped), adding a row each. */
async function checkTokens(config: CtiConfig, options: CheckOptions, rows: string[][]): Promise<void> {
  const baseUrl = config.ovh.baseUrl ?? DEFAULT_OVH_EVENTS_URL;
  const tokens = Object.keys(config.tokens);
  if (options.skipTokens === true) {
    for (const token of tokens)
      rows.push(['ovh token', maskToken(token), 'skip', 'not probed (--skip-tokens)']);
  } else {
    // A healthy idle token holds its probe for the whole timeout: probe a batch at a time.
    for (let i = 0; i < tokens.length; i += PROBES_AT_ONCE) {
      const batch = tokens.slice(i, i + PROBES_AT_ONCE);
      const probes = await Promise.all(
        batch.map((token) => probeToken(baseUrl, token, options.probeTimeoutMs ?? 3000)),
      );
      for (const [j, probe] of probes.entries())
        rows.push(['ovh token', maskToken(batch[j] as string), probe.ok ? 'ok' : 'FAIL', probe.message]);
    }
  }
}

/**
 * `cti-runner check`: validates the config (a ConfigError propagates: exit 2), opens the store,
 * runs each adapter's `check()` and probes each OVH token, then prints one table. Exit 0 when
 * every row is ok, 3 otherwise.
 */
export async function runCheck(options: CheckOptions, out: (line: string) => void): Promise<number> {
  const { path, config } = await loadConfig(options.config);
  const rows: string[][] = [['config', path, 'ok', 'valid']];
  const logger = createLogger({ level: 'silent' });
  const store = await checkStore(config, path, rows);
  if (store !== undefined) await checkAdapters(config, store, logger, rows);
  await checkTokens(config, options, rows);
  out(renderTable(['check', 'target', 'result', 'detail'], rows));
  const failed = rows.filter((row) => row[2] === 'FAIL').length;
  out(failed === 0 ? '\nAll checks passed.' : `\n${failed} check(s) failed.`);
  return failed === 0 ? EXIT.OK : EXIT.CHECK_FAILED;
}
