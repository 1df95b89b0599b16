import type { Store } from '@cti-bridge/core';
import type { Gauge } from 'prom-client';
import type { ComponentHealth } from '../ops/http.js';
import { promClient, type RunnerMetrics } from '../ops/metrics.js';
import { maskToken } from '../ops/secrets.js';
import type { LeasedPolling } from './cluster.js';

/** `/readyz` of a runner in a cluster: the tokens other runners poll, and the cluster itself. */
export interface ClusterReadiness {
  /** Tokens this runner does not poll, by token: who polls them (ok) or that nobody does. */
  readonly tokens: ReadonlyMap<string, ComponentHealth>;
  readonly cluster: ComponentHealth;
}

/**
 * The cluster part of `/readyz`: a token polled by another live runner is ready here too; a token
 * no live runner holds is not (it is taken over within the lease time). The `cluster` entry lists
 * this runner's tokens (masked), the live runners with their token counts, and the outbox depth;
 * it fails while Redis cannot be reached.
 */
export async function clusterReadiness(
  cluster: LeasedPolling,
  tokens: readonly string[],
  store?: Store,
): Promise<ClusterReadiness> {
  const mine = cluster.leases.held();
  const status = cluster.leases.status();
  try {
    const view = await cluster.view();
    const perToken = new Map<string, ComponentHealth>();
    for (const token of tokens) {
      if (mine.has(token)) continue;
      const holder = view.holders.get(token);
      perToken.set(
        token,
        holder === undefined
          ? {
              ok: false,
              message: 'no live runner holds its lease: a runner takes it over within the lease time',
            }
          : { ok: true, message: `polled by runner ${holder}`, details: { runner: holder } },
      );
    }
    const pending = store === undefined ? undefined : (await store.outbox.counts()).pending;
    const ok = status.lastError === undefined;
    return {
      tokens: perToken,
      cluster: {
        ok,
        message: ok
          ? `runner ${cluster.name} polls ${mine.size} of ${tokens.length} token(s); ${view.runners.length} runner(s) live; ${view.leases.free} token(s) without a runner`
          : `Redis unreachable for the token leases (${status.lastError}): tokens are dropped once their leases run out`,
        details: {
          runner: cluster.name,
          held: [...mine.keys()].map(maskToken),
          runners: view.runners.map((r) => ({
            name: r.name,
            tokens: r.tokens,
            aliveUntil: new Date(r.aliveUntil).toISOString(),
          })),
          leases: view.leases,
          ...(pending === undefined ? {} : { queueDepth: pending }),
        },
      },
    };
  } catch (error) {
    return {
      tokens: new Map(),
      cluster: {
        ok: false,
        message: `Redis unreachable: ${error instanceof Error ? error.message : String(error)}`,
        details: { runner: cluster.name, held: [...mine.keys()].map(maskToken) },
      },
    };
  }
}

interface ClusterGauges {
  readonly runners: Gauge;
  readonly runnerTokens: Gauge<'runner'>;
  readonly leases: Gauge<'state'>;
  readonly held: Gauge<'token'>;
  readonly queue: Gauge;
}

const gaugesByMetrics = new WeakMap<RunnerMetrics, ClusterGauges>();

function gauges(metrics: RunnerMetrics): ClusterGauges {
  let found = gaugesByMetrics.get(metrics);
  if (found === undefined) {
    const { Gauge } = promClient();
    const registers = [metrics.registry];
    found = {
      runners: new Gauge({
        name: 'cti_cluster_runners',
        help: 'Live runners sharing the Redis store',
        registers,
      }),
      runnerTokens: new Gauge({
        name: 'cti_cluster_runner_tokens',
        help: 'Tokens held by each live runner',
        labelNames: ['runner'],
        registers,
      }),
      leases: new Gauge({
        name: 'cti_cluster_leases',
        help: "Leases of this config's tokens: held by a live runner or free",
        labelNames: ['state'],
        registers,
      }),
      held: new Gauge({
        name: 'cti_token_lease_held',
        help: 'Tokens this runner holds (value: the fencing number of its lease)',
        labelNames: ['token'],
        registers,
      }),
      queue: new Gauge({
        name: 'cti_cluster_queue_depth',
        help: 'Pending outbox entries of every runner (the shared queue)',
        registers,
      }),
    };
    gaugesByMetrics.set(metrics, found);
  }
  return found;
}

/** Samples the cluster gauges before a `/metrics` scrape. A Redis failure leaves them as they were. */
export async function sampleClusterMetrics(
  metrics: RunnerMetrics,
  cluster: LeasedPolling,
  store: Store,
): Promise<void> {
  const g = gauges(metrics);
  g.held.reset();
  for (const [token, fence] of cluster.leases.held()) g.held.set({ token: maskToken(token) }, fence);
  try {
    const [view, counts] = await Promise.all([cluster.view(), store.outbox.counts()]);
    g.runners.set(view.runners.length);
    g.runnerTokens.reset();
    for (const runner of view.runners) g.runnerTokens.set({ runner: runner.name }, runner.tokens);
    g.leases.set({ state: 'held' }, view.leases.held);
    g.leases.set({ state: 'free' }, view.leases.free);
    g.queue.set(counts.pending);
  } catch {
    // Redis unreachable: /readyz says so; the gauges keep their last values.
  }
}
