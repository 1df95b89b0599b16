import type { AdapterCallPurpose, AdapterContext, ContactMatch } from '../adapter/contract.js';
import { AdapterError } from '../adapter/errors.js';
import type { PhoneNumber } from '../phone/index.js';
import { phoneKey } from './records.js';
import { withTimeout } from './timing.js';
import type { RouteAdapter } from './types.js';

interface CacheEntry {
  readonly promise: Promise<ContactMatch[]>;
  /** Infinite while the lookup is pending, then the cache time from when its answer arrived. */
  expiresAt: number;
  settled?: ContactMatch[];
  /** When the answer arrived (clock), once it did. */
  answeredAt?: number;
}

/** What a {@link LookupCache} needs. */
export interface LookupCacheOptions {
  readonly clock: () => number;
  /** How long an answer is reused, from when it arrived (ms). */
  readonly ttlMs: number;
  /** The context an adapter's lookups run with (its logger and state). */
  readonly contextOf: (adapter: string) => AdapterContext;
}

/** The first adapter of a route with a match for a caller (the screen pop's winner). */
export interface FirstMatch {
  readonly matches: readonly ContactMatch[];
  /** The adapter whose match it is; none when no adapter matched. */
  readonly adapter?: string;
}

/**
 * The connector's caller lookups: one promise per adapter and number, so concurrent lookups of one
 * number (a ring and its delivery) share one request; answers are reused for a short time.
 */
export interface LookupCache {
  /**
   * Looks a caller up on one adapter through the cache. An answer that arrived at or after `since`
   * serves whatever its age (it is news about that call). Rejects with the adapter's error.
   */
  lookup(
    target: RouteAdapter,
    phone: PhoneNumber,
    purpose: AdapterCallPurpose,
    since?: Date,
  ): Promise<ContactMatch[]>;
  /**
   * The best match of an answer already in the cache (and not expired): `null` for no match (or a
   * withheld number), `undefined` when no answer is known.
   */
  settledMatch(target: RouteAdapter, phone: PhoneNumber): ContactMatch | null | undefined;
  /**
   * Tries the adapters in order (those with `lookup: false` are skipped), each within `timeoutMs`;
   * the first with a match wins. A failing adapter is passed to `onError` and the next one is tried.
   */
  firstMatch(
    adapters: readonly RouteAdapter[],
    phone: PhoneNumber,
    timeoutMs: number,
    onError: (error: unknown, adapter: string) => void,
  ): Promise<FirstMatch>;
  /** Lookups sent to adapters, and lookups answered by the cache. */
  stats(): { readonly lookups: number; readonly hits: number };
}

/** Above this many entries, expired ones are swept before a new lookup is added. */
const SWEEP_ABOVE = 5_000;

/** Creates an empty {@link LookupCache}. */
export function createLookupCache(options: LookupCacheOptions): LookupCache {
  const { clock, ttlMs, contextOf } = options;
  const cache = new Map<string, CacheEntry>();
  let lookups = 0;
  let hits = 0;
  const lookup: LookupCache['lookup'] = (target, phone, purpose, since) => {
    const key = `${target.name}|${phoneKey(phone)}`;
    const now = clock();
    const hit = cache.get(key);
    const answeredSince =
      since !== undefined && hit?.answeredAt !== undefined && hit.answeredAt >= since.getTime();
    if (hit && (hit.expiresAt > now || answeredSince)) {
      hits++;
      return hit.promise;
    }
    if (cache.size > SWEEP_ABOVE) for (const [k, v] of cache) if (v.expiresAt <= now) cache.delete(k);
    lookups++;
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
        entry.expiresAt = clock() + ttlMs;
      },
      () => {
        if (cache.get(key) === entry) cache.delete(key);
      },
    );
    return promise;
  };
  return {
    lookup,
    settledMatch(target, phone) {
      if (phone.withheld) return null;
      const entry = cache.get(`${target.name}|${phoneKey(phone)}`);
      if (!entry?.settled || entry.expiresAt <= clock()) return undefined;
      return entry.settled[0] ?? null;
    },
    async firstMatch(adapters, phone, timeoutMs, onError) {
      for (const target of adapters) {
        if (target.lookup === false) continue;
        try {
          const found = await withTimeout(
            () => lookup(target, phone, 'screen-pop'),
            timeoutMs,
            () => new AdapterError('transient', `${target.name}: lookup took longer than ${timeoutMs} ms`),
          );
          if (found.length > 0) return { matches: found, adapter: target.name };
        } catch (error) {
          onError(error, target.name);
        }
      }
      return { matches: [] };
    },
    stats: () => ({ lookups, hits }),
  };
}
