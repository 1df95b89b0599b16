import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import type { TransformOptions, TransformResult } from 'jiti';
import { resolveConfigPath } from './locate.js';

/**
 * A jiti `transform`: options (source, file name, flags) to CommonJS code. A file that does not
 * parse gives code that throws the error when run, plus `error`.
 */
export type Transform = (options: TransformOptions) => TransformResult;

/**
 * Transpiles config files for jiti without loading Babel into this process.
 *
 * jiti loads its Babel bundle for the first file it must transpile (a `.ts` config on a Node
 * without type stripping) and keeps it for the life of the process: about 25 MB of resident
 * memory, for a service that transpiled one small file at start-up. Here Babel runs in a
 * short-lived child process, whose memory goes back to the system as soon as the file is done,
 * and the result is cached on disk (a restart with an unchanged config spawns nothing).
 */
export interface ConfigTranspiler {
  /** The `transform` option for jiti (synchronous: a cache hit, a prefetched result, else a child). */
  readonly transform: Transform;
  /**
   * Starts transpiling a file in the background (nothing when cached), so that the child works
   * while this process loads the engine. Resolves when done; never rejects.
   */
  prefetch(options: TransformOptions): Promise<void>;
  /** How the transforms so far were served (for tests). */
  readonly stats: { cached: number; prefetched: number; spawnedSync: number; inProcess: number };
}

/**
 * The child: reads the options (JSON) on stdin, runs jiti's Babel transform, writes the result
 * (JSON) on stdout. Babel's error objects do not survive JSON: their message is kept.
 */
const CHILD_SCRIPT = `
const transform = require(process.argv[1]);
const options = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
const result = transform(options);
const error = result.error === undefined ? undefined : String((result.error && result.error.message) || result.error);
process.stdout.write(JSON.stringify({ code: result.code, error }));
`;

/** Bump when what is cached changes meaning. */
const CACHE_FORMAT = 1;

/** jiti's bundled Babel transform (a file of the jiti package, outside its exports map), if present. */
function jitiBabelPath(): string | undefined {
  try {
    const jitiEntry = createRequire(import.meta.url).resolve('jiti');
    const babel = join(dirname(dirname(jitiEntry)), 'dist', 'babel.cjs');
    return existsSync(babel) ? babel : undefined;
  } catch {
    return undefined;
  }
}

/** A JSON text with object keys sorted, so that equal options give equal keys. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** True when the options survive a JSON round trip (no Babel plugin functions, …). */
function isPlainData(options: TransformOptions): boolean {
  try {
    return canonicalJson(JSON.parse(JSON.stringify(options))) === canonicalJson(options);
  } catch {
    return false;
  }
}

/**
 * A private cache directory (this user's, not writable by others, not a symbolic link), or
 * undefined when there is none: a file in it is code this process runs. On Windows the temporary
 * directory is already the user's own.
 */
function cacheDirectory(): string | undefined {
  try {
    const uid = process.getuid?.();
    const base = join(tmpdir(), `cti-runner-${uid ?? 'user'}`);
    const dir = join(base, 'transpiled');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (process.platform === 'win32') return dir;
    for (const path of [base, dir]) {
      const stat = lstatSync(path);
      if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o022) !== 0) return undefined;
    }
    return dir;
  } catch {
    return undefined;
  }
}

function parseChildOutput(stdout: string): TransformResult | undefined {
  try {
    const result = JSON.parse(stdout) as { code?: unknown; error?: unknown };
    if (typeof result.code !== 'string') return undefined;
    return result.error === undefined ? { code: result.code } : { code: result.code, error: result.error };
  } catch {
    return undefined;
  }
}

/** The on-disk cache of transpiled files, keyed by the options and the Babel in use. */
interface TranspileCache {
  keyOf(options: TransformOptions): string;
  /** True when `key` is cached on disk. */
  has(key: string): boolean;
  read(key: string): TransformResult | undefined;
  write(key: string, result: TransformResult): void;
}

