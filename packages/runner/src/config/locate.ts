import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from './env.js';

/** Config file names `cti-runner` looks for when `--config` is not given. */
export const DEFAULT_CONFIG_FILES = [
  'cti.config.ts',
  'cti.config.mts',
  'cti.config.js',
  'cti.config.mjs',
  'cti.config.json',
];

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
