import { dirname, isAbsolute, resolve } from 'node:path';
import type { StoreConfig } from '../config/schema.js';
import { EXIT, ExitError } from '../exit-codes.js';
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
    const explained = explainNativeBindingError(error) ?? explainUnusableFile(error, options.path);
    if (explained !== undefined) throw new ExitError(EXIT.RUNTIME, explained);
    throw error;
  }
}

/** One actionable line for a state file that is read-only, damaged or on a full disk; else undefined. */
export function explainUnusableFile(error: unknown, path: string): string | undefined {
  const code = String((error as { code?: unknown }).code ?? '');
  // one line: SQLite's integrity report spans several
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
  const text = `${code} ${message}`;
  if (/READONLY|readonly database|read-only/i.test(text)) {
    return `cannot write the state file ${path}: it is read-only (${message}). Give the user running cti-runner write access to the file and its directory (SQLite writes ${path}-wal and ${path}-shm beside it), then start again.`;
  }
  if (/CORRUPT|NOTADB|malformed|not a database|quick_check/i.test(text)) {
    return `the state file ${path} is damaged (${message}). Stop every runner using it, move it aside (mv ${path} ${path}.damaged) and start again with a new one; its pending deliveries can be recovered with \`sqlite3 ${path}.damaged .recover\`.`;
  }
  if (/SQLITE_FULL|disk is full|ENOSPC/i.test(text)) {
    return `cannot write the state file ${path}: its disk is full (${message}). Free space on it, then start again.`;
  }
  return undefined;
}

/** Where the config's SQLite file is (relative paths from the config file's directory); undefined for memory. */
export function storeFilePath(config: StoreConfig, configPath?: string): string | undefined {
  if (config.kind === 'memory') return undefined;
  const base = configPath === undefined ? process.cwd() : dirname(configPath);
  return isAbsolute(config.path) ? config.path : resolve(base, config.path);
}

/**
 * Opens the store a config asks for. A relative SQLite path is resolved against the config
 * file's directory. `memory` is an SQLite database in memory (lost on exit).
 */
export function openStore(config: StoreConfig, configPath?: string): SqliteStore {
  return openSqliteStore({ path: storeFilePath(config, configPath) ?? ':memory:' });
}
