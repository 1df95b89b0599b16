import { createRequire } from 'node:module';
import type { Dispatcher, Agent as UndiciAgent } from 'undici';

/**
 * The two parts of undici the OVH clients use: its `Agent` (connection pool) and `request`.
 *
 * undici's package index also loads fetch, WebSocket, EventSource, the HTTP caches, the mock
 * agents and every interceptor: about 5 MB of resident memory in a runner that needs none of
 * them. undici publishes no exports map, so its modules can be loaded directly; they have kept
 * these paths since undici 6. If a future undici moves them, this falls back to the index
 * (`undiciSource` then says `'index'`, and a test fails so that we notice).
 */

type RequestFunction = (
  this: Dispatcher,
  options: Dispatcher.RequestOptions,
) => Promise<Dispatcher.ResponseData>;

interface UndiciParts {
  readonly Agent: typeof UndiciAgent;
  readonly request: RequestFunction;
  readonly getGlobalDispatcher: () => Dispatcher;
  readonly source: 'parts' | 'index';
}

function loadUndici(): UndiciParts {
  const require = createRequire(import.meta.url);
  try {
    const Agent = require('undici/lib/dispatcher/agent.js') as typeof UndiciAgent;
    const api = require('undici/lib/api/index.js') as { request: RequestFunction };
    const global = require('undici/lib/global.js') as { getGlobalDispatcher: () => Dispatcher };
    if (typeof Agent === 'function' && typeof api.request === 'function') {
      return {
        Agent,
        request: api.request,
        getGlobalDispatcher: global.getGlobalDispatcher,
        source: 'parts',
      };
    }
  } catch {
    // Moved in this undici version: use the package index below.
  }
  const undici = require('undici') as typeof import('undici');
  return {
    Agent: undici.Agent,
    request: (undici.Dispatcher.prototype as unknown as { request: RequestFunction }).request,
    getGlobalDispatcher: undici.getGlobalDispatcher,
    source: 'index',
  };
}

const undici = loadUndici();

/** undici's connection pool class. */
export const Agent = undici.Agent;

/** Which undici modules were loaded: `'parts'` (the lean path) or `'index'` (the fallback). */
export const undiciSource = undici.source;

/** Options of {@link request}: undici's request options, with the URL given separately. */
export type RequestOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & {
  readonly method?: Dispatcher.HttpMethod;
  /** Default: undici's global dispatcher (which `setGlobalDispatcher` replaces). */
  readonly dispatcher?: Dispatcher;
};

/** One HTTP request through undici, as undici's own `request(url, options)`. */
export function request(url: string, options: RequestOptions = {}): Promise<Dispatcher.ResponseData> {
  const { dispatcher = undici.getGlobalDispatcher(), method = 'GET', ...rest } = options;
  const target = new URL(url);
  return undici.request.call(dispatcher, {
    ...rest,
    origin: target.origin,
    path: `${target.pathname}${target.search}`,
    method,
  });
}
