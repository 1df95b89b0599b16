import type http from 'node:http';
import type https from 'node:https';
import type { AdapterState, Logger } from '@cti-bridge/core';

/** The runner's Node HTTP(S) agents: sockets with an idle deadline and a bound per host. */
export interface HttpAgents {
  readonly http: http.Agent;
  readonly https: https.Agent;
}

/**
 * What an adapter factory function (`(context) => CrmAdapter` in `adapters`) receives from the
 * runner's container — exactly these five things, and not the store:
 *
 * - `name`: the adapter's name in the config;
 * - `logger`: the runner's logger bound to `{ adapter: name }`;
 * - `state`: the adapter's own key-value state (core's `kvAdapterState`, the namespace the
 *   pipeline and `cti-runner check` use), e.g. for a rotated OAuth refresh token;
 * - `clock`: epoch milliseconds (the runner's clock; `Date.now` unless a test injects one);
 * - `httpAgents`: the Node HTTP(S) agents with the runner's request deadline (they are also the
 *   global agents: SDKs that use the defaults get them anyway).
 */
export interface AdapterFactoryContext {
  readonly name: string;
  readonly logger: Logger;
  readonly state: AdapterState;
  readonly clock: () => number;
  readonly httpAgents: HttpAgents;
}
