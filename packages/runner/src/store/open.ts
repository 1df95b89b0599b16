import { dirname, isAbsolute, resolve } from 'node:path';
import type { StoreConfig } from '../config/schema.js';
import { createSqliteStore, type SqliteStore } from './sqlite-store.js';

/**
 * Opens the store a config asks for. A relative SQLite path is resolved against the config
 * file's directory. `memory` is an SQLite database in memory (lost on exit).
 */
export function openStore(config: StoreConfig, configPath?: string): SqliteStore {
  if (config.kind === 'memory') return createSqliteStore({ path: ':memory:' });
  const base = configPath === undefined ? process.cwd() : dirname(configPath);
  return createSqliteStore({ path: isAbsolute(config.path) ? config.path : resolve(base, config.path) });
}
