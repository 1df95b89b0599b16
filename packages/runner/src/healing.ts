import {
  type Connector,
  createHealer,
  createOvhApiClient,
  createSeenCallJournal,
  DEFAULT_POLL_TIMEOUT_MS,
  type EventStream,
  type Healer,
  type OvhLineRef,
  type Store,
  tokenTag,
} from '@cti-bridge/core';
import type { CtiConfig } from './config/schema.js';
import type { RunnerLogger } from './ops/logger.js';
import { maskToken, registerSecret } from './ops/secrets.js';

/** The lines whose call records heal each token (tokens with `healing` in the config). */
export function healingLines(config: CtiConfig): Record<string, OvhLineRef[]> {
  const lines: Record<string, OvhLineRef[]> = {};
  for (const [token, route] of Object.entries(config.tokens)) {
    if (!route.healing) continue;
    lines[token] = route.healing.lines.map((serviceName) => ({
      billingAccount: route.healing?.billingAccount ?? '',
      serviceName,
    }));
  }
  return lines;
}

/** The OVH API credentials: `ovh.api`, else the OVH_* environment variables, else undefined. */
export function apiCredentials(
  config: CtiConfig,
): { endpoint: string; applicationKey: string; applicationSecret: string; consumerKey: string } | undefined {
  if (config.ovh.api) return config.ovh.api;
  const { OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY, OVH_ENDPOINT } = process.env;
  if (!OVH_APPLICATION_KEY || !OVH_APPLICATION_SECRET || !OVH_CONSUMER_KEY) return undefined;
  return {
    endpoint: OVH_ENDPOINT || 'ovh-eu',
    applicationKey: OVH_APPLICATION_KEY,
    applicationSecret: OVH_APPLICATION_SECRET,
    consumerKey: OVH_CONSUMER_KEY,
  };
}

/** A healer for a config, or why there is none. */
export function buildHealer(
  config: CtiConfig,
  deps: { store: Store; connector: Connector; logger: RunnerLogger; clock?: () => number },
): Healer | string {
  const lines = healingLines(config);
  if (Object.keys(lines).length === 0)
    return 'no token has `healing` (billing account and lines) in the config';
  const credentials = apiCredentials(config);
  if (!credentials)
    return 'no OVH API credentials (ovh.api in the config, or OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY)';
  registerSecret(credentials.applicationSecret);
  registerSecret(credentials.consumerKey);
  return createHealer({
    api: createOvhApiClient(credentials),
    kv: deps.store.kv,
    journal: createSeenCallJournal(deps.store.kv, tokenTag),
    lines,
    ingest: (call) => deps.connector.ingest(call),
    inFlight: () => deps.connector.activeCalls(),
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(config.ovh.healing?.recordDelayMs === undefined
      ? {}
      : { recordDelayMs: config.ovh.healing.recordDelayMs }),
    ...(config.ovh.healing?.matchWindowMs === undefined
      ? {}
      : { matchWindowMs: config.ovh.healing.matchWindowMs }),
    ...(config.ovh.defaultCountry === undefined ? {} : { defaultCountry: config.ovh.defaultCountry }),
    logger: deps.logger.child({ component: 'healing' }),
  });
}

const HEARTBEAT_KEY = 'alive';

/** Options of {@link startHealing}. */
export interface StartHealingOptions {
  readonly config: CtiConfig;
  readonly healer: Healer;
  readonly store: Store;
  readonly stream?: EventStream;
  readonly logger: RunnerLogger;
  readonly clock?: () => number;
}

/**
 * Notes the gaps of the stream and heals them once OVH lists their calls: the time the runner was
 * down (from its last heartbeat in the store), stream outages (from the first failed poll to the
 * next good one, plus a poll's length before), a session the server reset, a watchdog alarm.
 */
export async function startHealing(options: StartHealingOptions): Promise<{ stop(): void }> {
  const { healer, store, stream, logger } = options;
  const clock = options.clock ?? Date.now;
  const pollMs = options.config.ovh.pollTimeoutMs ?? DEFAULT_POLL_TIMEOUT_MS;
  const report = (error: unknown, what: string) =>
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, what);
  const beat = () =>
    store.kv
      .set('healing', HEARTBEAT_KEY, String(clock()))
      .catch((error: unknown) => report(error, 'healing heartbeat failed'));

  const last = Number(await store.kv.get('healing', HEARTBEAT_KEY).catch(() => undefined));
  const now = clock();
  // down for longer than two heartbeats: calls of that time only OVH's records know
  if (Number.isFinite(last) && now - last > 60_000) {
    await healer
      .noteGap({ from: last - pollMs, to: now, reason: 'restart' })
      .catch((e: unknown) => report(e, 'noting a gap failed'));
  }
  await beat();

  const outages = new Map<string, number>();
  const sessionChanges = new Map<string, number>();
  const watch = () => {
    const stats = stream?.stats() ?? {};
    const t = clock();
    for (const [token, s] of Object.entries(stats)) {
      const open = outages.get(token);
      if (s.consecutiveErrors > 0 && open === undefined) outages.set(token, t - pollMs);
      if (s.consecutiveErrors === 0 && open !== undefined) {
        outages.delete(token);
        void healer
          .noteGap({ from: open, to: t, reason: 'stream-outage' })
          .catch((e: unknown) => report(e, 'noting a gap failed'));
      }
      const changes = sessionChanges.get(token) ?? 0;
      if (s.sessionChanges > changes) {
        void healer
          .noteGap({ from: t - 2 * pollMs, to: t, reason: 'session-reset' })
          .catch((e: unknown) => report(e, 'noting a gap failed'));
      }
      sessionChanges.set(token, s.sessionChanges);
    }
  };
  const onSilent = (silent: { token: string; silentForMs: number }) => {
    const t = clock();
    logger.info(
      { token: maskToken(silent.token) },
      'silent token: its time will be checked against OVH call records',
    );
    void healer
      .noteGap({ from: t - silent.silentForMs, to: t, reason: 'watchdog' })
      .catch((e: unknown) => report(e, 'noting a gap failed'));
  };
  stream?.on('silent', onSilent);
  const timers = [
    setInterval(watch, 5_000),
    setInterval(() => void beat(), 30_000),
    setInterval(() => void healer.runDue().catch((e: unknown) => report(e, 'healing failed')), 60_000),
  ];
  for (const timer of timers) timer.unref();
  void healer.runDue().catch((e: unknown) => report(e, 'healing failed'));
  return {
    stop() {
      for (const timer of timers) clearInterval(timer);
    },
  };
}
