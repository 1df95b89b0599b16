/**
 * better-sqlite3 is a native addon: its binary is built (or downloaded) by its install script for
 * one Node ABI. After a Node upgrade, or when install scripts were not allowed, loading it fails
 * with a multi-line message that does not say what to do. This turns that into one line that does.
 */

/** How to let better-sqlite3's install script run, per package manager. */
const ALLOW_SCRIPT =
  'its install script must be allowed to run (npm: no --ignore-scripts, and `npm install-scripts approve better-sqlite3` where npm asks for it; pnpm: `pnpm approve-builds` or "onlyBuiltDependencies": ["better-sqlite3"]; yarn: dependenciesMeta built: true)';

/** One actionable line when `error` is better-sqlite3's native binding failing to load; else undefined. */
export function explainNativeBindingError(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : String(error);
  const running = `Node ${process.version} (ABI ${process.versions.modules})`;
  if (/NODE_MODULE_VERSION|was compiled against a different Node\.js version/.test(message)) {
    const built = /using\s+NODE_MODULE_VERSION (\d+)/.exec(message)?.[1];
    return `better-sqlite3's native binding was built for another Node version${built === undefined ? '' : ` (ABI ${built})`}, not this ${running}: run \`npm rebuild better-sqlite3\` where cti-runner is installed (${ALLOW_SCRIPT}), or start cti-runner with the Node it was installed with.`;
  }
  if (
    /Could not locate the bindings file|better_sqlite3\.node/.test(message) ||
    (error as NodeJS.ErrnoException | undefined)?.code === 'ERR_DLOPEN_FAILED'
  ) {
    return `better-sqlite3's native binding is not built for this ${running} (its install script did not run, or failed): run \`npm rebuild better-sqlite3\` where cti-runner is installed; ${ALLOW_SCRIPT}.`;
  }
  return undefined;
}
