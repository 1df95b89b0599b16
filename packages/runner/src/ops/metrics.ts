import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';

type PromClasses = Pick<typeof PromClient, 'Counter' | 'Gauge' | 'Histogram' | 'Registry'>;

let classes: PromClasses | undefined;

/**
 * The four prom-client classes the runner uses, each from its own module. prom-client's entry
 * also loads what the runner never uses — default process metrics, Pushgateway, cluster
 * aggregation and, through them, @opentelemetry/api: some 80 modules, about 100 ms of start-up
 * and 8 MB of resident memory. Falls back to the entry should a prom-client version lay its
 * files out differently.
 */
export function promClient(): PromClasses {
  if (classes !== undefined) return classes;
  const require = createRequire(import.meta.url);
  try {
    const parts: PromClasses = {
      Registry: require('prom-client/lib/registry') as PromClasses['Registry'],
      Counter: require('prom-client/lib/counter') as PromClasses['Counter'],
      Gauge: require('prom-client/lib/gauge') as PromClasses['Gauge'],
      Histogram: require('prom-client/lib/histogram') as PromClasses['Histogram'],
    };
    if (!Object.values(parts).every((part) => typeof part === 'function')) throw new Error('layout');
    classes = parts;
  } catch {
    classes = require('prom-client') as PromClasses;
  }
  return classes;
}

/** The runner's Prometheus metrics, on their own registry (never prom-client's global one). */
export interface RunnerMetrics {
  readonly registry: Registry;
  /** OVH events received, by token (masked). */
  readonly events: Counter<'token'>;
  /** Calls ended, by token, direction and outcome. */
  readonly calls: Counter<'token' | 'direction' | 'outcome'>;
  /** Queue sessions ended, by token and outcome. */
  readonly queueSessions: Counter<'token' | 'outcome'>;
  /** Screen pops emitted, by adapter (`none` when nobody matched). */
  readonly screenPops: Counter<'adapter'>;
  /** Outbox deliveries that succeeded, by adapter and kind. */
  readonly deliveries: Counter<'adapter' | 'kind'>;
  /** Failed delivery attempts that will be retried, by adapter and error kind. */
  readonly retries: Counter<'adapter' | 'error'>;
  /** Entries that became dead letters, by adapter. */
  readonly deadLetters: Counter<'adapter'>;
  /** Caller lookup latency, seconds, by adapter. */
  readonly lookupSeconds: Histogram<'adapter'>;
  /** Outbox entries by adapter and status, sampled at scrape time. */
  readonly outbox: Gauge<'adapter' | 'status'>;
  /** Live board pages: connected now, and dropped as too slow since start; sampled at scrape time. */
  readonly boardPages: Gauge<'state'>;
}

/** Creates the metrics on a fresh registry. */
export function createMetrics(): RunnerMetrics {
  const { Counter, Gauge, Histogram, Registry } = promClient();
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    events: new Counter({
      name: 'cti_events_total',
      help: 'OVH CTI events received',
      labelNames: ['token'],
      registers,
    }),
    calls: new Counter({
      name: 'cti_calls_total',
      help: 'Calls ended',
      labelNames: ['token', 'direction', 'outcome'],
      registers,
    }),
    queueSessions: new Counter({
      name: 'cti_queue_sessions_total',
      help: 'Queue sessions ended',
      labelNames: ['token', 'outcome'],
      registers,
    }),
    screenPops: new Counter({
      name: 'cti_screen_pops_total',
      help: 'Screen pops emitted',
      labelNames: ['adapter'],
      registers,
    }),
    deliveries: new Counter({
      name: 'cti_deliveries_total',
      help: 'Activities delivered to a CRM',
      labelNames: ['adapter', 'kind'],
      registers,
    }),
    retries: new Counter({
      name: 'cti_delivery_retries_total',
      help: 'Failed delivery attempts scheduled for retry',
      labelNames: ['adapter', 'error'],
      registers,
    }),
    deadLetters: new Counter({
      name: 'cti_dead_letters_total',
      help: 'Outbox entries given up on (dead letters)',
      labelNames: ['adapter'],
      registers,
    }),
    lookupSeconds: new Histogram({
      name: 'cti_lookup_duration_seconds',
      help: 'Caller lookup latency',
      labelNames: ['adapter'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    outbox: new Gauge({
      name: 'cti_outbox_entries',
      help: 'Outbox entries by status',
      labelNames: ['adapter', 'status'],
      registers,
    }),
    boardPages: new Gauge({
      name: 'cti_board_pages',
      help: 'Live board pages: connected now (state=connected), dropped as too slow since start (state=dropped)',
      labelNames: ['state'],
      registers,
    }),
  };
}