/** The cache in `dir` (none when undefined: every read misses, every write is dropped). */
function transpileCache(dir: string | undefined, babelIdentity: string): TranspileCache {
  const cachePath = (key: string): string | undefined =>
    dir === undefined ? undefined : join(dir, `${key}.cjs`);
  return {
    keyOf: (options) =>
      createHash('sha256')
        .update(canonicalJson([CACHE_FORMAT, babelIdentity, options]))
        .digest('hex'),
    has: (key) => dir !== undefined && existsSync(cachePath(key) as string),
    read: (key) => {
      const path = cachePath(key);
      if (path === undefined) return undefined;
      try {
        return { code: readFileSync(path, 'utf8') };
      } catch {
        return undefined;
      }
    },
    write: (key, result) => {
      const path = cachePath(key);
      // A file that failed to parse is not cached: the next start shows the error again, fresh.
      if (path === undefined || result.error !== undefined) return;
      try {
        const temporary = `${path}.${process.pid}.tmp`;
        writeFileSync(temporary, result.code, { mode: 0o600 });
        renameSync(temporary, path);
      } catch {
        // A cache that cannot be written only costs a transpile at the next start.
      }
    },
  };
}

/** Transpiles in a child process, waiting for it; undefined when no child can run. */
function transpileInChild(babel: string, options: TransformOptions): TransformResult | undefined {
  const child = spawnSync(process.execPath, ['-e', CHILD_SCRIPT, babel], {
    input: JSON.stringify(options),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    windowsHide: true,
  });
  // No child process here (no `node` executable, a sandbox, …): undefined, Babel runs here.
  return child.error === undefined && child.status === 0 ? parseChildOutput(child.stdout) : undefined;
}

