import type { Connector, CrmAdapter, EventStream, Store } from '@cti-bridge/core';
import type { Board } from '../board/board.js';
import type { LeasedPolling } from '../cluster/cluster.js';
import { sampleClusterMetrics } from '../cluster/ops.js';
import type { CtiConfig } from '../config/schema.js';
import { type HttpServer, startHttpServer } from '../ops/http.js';
import type { RunnerMetrics } from '../ops/metrics.js';
import type { Webhooks } from '../webhooks/webhooks.js';
import type { AdapterHealth } from './adapter-health.js';
import { readiness } from './readiness.js';

/** What the ops server (/healthz, /readyz, /metrics, the board) reports on. */
export interface OpsServerParts {
  readonly config: CtiConfig;
  readonly stream: EventStream | undefined;
  readonly store: Store;
  readonly adapters: ReadonlyMap<string, CrmAdapter>;
  readonly health: ReadonlyMap<string, AdapterHealth>;
  readonly connector: Connector;
  readonly cluster: LeasedPolling | undefined;
  readonly metrics: RunnerMetrics;
  readonly board: Board | undefined;
  readonly webhooks: Webhooks | undefined;
}

/** Starts the ops server unless HTTP is off; `/metrics` samples the gauges before each scrape. */
export async function startOpsServer(
  httpConfig: CtiConfig['http'],
  parts: OpsServerParts,
): Promise<HttpServer | undefined> {
  const { config, stream, store, adapters, health, connector, cluster, metrics, board, webhooks } = parts;
  return httpConfig === false
    ? undefined
    : await startHttpServer({
        host: httpConfig.host,
        port: httpConfig.port,
        registry: metrics.registry,
        readiness: () => readiness(config, stream, store, adapters, health, connector, cluster),
        ...(board === undefined ? {} : { handle: board.handle }),
        beforeScrape: async () => {
          if (cluster !== undefined) await sampleClusterMetrics(metrics, cluster, store);
          if (board !== undefined) {
            const stats = board.hub.stats();
            metrics.boardPages.set({ state: 'connected' }, stats.clients);
            metrics.boardPages.set({ state: 'dropped' }, stats.dropped);
          }
          for (const name of [...adapters.keys(), ...(webhooks?.targets ?? [])]) {
            const counts = await store.outbox.counts(name);
            for (const [status, value] of Object.entries(counts))
              metrics.outbox.set({ adapter: name, status }, value);
          }
        },
      });
}
