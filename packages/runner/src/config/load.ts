import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, collectMissingEnv, isConfigError } from './env.js';
import { resolveConfigPath } from './locate.js';
import { type CtiConfig, configSchema, formatIssues, parseConfig, type StoreConfig } from './schema.js';
import { configTranspiler, loadsNatively, prefetchConfigFile } from './transpile.js';

export { DEFAULT_CONFIG_FILES, resolveConfigPath } from './locate.js';
export { isConfigError };

const SUPPORTED = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json']);

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
  // subpath entries first and by name: an alias also matches as a prefix (`@cti-bridge/core`
  // would turn `@cti-bridge/core/adapter` into `…/src/index.ts/adapter`)
  for (const name of [
    '@cti-bridge/core/adapter',
    '@cti-bridge/core/testing/vitest',
    '@cti-bridge/core/testing',
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

/** `env('NAME')` and `env("NAME", { secret: false })` calls; not those with a default or a source. */
const ENV_CALL = /\benv\(\s*(['"`])([A-Za-z_][A-Za-z0-9_]*)\1\s*(?:,\s*\{([^}]*)\})?\s*\)/g;

/**
 * The variables the config file's `env()` calls ask for that are unset, in the order of the file.
 * Read from the text: used when the load stopped early, so the variables after that point are
 * still named.
 */
export function missingEnvInSource(path: string, source: NodeJS.ProcessEnv = process.env): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  // Commented-out calls (init's optional settings) ask for nothing: drop /* … */ blocks, and `//`
  // comments at a line start or after a space (not the `//` of a URL such as 'https://…').
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');
  const names: string[] = [];
  for (const match of code.matchAll(ENV_CALL)) {
    const name = match[2] as string;
    const options = match[3] ?? '';
    if (/\b(default|source)\b/.test(options)) continue;
    if (source[name] === undefined || source[name] === '') names.push(name);
  }
  return names;
}

/**
 * The package a failed import names, when it is a package (not a relative file) that is not
 * installed: `@cti-bridge/adapter-hubspot` from "Cannot find package '@cti-bridge/adapter-hubspot'
 * imported from …" (Node) or "Cannot find module '…'" (require).
 */
function missingPackage(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : String(error);
  const specifier = /Cannot find (?:package|module) '([^']+)'/.exec(message)?.[1];
  if (specifier === undefined || specifier.startsWith('.') || specifier.startsWith('/')) return undefined;
  if (/^[A-Za-z]:[\\/]/.test(specifier) || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
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
  // What must be transpiled is, out of this process (see ConfigTranspiler), started as early as
  // possible (`run` starts it before loading the engine). jiti itself is loaded only here: a JSON
  // config, and every command that reads no config, does without it.
  const prefetched = prefetchConfigFile(path);
  const transpiler = configTranspiler();
  const { createJiti } = await import('jiti');
  const jiti = createJiti(import.meta.url, {
    alias: aliases(path),
    moduleCache: false,
    // Not for a file Node would first read as CommonJS: that costs a warning on Node 22 and 24.
    tryNative: loadsNatively(path),
    // The transpiler caches on disk itself.
    ...(transpiler === undefined ? {} : { transform: transpiler.transform, fsCache: false }),
  });
  await prefetched;
  try {
    return await collectMissingEnv(
      () => jiti.import(path, { default: true }),
      () => missingEnvInSource(path),
    );
  } catch (error) {
    if (isConfigError(error)) throw error;
    const pkg = missingPackage(error);
    if (pkg !== undefined) {
      throw new ConfigError(
        `${path}: the config imports ${pkg}, which is not installed: npm install ${pkg} (in ${dirname(path)}, where the config's packages are installed)`,
      );
    }
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

/** Bare package names a config file imports (`from '…'`, `import('…')`, `require('…')`). */
function importedPackages(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const names = new Set<string>();
  for (const match of text.matchAll(
    /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)(['"])([^'"]+)\1/g,
  )) {
    const specifier = match[2] as string;
    if (specifier.startsWith('.') || specifier.startsWith('/') || isBuiltin(specifier)) continue;
    names.add(specifier);
  }
  return [...names];
}

/** Stands in for an adapter package: every export is a factory returning an inert object. */
function inertModule(): unknown {
  const factory = (): Record<string, never> => ({});
  return new Proxy(
    {},
    {
      get: (_target, key) => {
        if (key === 'then' || typeof key === 'symbol') return undefined;
        if (key === '__esModule') return false;
        return factory;
      },
      has: (_target, key) => key !== 'then' && key !== 'default',
    },
  );
}

const MISSING_ENV = Symbol.for('cti-runner.missing-env');

/**
 * The config's `store` only, for commands that work on the state file (`outbox`): the CRMs'
 * secrets need not be set and their adapter packages are not loaded (each package the file imports,
 * other than cti-runner and core, is replaced by an inert stand-in; `env()` of an unset variable
 * gives a placeholder).
 */
export async function loadStoreConfig(
  path?: string,
  cwd?: string,
): Promise<{ path: string; store: StoreConfig }> {
  const file = resolveConfigPath(path, cwd);
  let raw: unknown;
  if (extname(file) === '.json') {
    raw = await importConfigFile(file);
  } else {
    const virtualModules: Record<string, unknown> = {};
    for (const name of importedPackages(file)) {
      if (name === 'cti-runner' || name.startsWith('@cti-bridge/core')) continue;
      virtualModules[name] = inertModule();
    }
    const { createJiti } = await import('jiti');
    const jiti = createJiti(import.meta.url, {
      alias: aliases(file),
      moduleCache: false,
      // The stand-ins are jiti's: the config must go through it, not Node.
      tryNative: false,
      virtualModules,
    });
    const holder = globalThis as { [MISSING_ENV]?: string[] };
    holder[MISSING_ENV] = [];
    try {
      raw = await jiti.import(file, { default: true });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new ConfigError(
        `${file}: the config file failed to load without its secrets (${message.split('\n')[0]}): set its environment variables, or pass --db <file>`,
      );
    } finally {
      delete holder[MISSING_ENV];
    }
  }
  const store = (raw as { store?: unknown } | null)?.store;
  const parsed = configSchema.shape.store.safeParse(store);
  if (!parsed.success) {
    throw new ConfigError(
      `${file} is invalid:`,
      formatIssues(parsed.error.issues.map((issue) => ({ ...issue, path: ['store', ...issue.path] }))),
    );
  }
  return { path: file, store: parsed.data };
}