/** Transpiles in a child process in the background; resolves undefined when it failed. Never rejects. */
function transpileInBackground(
  babel: string,
  options: TransformOptions,
): Promise<TransformResult | undefined> {
  return new Promise<TransformResult | undefined>((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, ['-e', CHILD_SCRIPT, babel], {
        stdio: ['pipe', 'pipe', 'ignore'],
        windowsHide: true,
      });
    } catch {
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', () => resolve(undefined));
    child.on('close', (code) => {
      resolve(code === 0 ? parseChildOutput(Buffer.concat(chunks).toString('utf8')) : undefined);
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end(JSON.stringify(options));
  });
}

/** Size and time of jiti's Babel file: a new Babel invalidates the cache. */
function babelIdentityOf(babel: string): string | undefined {
  try {
    const stat = statSync(babel);
    return `${babel}:${stat.size}:${stat.mtimeMs}`;
  } catch {
    return undefined;
  }
}

/**
 * The runner's {@link ConfigTranspiler}, or undefined when jiti's Babel cannot be found (jiti then
 * transpiles as it does by default, in this process).
 */
export function createConfigTranspiler(): ConfigTranspiler | undefined {
  const babel = jitiBabelPath();
  if (babel === undefined) return undefined;
  const babelIdentity = babelIdentityOf(babel);
  if (babelIdentity === undefined) return undefined;
  const cache = transpileCache(cacheDirectory(), babelIdentity);
  const stats = { cached: 0, prefetched: 0, spawnedSync: 0, inProcess: 0 };
  const prefetched = new Map<string, TransformResult>();
  const inFlight = new Map<string, Promise<void>>();
  let inProcess: Transform | undefined;

  /** Babel in this process, as jiti would: when a child cannot run, or after the first one. */
  const here: Transform = (options) => {
    stats.inProcess++;
    inProcess ??= createRequire(import.meta.url)(babel) as Transform;
    return inProcess(options);
  };

  const transform: Transform = (options) => {
    if (!isPlainData(options)) return here(options);
    const key = cache.keyOf(options);
    const ready = prefetched.get(key);
    if (ready !== undefined) {
      prefetched.delete(key);
      stats.prefetched++;
      return ready;
    }
    const cached = cache.read(key);
    if (cached !== undefined) {
      stats.cached++;
      return cached;
    }
    // One synchronous child at most: a config spread over several TypeScript files would pay a
    // process start and a Babel load per file. From the second file on, Babel runs here (the disk
    // cache spares the next start both).
    let result =
      inProcess === undefined && stats.spawnedSync === 0 ? transpileInChild(babel, options) : undefined;
    if (result !== undefined) stats.spawnedSync++;
    else result = here(options);
    cache.write(key, result);
    return result;
  };

  const prefetch = (options: TransformOptions): Promise<void> => {
    if (!isPlainData(options)) return Promise.resolve();
    const key = cache.keyOf(options);
    const running = inFlight.get(key);
    if (running !== undefined) return running;
    if (prefetched.has(key) || cache.has(key)) return Promise.resolve();
    const done = transpileInBackground(babel, options)
      .then((result) => {
        if (result !== undefined) {
          prefetched.set(key, result);
          cache.write(key, result);
        }
      })
      .finally(() => inFlight.delete(key));
    inFlight.set(key, done);
    return done;
  };

  return { transform, prefetch, stats };
}

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts']);

/** True when this Node runs TypeScript itself (type stripping): jiti then imports the config natively. */
function nodeStripsTypes(): boolean {
  return Boolean((process.features as { typescript?: unknown }).typescript);
}

/** The `type` of the package.json nearest to `file` (Node's package scope); undefined when none. */
function packageScopeType(file: string): string | null | undefined {
  let dir = dirname(file);
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        const type = (JSON.parse(readFileSync(candidate, 'utf8')) as { type?: unknown }).type;
        return typeof type === 'string' ? type : null;
      } catch {
        return null;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * True when Node itself can import this config file as the ES module it is (a config uses
 * `import`/`export`). A `.ts` or `.js` file in a `"type": "commonjs"` package — what `npm init -y`
 * writes — or in a package.json without `type` would be read as CommonJS: Node 22 and 24 then
 * print a warning ("Failed to load the ES module", or a module type reparse) before the loader
 * falls back to transpiling it. Such a file is transpiled straight away instead.
 */
export function loadsNatively(file: string): boolean {
  const extension = extname(file);
  if (TYPESCRIPT.has(extension) && !nodeStripsTypes()) return false;
  if (extension !== '.ts' && extension !== '.js') return true;
  const type = packageScopeType(file);
  return type === undefined || type === 'module';
}

let shared: ConfigTranspiler | null | undefined;

/** The process's config transpiler (one: its prefetched results and cache serve every load). */
export function configTranspiler(): ConfigTranspiler | undefined {
  if (shared === undefined) shared = createConfigTranspiler() ?? null;
  return shared ?? undefined;
}

/**
 * The options jiti passes to its transform for `jiti.import(file)` of a TypeScript file, with its
 * defaults (no source maps, no JSX). Should a jiti version pass others, the prefetched result is
 * simply not used: jiti's own call transpiles the file then.
 */
function jitiImportOptions(file: string, source: string): TransformOptions {
  return { babel: {}, interopDefault: true, filename: file, source, ts: true, async: true, jsx: false };
}

/**
 * Starts transpiling a TypeScript config file in the background, when it will need it (this Node
 * does not strip types, or the file is not in an ES module scope). Resolves when done; never rejects.
 */
export function prefetchConfigFile(file: string): Promise<void> {
  if (!TYPESCRIPT.has(extname(file)) || loadsNatively(file)) return Promise.resolve();
  const transpiler = configTranspiler();
  if (transpiler === undefined) return Promise.resolve();
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return Promise.resolve();
  }
  return transpiler.prefetch(jitiImportOptions(file, source));
}

/**
 * {@link prefetchConfigFile} for a `--config` option (or the default file). A config that cannot
 * be found is left to the loader to report.
 */
export function prefetchConfig(path: string | undefined): Promise<void> {
  try {
    return prefetchConfigFile(resolveConfigPath(path));
  } catch {
    return Promise.resolve();
  }
}
