import {
  type Connector,
  type CrmAdapter,
  DEFAULT_POLL_TIMEOUT_MS,
  type EventStream,
  type Store,
} from '@cti-bridge/core';
import type { LeasedPolling } from '../cluster/cluster.js';
import { clusterReadiness } from '../cluster/ops.js';
import type { CtiConfig } from '../config/schema.js';
import type { ComponentHealth, Readiness } from '../ops/http.js';
import { maskToken } from '../ops/secrets.js';
import { type AdapterHealth, newAdapterHealth, UNHEALTHY_AFTER } from './adapter-health.js';

type StreamStats = ReturnType<EventStream['stats']>;
type TokenStats = StreamStats[string];

/** `/readyz` of a runner: its tokens, adapters, store and (in a Redis cluster) its cluster. */
export async function readiness(
  config: CtiConfig,
  stream: EventStream | undefined,
  store: Store,
  adapters: ReadonlyMap<string, CrmAdapter>,
  health: ReadonlyMap<string, AdapterHealth>,
  connector: Connector,
  cluster?: LeasedPolling,
): Promise<Readiness> {
  const stats = stream?.stats() ?? {};
  const leased =
    cluster === undefined ? undefined : await clusterReadiness(cluster, Object.keys(config.tokens), store);
  // a poll is held about a minute: none completed in twice the client timeout means a stalled loop
  const pollDeadlineMs = 2 * (config.ovh.pollTimeoutMs ?? DEFAULT_POLL_TIMEOUT_MS);
  const now = Date.now();
  const tokens: Readiness['tokens'] = Object.fromEntries(
    Object.keys(config.tokens).map((token) => {
      const s = stats[token];
      const elsewhere = leased?.tokens.get(token);
      if (s === undefined && elsewhere !== undefined) return [maskToken(token), elsewhere];
      return [maskToken(token), tokenHealth(s, now, pollDeadlineMs)];
    }),
  );
  const entries = await Promise.all(
    [...adapters.keys()].map(
      async (name) =>
        [
          name,
          adapterReadiness(await store.outbox.counts(name), health.get(name) ?? newAdapterHealth()),
        ] as const,
    ),
  );
  return {
    tokens,
    adapters: Object.fromEntries(entries),
    store: await storeHealth(store, connector),
    ...(leased === undefined ? {} : { cluster: leased.cluster }),
  };
}

/** The readiness of one OVH token this runner polls (or should poll). */
function tokenHealth(s: TokenStats | undefined, now: number, pollDeadlineMs: number): ComponentHealth {
  const stalled = s?.lastPollAt !== undefined && now - s.lastPollAt > pollDeadlineMs;
  const ok = s !== undefined && !s.silent && s.consecutiveErrors < 3 && !stalled;
  const message =
    s === undefined
      ? 'not polling'
      : stalled
        ? `stalled: no poll completed since ${new Date(s.lastPollAt as number).toISOString()}`
        : s.silent
          ? 'silent: no event for a long time'
          : s.consecutiveErrors >= 3
            ? `failing: ${s.lastError ?? 'poll errors'}`
            : 'polling';
  return {
    ok,
    message,
    details: s === undefined ? {} : { polls: s.polls, events: s.events, errors: s.errors },
  };
}

/** The readiness of one adapter: its recent writes and lookups, and its dead letters. */
function adapterReadiness(
  counts: Awaited<ReturnType<Store['outbox']['counts']>>,
  h: AdapterHealth,
): ComponentHealth {
  const authFailing = h.lastErrorKind === 'auth' && (h.failuresInARow > 0 || h.lookupFailuresInARow > 0);
  const writesFailing = h.failuresInARow >= UNHEALTHY_AFTER || (h.failuresInARow > 0 && authFailing);
  const lookupsFailing =
    h.lookupFailuresInARow >= UNHEALTHY_AFTER || (h.lookupFailuresInARow > 0 && authFailing);
  const failing = writesFailing || lookupsFailing;
  const since = h.failingSince === undefined ? '' : ` since ${new Date(h.failingSince).toISOString()}`;
  const message = failing
    ? `${
        writesFailing
          ? `${h.failuresInARow} write(s) failed in a row`
          : `${h.lookupFailuresInARow} lookup(s) failed in a row`
      }${since} (${h.lastError ?? 'unknown error'})${
        authFailing
          ? ': fix the credentials of this adapter (its deliveries are paused, nothing is dropped)'
          : ''
      }`
    : counts.dead > 0
      ? `${counts.dead} dead letter(s): see \`cti-runner outbox list\``
      : 'ok';
  return {
    ok: !failing,
    message,
    details: {
      ...counts,
      failuresInARow: h.failuresInARow,
      lookupFailuresInARow: h.lookupFailuresInARow,
      ...(h.failingSince === undefined ? {} : { failingSince: new Date(h.failingSince).toISOString() }),
      ...(h.lastSuccessAt === undefined ? {} : { lastSuccessAt: new Date(h.lastSuccessAt).toISOString() }),
    },
  };
}

/** Whether the store accepts a write now (a full disk, a read-only or broken file does not). */
async function storeHealth(store: Store, connector: Connector): Promise<ComponentHealth> {
  const { unwritten, unwrittenDropped } = connector.stats();
  const details = { unwritten, unwrittenDropped };
  try {
    await store.kv.set('ops', 'readyz', String(Date.now()));
    if (unwritten > 0) {
      return {
        ok: false,
        message: `${unwritten} call(s) wait in memory for the store to accept them`,
        details,
      };
    }
    return { ok: true, message: 'writable', details };
  } catch (error) {
    return {
      ok: false,
      message: `cannot write the state store: ${error instanceof Error ? error.message : String(error)}${
        unwritten > 0 ? ` (${unwritten} call(s) kept in memory until it can: free space on its disk)` : ''
      }`,
      details,
    };
  }
}
