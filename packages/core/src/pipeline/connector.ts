import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type {
  AdapterCallPurpose,
  AdapterContext,
  AdapterState,
  ContactMatch,
  CrmAdapter,
} from '../adapter/contract.js';
import { AdapterError } from '../adapter/errors.js';
import { CallTracker, STRAY_END_REASON } from '../calls/call-tracker.js';
import type { Call, CallEvent, QueueSession } from '../calls/types.js';
import {
  policiesSchema as corePoliciesSchema,
  DEFAULT_DELIVERY,
  DEFAULT_POLICIES,
  deliveryOptionsSchema,
  routeAdapterFieldsSchema,
  routeFieldsSchema,
} from '../config/schemas.js';
import { createSeenCallJournal } from '../healing/journal.js';
import { silentLogger } from '../logger.js';
import { agentNumberOf } from '../ovh/normalize.js';
import type { OvhEvent } from '../ovh/types.js';
import { type PhoneNumber, parsePhone } from '../phone/index.js';
import type { KeyValueStore, NewOutboxEntry, OutboxKind } from '../store/types.js';
import { DeliveryWorker } from './delivery.js';
import { encodePayload, phoneKey, toCallRecord } from './records.js';
import { realSleep, withTimeout } from './timing.js';
import type {
  Connector,
  ConnectorEvents,
  ConnectorOptions,
  ConnectorStats,
  DeliveryOptions,
  Policies,
  Route,
  RouteAdapter,
} from './types.js';

const policiesSchema = corePoliciesSchema.partial();

const deliverySchema = deliveryOptionsSchema.partial();

const adapterSchema = z.custom<CrmAdapter>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    (value as { specificationVersion?: unknown }).specificationVersion === 'v1' &&
    typeof (value as { findContacts?: unknown }).findContacts === 'function' &&
    typeof (value as { logCall?: unknown }).logCall === 'function',
  { message: 'not a CrmAdapter v1 (specificationVersion "v1", findContacts and logCall required)' },
);

const routesSchema = z.record(
  z.string().min(1),
  z.object({
    adapters: z
      .array(
        z.object({
          ...routeAdapterFieldsSchema.shape,
          adapter: adapterSchema,
        }),
      )
      .min(1),
    ...routeFieldsSchema.shape,
    policies: policiesSchema.optional(),
  }),
);

/**
 * Stable idempotency key (and outbox id) of one write: adapter, token, call id (or queue member
 * uuid), kind. The event token authenticates the OVH stream, so the key carries a short SHA-256
 * tag of it, never the token itself (keys end up in CRM records and logs):
 * `salesforce:3f9a1c0b7d2e:<CallId>:log-call`.
 */
export function idempotencyKey(adapter: string, token: string, id: string, kind: OutboxKind): string {
  return `${adapter}:${tokenTag(token)}:${id}:${kind}`;
}

const tokenTags = new Map<string, string>();

/** A short, stable, non-reversible tag of an event token (12 hex digits of its SHA-256). */
export function tokenTag(token: string): string {
  let tag = tokenTags.get(token);
  if (tag === undefined) {
    tag = createHash('sha256').update(token).digest('hex').slice(0, 12);
    if (tokenTags.size > 10_000) tokenTags.clear();
    tokenTags.set(token, tag);
  }
  return tag;
}

