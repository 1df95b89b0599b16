import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Store } from '@cti-bridge/core';
import type { StoreConfig } from '../config/schema.js';
import { EXIT, ExitError } from '../exit-codes.js';
import { acquireStoreLock } from './lock.js';
import { explainNativeBindingError } from './native-binding.js';
import { createSqliteStore, type SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';

/**
 * {@link createSqliteStore}, where a native binding that does not load (Node upgraded, install
 * script not run) is one actionable line (an {@link ExitError}, exit code 1).
 */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  try {
    return createSqliteStore(options);
  } catch (error) {
    const explained = explainNativeBindingError(error);
    if (explained !== undefined) throw new ExitError(EXIT.RUNTIME, explained);
    throw error;
  }
}

/** Where the config's SQLite file is (relative paths from the config file's directory); undefined for memory. */
export function storeFilePath(config: StoreConfig, configPath?: string): string | undefined {
  if (config.kind === 'memory' || config.kind === 'redis') return undefined;
  const base = configPath === undefined ? process.cwd() : dirname(configPath);
  return isAbsolute(config.path) ? config.path : resolve(base, config.path);
}

/**
 * Opens the store a config asks for. A relative SQLite path is resolved against the config
 * file's directory. `memory` is an SQLite database in memory (lost on exit).
 */
export function openStore(config: Exclude<StoreConfig, { kind: 'redis' }>, configPath?: string): SqliteStore {
  return openSqliteStore({ path: storeFilePath(config, configPath) ?? ':memory:' });
}

/**
 * Opens any store a config asks for: SQLite or memory as {@link openStore}, Redis through the
 * optional `@cti-bridge/store-redis` package (imported only then).
 */
export async function openConfiguredStore(
  config: StoreConfig,
  configPath?: string,
  options: {
    readonly onError?: (error: Error) => void;
    /** Take the single-runner lock of a SQLite file (`cti-runner run`), released on close. */
    readonly lock?: boolean;
  } = {},
): Promise<Store> {
  if (config.kind === 'redis') {
    const { openRedisStore } = await import('./open-redis.js');
    return openRedisStore(config, options.onError ? { onError: options.onError } : {});
  }
  const file = storeFilePath(config, configPath);
  if (options.lock !== true || file === undefined) return openStore(config, configPath);
  mkdirSync(dirname(file), { recursive: true });
  const lock = acquireStoreLock(file);
  try {
    const store = openStore(config, configPath);
    const close = store.close.bind(store);
    return Object.assign(store, {
      close: async () => {
        try {
          await close();
        } finally {
          lock.release();
        }
      },
    });
  } catch (error) {
    lock.release();
    throw error;
  }
}
