/**
 * Injection tokens of the runner's dependency container. Explicit symbols (no decorator metadata):
 * an adapter factory given `(context) => adapter` gets an AdapterFactoryContext built from them
 * (see `resolveAdapterFactoryContext`); code that holds the container resolves with these.
 */
export const TOKENS = {
  /** The validated {@link CtiConfig}. */
  Config: Symbol.for('cti-runner.Config'),
  /** The root {@link RunnerLogger} (core's Logger). */
  Logger: Symbol.for('cti-runner.Logger'),
  /** The {@link Store} (SQLite by default). */
  Store: Symbol.for('cti-runner.Store'),
  /** `() => number`, epoch milliseconds. */
  Clock: Symbol.for('cti-runner.Clock'),
  /** The {@link RunnerMetrics}. */
  Metrics: Symbol.for('cti-runner.Metrics'),
  /** The runner's Node HTTP(S) agents ({@link HttpAgents}), with the request deadline. */
  HttpAgents: Symbol.for('cti-runner.HttpAgents'),
  /** `ReadonlyMap<string, CrmAdapter>`: every adapter by config name. */
  Adapters: Symbol.for('cti-runner.Adapters'),
  /** In a token's child container: the OVH event token. */
  EventToken: Symbol.for('cti-runner.EventToken'),
  /** In a token's child container: the token's route as core's connector takes it. */
  Route: Symbol.for('cti-runner.Route'),
  /** In a token's child container: a logger bound to the (masked) token. */
  TokenLogger: Symbol.for('cti-runner.TokenLogger'),
  /** The running connector. */
  Connector: Symbol.for('cti-runner.Connector'),
} as const;

/** The injection token of one adapter, by config name: `container.resolve(adapterToken('hubspot'))`. */
export function adapterToken(name: string): symbol {
  return Symbol.for(`cti-runner.adapter.${name}`);
}
