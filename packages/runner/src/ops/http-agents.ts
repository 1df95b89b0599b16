import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { HttpAgents } from '../adapter-factory-context.js';

/** What {@link installRequestDeadlines} put in place, to take it back on stop. */
export interface RequestDeadlines {
  /** The agents put in place (also the global agents until `close()`). */
  readonly agents: HttpAgents;
  /** Closes every socket of the agents (requests still hanging fail at once) and restores the old agents. */
  close(): void;
}

/** Options of {@link installRequestDeadlines}. */
export interface RequestDeadlineOptions {
  /** A socket with no byte in or out for this long is closed (default 30 s). */
  readonly idleTimeoutMs?: number;
  /** Connections per host at most (default 16): more requests wait for a free one. */
  readonly maxSocketsPerHost?: number;
}

type CreateConnection = (options: unknown, callback?: unknown) => Duplex;

/** Adds the idle deadline to every socket an agent opens. */
function withDeadline<A extends http.Agent>(agent: A, idleTimeoutMs: number): A {
  const create = (agent as unknown as { createConnection: CreateConnection }).createConnection.bind(agent);
  (agent as unknown as { createConnection: CreateConnection }).createConnection = (options, callback) => {
    const socket = create(options, callback) as Duplex & { setTimeout(ms: number): void };
    socket.setTimeout(idleTimeoutMs);
    socket.on('timeout', () =>
      socket.destroy(new Error(`no answer for ${idleTimeoutMs} ms: connection closed (request deadline)`)),
    );
    return socket;
  };
  return agent;
}

/**
 * Puts a deadline on the CRM SDKs' HTTP requests. jsforce, the HubSpot client and odoo-await
 * (xmlrpc) all use Node's default HTTP(S) agents, and none of them cancels a request its caller
 * gave up on: against a CRM that hangs, every retry left one more socket open. The default agents
 * are replaced by ones whose sockets close after `idleTimeoutMs` without a byte, with a bound on
 * connections per host; `close()` destroys them all (a shutdown never waits on a hung CRM).
 * The OVH stream uses its own undici agent and is not affected.
 */
export function installRequestDeadlines(options: RequestDeadlineOptions = {}): RequestDeadlines {
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  // `timeout` too: Node re-arms a pooled socket's timeout with the agent's own on every reuse (and
  // would set it to none without it, so a kept-alive socket's second request had no deadline)
  const common = {
    keepAlive: true,
    maxSockets: options.maxSocketsPerHost ?? 16,
    maxFreeSockets: 4,
    timeout: idleTimeoutMs,
  };
  const previous = { http: http.globalAgent, https: https.globalAgent };
  const agents = {
    http: withDeadline(new http.Agent(common), idleTimeoutMs),
    https: withDeadline(new https.Agent(common), idleTimeoutMs),
  };
  http.globalAgent = agents.http;
  https.globalAgent = agents.https;
  return {
    agents,
    close() {
      agents.http.destroy();
      agents.https.destroy();
      if (http.globalAgent === agents.http) http.globalAgent = previous.http;
      if (https.globalAgent === agents.https) https.globalAgent = previous.https;
    },
  };
}
