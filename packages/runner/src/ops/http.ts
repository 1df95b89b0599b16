import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** Readiness of one component, as `/readyz` reports it. */
export interface ComponentHealth {
  readonly ok: boolean;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** What `/readyz` shows: one entry per OVH token and per adapter. */
export interface Readiness {
  readonly tokens: Readonly<Record<string, ComponentHealth>>;
  readonly adapters: Readonly<Record<string, ComponentHealth>>;
  /** The state store: can it be written? */
  readonly store?: ComponentHealth;
  /** Several runners on Redis: this runner's leases and the cluster view. */
  readonly cluster?: ComponentHealth;
}

/** Options of {@link startHttpServer}. */
export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  /** Computes readiness on each request. */
  readonly readiness: () => Promise<Readiness>;
  /** Called before a `/metrics` scrape (to sample gauges). */
  readonly beforeScrape?: () => Promise<void>;
  /**
   * More routes (the live board): called for GET/HEAD requests other than the three above; true
   * when it answered.
   */
  readonly handle?: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;
}

/** A running health/metrics server. */
export interface HttpServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `/healthz` (the process is alive), `/readyz` (every token polling and every adapter
 * reachable: 200, else 503, JSON body per token and per adapter) and `/metrics` (Prometheus).
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'application/json') => {
      if (res.headersSent) return void res.end();
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    void (async () => {
      try {
        if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, '{"error":"method not allowed"}');
        if (path === '/healthz') return send(200, '{"status":"ok"}');
        if (path === '/readyz') {
          const readiness = await options.readiness();
          const ok =
            Object.values(readiness.tokens).every((t) => t.ok) &&
            Object.values(readiness.adapters).every((a) => a.ok) &&
            readiness.store?.ok !== false &&
            readiness.cluster?.ok !== false;
          return send(ok ? 200 : 503, JSON.stringify({ status: ok ? 'ready' : 'not-ready', ...readiness }));
        }
        if (path === '/metrics') {
          await options.beforeScrape?.();
          return send(200, await options.registry.metrics(), options.registry.contentType);
        }
        if (options.handle?.(req, res, new URL(req.url ?? '/', 'http://localhost'))) return;
        send(404, '{"error":"not found: try /healthz, /readyz or /metrics"}');
      } catch (error) {
        send(500, JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
