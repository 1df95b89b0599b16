/**
 * cti-runner — run cti-bridge from a typed config file: `npx cti-runner --config cti.config.ts`.
 *
 * A config file imports `defineConfig` and `env` from here. The runner's building blocks (the
 * SQLite store, the injection tokens) are exported for embedding and for adapter packages.
 *
 * @packageDocumentation
 */
export type { AdapterFactoryContext, HttpAgents } from './adapter-factory-context.js';
export { ConfigError, type EnvOptions, env } from './config/env.js';
export { isConfigError, loadConfig } from './config/load.js';
export {
  type AdapterDeps,
  type AdapterEntry,
  type CtiConfig,
  type CtiConfigInput,
  configSchema,
  type DeliveryConfig,
  defineConfig,
  type PoliciesConfig,
  parseConfig,
  type StoreConfig,
  type TokenRoute,
} from './config/schema.js';
export { adapterToken, TOKENS } from './di-tokens.js';
export { EXIT } from './exit-codes.js';
export { createSqliteStore, type SqliteStore, type SqliteStoreOptions } from './store/sqlite-store.js';
