import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';
import { ConfigError, collectMissingEnv } from './env.js';
import { type CtiConfig, parseConfig } from './schema.js';

/** Config file names `cti-runner` looks for when `--config` is not given. */
export const DEFAULT_CONFIG_FILES = [
  'cti.config.ts',
  'cti.config.mts',
  'cti.config.js',
  'cti.config.mjs',
  'cti.config.json',
];

const SUPPORTED = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json']);

/** True for a ConfigError from any copy of this module (a config file loads its own copy). */
export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof Error && error.name === 'ConfigError';
}

/** Finds the config file: the given path, else the first default name in `cwd`. */
export function resolveConfigPath(path: string | undefined, cwd = process.cwd()): string {
  if (path !== undefined) {
    const absolute = resolve(cwd, path);
    if (!existsSync(absolute)) {
      throw new ConfigError(`config file not found: ${absolute} (create one with \`cti-runner init\`)`);
    }
    return absolute;
  }
  for (const name of DEFAULT_CONFIG_FILES) {
    const candidate = resolve(cwd, name);
    if (existsSync(candidate)) return candidate;
  }
  throw new ConfigError(
    `no config file: pass --config <file> or create ${DEFAULT_CONFIG_FILES[0]} in ${cwd} (\`cti-runner init\` writes one)`,
  );
}

/** Where `import … from 'cti-runner'` in a config file goes: this very package. */
function selfEntry(): string {
  const ts = fileURLToPath(new URL('../index.ts', import.meta.url));
  return existsSync(ts) ? ts : fileURLToPath(new URL('../index.js', import.meta.url));
}

/** True when `name` resolves from the config file's directory (the normal, installed case). */
function resolvesFrom(configPath: string, name: string): boolean {
  try {
    createRequire(configPath).resolve(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Aliases for our packages that the config's directory cannot resolve (a config outside any
 * project, e.g. in /etc): they point at the copies installed with the runner. Packages that
 * resolve normally are left alone, and loaded natively (fast).
 */
function aliases(configPath: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!resolvesFrom(configPath, 'cti-runner')) out['cti-runner'] = selfEntry();
  for (const name of [
    '@cti-bridge/core',
    '@cti-bridge/adapter-salesforce',
    '@cti-bridge/adapter-hubspot',
    '@cti-bridge/adapter-odoo',
  ]) {
    if (resolvesFrom(configPath, name)) continue;
    try {
      out[name] = fileURLToPath(import.meta.resolve(name));
    } catch {
      // Not installed next to the runner either: the import fails with Node's own message.
    }
  }
  return out;
}

/**
 * Loads a config module (`.ts`, `.mts`, `.js`, `.json`) without validating it. TypeScript is
 * transpiled on the fly by jiti.
 */
export async function importConfigFile(path: string): Promise<unknown> {
  const extension = extname(path);
  if (!SUPPORTED.has(extension)) {
    throw new ConfigError(
      `${path}: unsupported config file type '${extension}' — use .ts, .mts, .js or .json`,
    );
  }
  if (extension === '.json') {
    const text = await readFile(path, 'utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new ConfigError(`${path}: not valid JSON (${(error as Error).message})`);
    }
  }
  // tryNative: modules Node can load itself (installed packages, and the config when a TypeScript
  // loader or type stripping is active) skip jiti's transform, which is what keeps start-up short.
  const jiti = createJiti(import.meta.url, { alias: aliases(path), moduleCache: false, tryNative: true });
  try {
    return await collectMissingEnv(() => jiti.import(path, { default: true }));
  } catch (error) {
    if (isConfigError(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${path}: the config file failed to load: ${message}`);
  }
}

/** Finds, loads and validates the config. Throws a ConfigError (exit code 2) on any problem. */
export async function loadConfig(path?: string, cwd?: string): Promise<{ path: string; config: CtiConfig }> {
  const file = resolveConfigPath(path, cwd);
  const raw = await importConfigFile(file);
  return { path: file, config: parseConfig(raw, file) };
}