/** An {@link AdapterState} over the store's key-value state, namespaced by adapter name. */
export function kvAdapterState(kv: KeyValueStore, namespace: string, clock: () => number): AdapterState {
  return {
    get: (key) => kv.get(namespace, key, clock()),
    set: (key, value, options) =>
      kv.set(namespace, key, value, {
        ...(options?.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
        now: clock(),
      }),
    delete: (key) => kv.delete(namespace, key),
  };
}

/**
 * The connector's default settle window (ms): a call whose end was seen waits this long (and never
 * past the next poll) for late events of its own before it is logged.
 */
export const DEFAULT_SETTLE_MS = 3_000;

interface CacheEntry {
  readonly promise: Promise<ContactMatch[]>;
  /** Infinite while the lookup is pending, then the cache time from when its answer arrived. */
  expiresAt: number;
  settled?: ContactMatch[];
  /** When the answer arrived (clock), once it did. */
  answeredAt?: number;
}

/**
 * Creates the pipeline: OVH events → {@link CallTracker} → screen pops and CRM activities.
 *
 * - Routing: each token's calls go to every adapter of its route (fan-out); lookups try the
 *   adapters in order and the first with a match wins the screen pop (the others still log the
 *   call, attached to their own match).
 * - Screen pop on ringing (and on an outbound call's start), with a short-TTL lookup cache so that a
 *   ring and its end cost one lookup. Lookups run beside the stream: a slow CRM never holds back
 *   other calls' screen pops.
 * - On a call's end: one outbox entry per adapter is written to the store **before** any delivery;
 *   delivery workers (one per adapter) then deliver with retries, backoff and rate limits, and give
 *   up into dead letters that can be listed and replayed.
 * - Policies: unknown caller, internal calls, missed-call follow-up, queue sessions; owner mapping
 *   from OVH line or queue agent to a CRM user id per adapter.
 * - The tracker snapshot is saved on `stop()` and by the housekeeping timer, and restored on
 *   `start()`; pending outbox entries resume on `start()`.
 *
 * Throws a descriptive error when the routes are invalid (e.g. two different adapters under one name).
 */
export function createConnector(options: ConnectorOptions): Connector {
  const parsedRoutes = routesSchema.safeParse(options.routes);
  if (!parsedRoutes.success) {
    throw new Error(`invalid connector routes: ${z.prettifyError(parsedRoutes.error)}`);
  }
  policiesSchema.parse(options.policies ?? {});
  deliverySchema.parse(options.delivery ?? {});
  const routes = options.routes;
  const store = options.store;
  const clock = options.clock ?? Date.now;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const logger = options.logger ?? silentLogger;
  const cacheTtl = options.lookupCacheTtlMs ?? 60_000;
  const lookupTimeout = options.lookupTimeoutMs ?? 3_000;
  const housekeepingMs = options.housekeepingIntervalMs ?? 30_000;
  const outboxPollMs = options.outboxPollIntervalMs ?? 2_000;
  let outboxPoll: NodeJS.Timeout | undefined;
  const snapshotKey = options.snapshotKey ?? 'tracker';
  let droppedSinceWarning = 0;
  let lastDropWarning = Number.NEGATIVE_INFINITY;
  const trackerOptions = {
    clock,
    settleMs: DEFAULT_SETTLE_MS,
    // a stream opening calls that never end: memory stays bounded, and it is said (once a minute)
    onDropped: (what: string, id: string) => {
      droppedSinceWarning++;
      const now = clock();
      if (now - lastDropWarning < 60_000) return;
      lastDropWarning = now;
      logger.warn(
        { what, id: id.slice(0, 64), dropped: droppedSinceWarning },
        'too many calls in flight (a broken or hostile stream?): the oldest are dropped',
      );
      droppedSinceWarning = 0;
    },
    ...options.tracker,
  };
  const settleMs = trackerOptions.settleMs ?? 0;
  let settleTimer: NodeJS.Timeout | undefined;

  // Every adapter name is one delivery worker; one name, one adapter instance.
  const targets = new Map<string, RouteAdapter>();
  for (const [token, route] of Object.entries(routes)) {
    for (const target of route.adapters) {
      const known = targets.get(target.name);
      if (known && known.adapter !== target.adapter) {
        throw new Error(
          `invalid connector routes: adapter name "${target.name}" (token ${token}) is used for two different adapters; give each its own name`,
        );
      }
      if (!known) targets.set(target.name, target);
    }
  }

  const listeners: { [K in keyof ConnectorEvents]?: Array<(payload: ConnectorEvents[K]) => void> } = {};
  const emit = <K extends keyof ConnectorEvents>(event: K, payload: ConnectorEvents[K]) => {
    for (const listener of listeners[event] ?? []) {
      try {
        listener(payload);
      } catch (error) {
        if (event !== 'error') emit('error', { error, context: `a "${event}" listener threw` });
      }
    }
  };
  const report = (error: unknown, context: string, adapter?: string) => {
    logger.warn({ err: errorSummary(error), adapter, context }, context);
    emit('error', { error, context, ...(adapter !== undefined ? { adapter } : {}) });
  };

  const counters = {
    events: 0,
    calls: 0,
    queueSessions: 0,
    screenPops: 0,
    lookups: 0,
    lookupCacheHits: 0,
    delivered: 0,
    retries: 0,
    deadLetters: 0,
    strayEnds: 0,
  };

  const contexts = new Map<string, AdapterContext>();
  for (const name of targets.keys()) {
    contexts.set(name, {
      logger: logger.child({ adapter: name }),
      state: kvAdapterState(store.kv, name, clock),
    });
  }
  const contextOf = (name: string) => contexts.get(name) as AdapterContext;

  // ---------------------------------------------------------------------------------------------
  // Lookup cache: promises, so concurrent lookups of one number share one request.
  const cache = new Map<string, CacheEntry>();
  const lookupCached = (
    target: RouteAdapter,
    phone: PhoneNumber,
    purpose: AdapterCallPurpose,
    since?: Date,
  ): Promise<ContactMatch[]> => {
    const key = `${target.name}|${phoneKey(phone)}`;
    const now = clock();
    const hit = cache.get(key);
    const answeredSince =
      since !== undefined && hit?.answeredAt !== undefined && hit.answeredAt >= since.getTime();
    if (hit && (hit.expiresAt > now || answeredSince)) {
      counters.lookupCacheHits++;
      return hit.promise;
    }
    if (cache.size > 5_000) for (const [k, v] of cache) if (v.expiresAt <= now) cache.delete(k);
    counters.lookups++;
    const promise = target.adapter.findContacts({ phone }, { ...contextOf(target.name), purpose });
    // a lookup still waiting in a CRM's queue never expires: a delivery joins it instead of asking
    // again (under load the queue can be longer than the cache time); timed from its answer
    const entry: CacheEntry = { promise, expiresAt: Number.POSITIVE_INFINITY };
    cache.set(key, entry);
    promise.then(
      (matches) => {
        entry.settled = matches;
        entry.answeredAt = clock();
        // timed from the answer: a lookup that waited in a CRM's queue does not arrive expired
        entry.expiresAt = clock() + cacheTtl;
      },
      () => {
        if (cache.get(key) === entry) cache.delete(key);
      },
    );
    return promise;
  };
  const settledMatch = (target: RouteAdapter, phone: PhoneNumber): ContactMatch | null | undefined => {
    if (phone.withheld) return null;
    const entry = cache.get(`${target.name}|${phoneKey(phone)}`);
    if (!entry?.settled || entry.expiresAt <= clock()) return undefined;
    return entry.settled[0] ?? null;
  };

  // ---------------------------------------------------------------------------------------------
  // Routes and policies
  const routeOf = (token: string): Route | undefined => routes[token] ?? routes['*'];
  const policiesOf = (route: Route | undefined, target?: RouteAdapter): Policies => ({
    ...DEFAULT_POLICIES,
    ...options.policies,
    ...route?.policies,
    ...target?.policies,
  });
  const ownerMaps = new Map<string, Map<string, string>>();
  const ownerOf = (
    target: RouteAdapter,
    route: Route,
    keys: readonly (string | undefined)[],
  ): string | undefined => {
    if (!target.ownerMap) return undefined;
    let map = ownerMaps.get(target.name);
    if (!map) {
      map = new Map();
      for (const [key, value] of Object.entries(target.ownerMap)) {
        map.set(key, value);
        const e164 = parsePhone(key, { defaultCountry: route.defaultCountry ?? 'FR' }).e164;
        if (e164) map.set(e164, value);
      }
      ownerMaps.set(target.name, map);
    }
    for (const key of keys) {
      if (key === undefined) continue;
      const owner = map.get(key);
      if (owner !== undefined) return owner;
    }
    return undefined;
  };
  const agentKeys = (agent: string | undefined, route: Route): Array<string | undefined> => {
    if (agent === undefined) return [];
    const number = agentNumberOf(agent);
    return [
      agent,
      number,
      number ? parsePhone(number, { defaultCountry: route.defaultCountry ?? 'FR' }).e164 : undefined,
    ];
  };
  const labelMaps = new Map<Route, Record<string, string>>();
  const lineLabelsOf = (route: Route): Record<string, string> => {
    let labels = labelMaps.get(route);
    if (!labels) {
      labels = {};
      for (const [key, value] of Object.entries(route.lineLabels ?? {})) {
        labels[key] = value;
        const e164 = parsePhone(key, { defaultCountry: route.defaultCountry ?? 'FR' }).e164;
        if (e164) labels[e164] = value;
      }
      labelMaps.set(route, labels);
    }
    return labels;
  };

  // ---------------------------------------------------------------------------------------------
  // Delivery workers
  const deliveryOf = (target: RouteAdapter): DeliveryOptions => {
    const merged = { ...DEFAULT_DELIVERY, ...options.delivery, ...target.delivery };
    const burstGiven = target.delivery?.burst ?? options.delivery?.burst;
    return { ...merged, burst: burstGiven ?? Math.max(1, merged.ratePerSecond) };
  };
  const workers = new Map<string, DeliveryWorker>();
  for (const target of targets.values()) {
    workers.set(
      target.name,
      new DeliveryWorker({
        target,
        options: deliveryOf(target),
        store,
        context: contextOf(target.name),
        clock,
        sleep,
        random,
        lookup: (phone, since) => lookupCached(target, phone, 'delivery', since),
        unknownCallerPolicy: (token) => {
          const route = routeOf(token);
          const own = route?.adapters.find((a) => a.name === target.name);
          return policiesOf(route, own ?? target).unknownCaller;
        },
        onDelivered: (entry, result) => {
          counters.delivered++;
          emit('delivered', { adapter: target.name, entry, result });
        },
        onRetry: (entry, error, delayMs) => {
          counters.retries++;
          logger.info(
            {
              adapter: target.name,
              id: entry.id,
              attempts: entry.attempts,
              kind: error.kind,
              delayMs,
              err: error.message,
            },
            `delivery to ${target.name} failed (${error.kind}); retrying in ${delayMs} ms`,
          );
          emit('delivery-retry', { adapter: target.name, entry, error, delayMs });
        },
        onPaused: (error, until) => {
          logger.warn(
            {
              adapter: target.name,
              kind: error.kind,
              code: error.code,
              retryAt: new Date(until).toISOString(),
            },
            `${target.name} refused the credentials: deliveries paused, nothing is dropped (fix them, or restart): ${error.message}`,
          );
          emit('adapter-paused', { adapter: target.name, error, until });
        },
        onDead: (entry, error) => {
          counters.deadLetters++;
          logger.error(
            { adapter: target.name, id: entry.id, attempts: entry.attempts, kind: error.kind },
            `delivery to ${target.name} gave up: ${error.message}`,
          );
          emit('dead-letter', { adapter: target.name, entry, error });
        },
        onError: (error, context) => report(error, context, target.name),
      }),
    );
  }

  // Entries the store refused (disk full, read-only file): kept in memory, in order, and written
  // as soon as it accepts writes again. Bounded: past the bound, the oldest are given up, loudly.
  const unwritten: NewOutboxEntry[] = [];
  const maxUnwritten = options.maxUnwrittenEntries ?? 10_000;
  let unwrittenDropped = 0;
  let lastStoreReport = Number.NEGATIVE_INFINITY;
  const writeEntry = async (entry: NewOutboxEntry) => {
    await store.outbox.enqueue(entry);
    logger.debug({ adapter: entry.adapter, id: entry.id }, 'outbox entry written');
    workers.get(entry.adapter)?.notify();
  };
  /** Writes what the store refused before, oldest first; stops at the first refusal. */
  const writeUnwritten = async (): Promise<boolean> => {
    while (unwritten.length > 0) {
      await writeEntry(unwritten[0] as NewOutboxEntry);
      unwritten.shift();
      if (unwritten.length === 0) {
        logger.info(
          {},
          'the state store accepts writes again: every call kept in memory is now in the outbox',
        );
      }
    }
    return true;
  };
  const enqueue = async (entry: NewOutboxEntry) => {
    try {
      if (unwritten.length === 0 || (await writeUnwritten())) return await writeEntry(entry);
    } catch (error) {
      unwritten.push(entry);
      if (unwritten.length > maxUnwritten) {
        const lost = unwritten.shift() as NewOutboxEntry;
        unwrittenDropped++;
        logger.error(
          { id: lost.id, adapter: lost.adapter, kind: lost.kind, dropped: unwrittenDropped },
          `the state store refuses writes and ${maxUnwritten} entries already wait in memory: the oldest is given up`,
        );
      }
      // once a minute at most: the store stays refused for as long as the disk is full
      const now = clock();
      if (now - lastStoreReport >= 60_000) {
        lastStoreReport = now;
        report(
          error,
          `the state store refused a write: kept in memory (${unwritten.length} waiting), written when the store accepts writes again`,
        );
      }
    }
  };

  // ---------------------------------------------------------------------------------------------
  // Screen pops and call handling
  let tracker = new CallTracker(trackerOptions);
  const popped = new Set<string>();
  const callerNames = new Map<string, string>();
  const pending = new Set<Promise<void>>();
  const track = (promise: Promise<void>) => {
    pending.add(promise);
    void promise.finally(() => pending.delete(promise));
  };

  const screenPop = async (call: Call, arrivedAt: number) => {
    const route = routeOf(call.token);
    if (!route) return;
    if (call.direction === 'internal' && policiesOf(route).internalCalls === 'skip') return;
    let matches: readonly ContactMatch[] = [];
    let winner: string | undefined;
    if (!call.remote.withheld) {
      for (const target of route.adapters) {
        if (target.lookup === false) continue;
        try {
          const found = await withTimeout(
            () => lookupCached(target, call.remote, 'screen-pop'),
            lookupTimeout,
            () =>
              new AdapterError('transient', `${target.name}: lookup took longer than ${lookupTimeout} ms`),
          );
          if (found.length > 0) {
            matches = found;
            winner = target.name;
            break;
          }
        } catch (error) {
          report(error, `caller lookup failed on ${target.name}; trying the next adapter`, target.name);
        }
      }
    }
    counters.screenPops++;
    const best = matches[0];
    emit('screen-pop', {
      token: call.token,
      call,
      matches,
      ...(winner !== undefined ? { adapter: winner } : {}),
      ...(best ? { url: best.url } : {}),
      latencyMs: performance.now() - arrivedAt,
    });
  };

  const journal = createSeenCallJournal(store.kv, tokenTag);
  const onCallEnded = async (call: Call) => {
    counters.calls++;
    popped.delete(call.id);
    emit('call', call);
    // A stray end (no start, no answer, and still none after the settle window): the only thing
    // known is that something ended. It is not logged — OVH's call records tell whether it was a
    // call (healing logs it then, with what the record knows) — and not journaled as seen, so
    // healing does not take it for the record's call.
    if (call.inferredReason?.includes(STRAY_END_REASON)) {
      counters.strayEnds++;
      logger.warn(
        { callId: call.id.slice(0, 64), line: call.line.e164 ?? call.line.raw },
        'an end event for a call never seen: not logged (healing from OVH call records logs it if OVH billed a call)',
      );
      return;
    }
    // what healing matches OVH's call records against (healed calls too: healing a window again
    // then finds them, and reports nothing missing)
    await journal.record(call).catch((error: unknown) => report(error, 'recording a seen call failed'));
    const route = routeOf(call.token);
    if (!route) return;
    const remoteName = callerNames.get(call.id);
    callerNames.delete(call.id);
    const record = toCallRecord(call, {
      lineLabels: lineLabelsOf(route),
      ...(remoteName !== undefined ? { remoteName } : {}),
    });
    const createdAt = clock();
    for (const target of route.adapters) {
      const policies = policiesOf(route, target);
      if (call.direction === 'internal' && policies.internalCalls === 'skip') continue;
      const ownerId = ownerOf(target, route, [
        call.line.e164,
        call.line.raw,
        ...agentKeys(call.queue?.agent, route),
      ]);
      const match = settledMatch(target, call.remote);
      const payload = encodePayload({
        call: record,
        ...(match !== undefined ? { match } : {}),
        ...(ownerId !== undefined ? { ownerId } : {}),
      });
      await enqueue({
        id: idempotencyKey(target.name, call.token, call.id, 'log-call'),
        adapter: target.name,
        kind: 'log-call',
        payload,
        createdAt,
      });
      const caps = target.adapter.capabilities;
      if (
        policies.missedCallFollowUp &&
        call.outcome === 'missed' &&
        call.direction === 'inbound' &&
        caps.followUpTask &&
        target.adapter.createFollowUpTask
      ) {
        await enqueue({
          id: idempotencyKey(target.name, call.token, call.id, 'follow-up'),
          adapter: target.name,
          kind: 'follow-up',
          payload,
          createdAt,
        });
      }
    }
  };

  const onSessionLeft = async (session: QueueSession) => {
    counters.queueSessions++;
    emit('queue-session', session);
    const route = routeOf(session.token);
    if (!route) return;
    const createdAt = clock();
    for (const target of route.adapters) {
      const policies = policiesOf(route, target);
      if (
        !policies.queueSessions ||
        !target.adapter.capabilities.queueSessions ||
        !target.adapter.logQueueSession
      ) {
        continue;
      }
      const ownerId = ownerOf(target, route, agentKeys(session.answeredBy, route));
      const match = session.caller ? settledMatch(target, session.caller) : null;
      await enqueue({
        id: idempotencyKey(target.name, session.token, session.memberUuid, 'queue-session'),
        adapter: target.name,
        kind: 'queue-session',
        payload: encodePayload({
          session,
          ...(match !== undefined ? { match } : {}),
          ...(ownerId !== undefined ? { ownerId } : {}),
        }),
        createdAt,
      });
    }
  };

  const handle = async (events: readonly CallEvent[], arrivedAt: number) => {
    for (const event of events) {
      emit('call-event', event);
      try {
        switch (event.type) {
          case 'call.ringing':
          case 'call.answered':
            if (!popped.has(event.call.id)) {
              popped.add(event.call.id);
              track(
                screenPop(event.call, arrivedAt).catch((error: unknown) =>
                  report(error, 'screen pop failed'),
                ),
              );
            }
            break;
          case 'call.ended':
            await onCallEnded(event.call);
            break;
          case 'queue.joined':
          case 'queue.answered':
            if (event.session.callId !== undefined && event.session.callerName !== undefined) {
              callerNames.set(event.session.callId, event.session.callerName);
            }
            break;
          case 'queue.left':
            await onSessionLeft(event.session);
            break;
          default:
            break;
        }
      } catch (error) {
        report(error, `handling ${event.type} failed`);
      }
    }
  };

  // ---------------------------------------------------------------------------------------------
  // Lifecycle
  let started = false;
  let stopping = false;
  let iterator: AsyncIterator<OvhEvent> | undefined;
  let consumed: Promise<void> = Promise.resolve();
  let timer: ReturnType<typeof setInterval> | undefined;
  let handling: Promise<void> = Promise.resolve();

  const consume = async () => {
    iterator = options.stream[Symbol.asyncIterator]();
    while (!stopping) {
      let next: IteratorResult<OvhEvent>;
      try {
        next = await iterator.next();
      } catch (error) {
        report(error, 'the event stream failed; no more events will be read');
        return;
      }
      if (next.done || stopping) return;
      const arrivedAt = performance.now();
      counters.events++;
      const out = tracker.push(next.value);
      snapshotSoon();
      if (out.length === 0) continue;
      handling = handle(out, arrivedAt);
      await handling;
    }
  };

  // A crash loses what the tracker learnt since its last snapshot (the stream's cursor has moved
  // on: OVH will not send those events again), so calls in flight are saved soon after they change.
  const snapshotDelayMs = options.snapshotDelayMs ?? 1_000;
  let snapshotDirty = false;
  let snapshotTimer: NodeJS.Timeout | undefined;
  const snapshotSoon = () => {
    snapshotDirty = true;
    if (snapshotTimer !== undefined || snapshotDelayMs <= 0 || stopping) return;
    snapshotTimer = setTimeout(() => {
      snapshotTimer = undefined;
      if (!snapshotDirty || stopping) return;
      snapshotDirty = false;
      void handling.then(saveSnapshot);
    }, snapshotDelayMs);
    snapshotTimer.unref?.();
  };

  const saveSnapshot = async () => {
    try {
      // A call the tracker has finished is in no snapshot: it is safe once its outbox entries are
      // written. Taken while they are being written, a snapshot would hold such a call nowhere (and
      // its inbox would let its events go): a crash then would lose it. Wait for a quiet moment.
      for (let writing = handling; ; writing = handling) {
        await writing;
        if (writing === handling) break;
      }
      // what the stream handed out until now is in this snapshot: once saved, its inbox lets it go
      const release = options.inbox?.checkpoint();
      await store.snapshots.save(snapshotKey, tracker.snapshot());
      await release?.();
    } catch (error) {
      report(error, 'saving the tracker snapshot failed');
    }
  };

  /** Finishes the calls whose settle window ended while no event came. */
  const settle = async (all = false) => {
    await handling;
    const out = all ? tracker.flush() : tracker.settle();
    if (out.length > 0) {
      handling = handle(out, performance.now());
      await handling;
    }
  };

  const tick = async () => {
    await handling;
    const out = tracker.tick();
    if (out.length > 0) {
      handling = handle(out, performance.now());
      await handling;
    }
    await saveSnapshot();
  };

  const connector: Connector = {
    on(event, listener) {
      let list = listeners[event] as Array<typeof listener> | undefined;
      if (!list) {
        list = [];
        (listeners as Record<string, unknown>)[event] = list;
      }
      list.push(listener);
      return () => {
        const index = list.indexOf(listener);
        if (index >= 0) list.splice(index, 1);
      };
    },
    async start() {
      if (started) return;
      started = true;
      const snapshot = await store.snapshots.load(snapshotKey);
      if (snapshot !== undefined) tracker = CallTracker.restore(snapshot, trackerOptions);
      for (const worker of workers.values()) worker.start();
      consumed = consume();
      if (housekeepingMs > 0) {
        timer = setInterval(() => {
          tick().catch((error: unknown) => report(error, 'housekeeping failed'));
        }, housekeepingMs);
        timer.unref?.();
      }
      if (settleMs > 0) {
        settleTimer = setInterval(
          () => {
            if (tracker.settling() > 0) settle().catch((error: unknown) => report(error, 'settling failed'));
          },
          Math.min(500, settleMs),
        );
        settleTimer.unref?.();
      }
      if (outboxPollMs > 0) {
        // Another process may have made entries due (`outbox retry`): idle workers look again.
        outboxPoll = setInterval(() => {
          for (const worker of workers.values()) worker.notify();
          if (unwritten.length > 0) writeUnwritten().catch(() => {});
        }, outboxPollMs);
        outboxPoll.unref?.();
      }
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      if (timer) clearInterval(timer);
      if (settleTimer) clearInterval(settleTimer);
      if (snapshotTimer) clearTimeout(snapshotTimer);
      if (outboxPoll) clearInterval(outboxPoll);
      // Never started: nothing ran, and an empty tracker must not overwrite a saved snapshot.
      if (!started) return;
      // Ask the stream to finish; do not wait for a long poll in flight.
      void Promise.resolve(iterator?.return?.()).catch(() => {});
      await handling;
      await Promise.all([...workers.values()].map((worker) => worker.stop()));
      await writeUnwritten().catch((error: unknown) => {
        logger.error(
          { err: errorSummary(error), ids: unwritten.map((entry) => entry.id) },
          `stopping with ${unwritten.length} outbox entries the state store refused: they are lost (free space on its disk)`,
        );
      });
      await saveSnapshot();
    },
    async drain() {
      if (!started) throw new Error('drain() needs a started connector: call start() first');
      await consumed;
      await handling;
      // the stream ended: no late event can come for the calls still settling
      await settle(true);
      for (;;) {
        if (unwritten.length > 0) {
          // the store refuses writes: look again shortly (the caller bounds how long it waits)
          const written = await writeUnwritten().catch(() => false);
          if (!written) {
            if (stopping) return;
            await new Promise((resolve) => setTimeout(resolve, 200));
            continue;
          }
        }
        await Promise.all([...pending]);
        await Promise.all([...workers.values()].map((worker) => worker.whenIdle()));
        // Only this connector's adapters: other targets may share the store (webhooks, other runners).
        let waiting = 0;
        for (const name of workers.keys()) waiting += (await store.outbox.counts(name)).pending;
        if (waiting === 0 && pending.size === 0 && unwritten.length === 0) return;
        if (stopping) return;
        for (const worker of workers.values()) worker.notify();
      }
    },
    tick,
    async adopt(key, tokens) {
      const wanted = new Set(tokens);
      const snapshot = await store.snapshots.load(key);
      await handling;
      const adopted = snapshot === undefined ? 0 : tracker.adopt(snapshot, (token) => wanted.has(token));
      // Saved before the tokens are polled: were this runner to die before its next periodic
      // snapshot, the runner after it (which reads this runner's snapshot) would miss these calls.
      if (adopted > 0) await saveSnapshot();
      return adopted;
    },
    async handOver(tokens, snapshotKeyOf, handOptions = {}) {
      await handling;
      if (handOptions.save !== false) {
        for (const token of tokens) {
          await store.snapshots.save(
            snapshotKeyOf(token),
            tracker.snapshot((t) => t === token),
          );
        }
      }
      const gone = new Set(tokens);
      tracker.forget((token) => gone.has(token));
    },
    async ingest(call) {
      if (call.state !== 'ended') throw new Error('ingest() takes ended calls');
      await handling;
      handling = handle([{ type: 'call.ended', call }], performance.now());
      await handling;
    },
    activeCalls: () => tracker.activeCalls(),
    outbox: {
      listDeadLetters: (filter = {}) => store.outbox.list({ ...filter, status: 'dead' }),
      async replayDeadLetters(filter = {}) {
        const count = await store.outbox.requeue({ ...filter, status: 'dead' }, clock());
        for (const worker of workers.values()) worker.notify();
        return count;
      },
      counts: (adapter) => store.outbox.counts(adapter),
    },
    stats(): ConnectorStats {
      return { ...counters, inFlight: tracker.inFlight(), unwritten: unwritten.length, unwrittenDropped };
    },
  };
  return connector;
}

function errorSummary(error: unknown): Record<string, unknown> {
  if (error instanceof AdapterError) return error.toJSON();
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { message: String(error) };
}
