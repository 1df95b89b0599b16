import { createHash } from 'node:crypto';
import type {
  CursorStore,
  KeyValueStore,
  OutboxEntry,
  OutboxStore,
  SnapshotStore,
  Store,
} from '@cti-bridge/core';

/**
 * What an OVH event token becomes at rest: `ovh-token:sha256:` and 16 hex digits of its SHA-256.
 * The token authenticates the OVH stream; the state file never needs it (the config has it), so it
 * keeps this reference instead, and the reference is turned back into the token when read.
 */
export function tokenReference(token: string): string {
  return `${REFERENCE_PREFIX}${createHash('sha256').update(token).digest('hex').slice(0, 16)}`;
}

const REFERENCE_PREFIX = 'ovh-token:sha256:';

/** True for a {@link tokenReference} (safe to print as it is). */
export function isTokenReference(text: string): boolean {
  return /^ovh-token:sha256:[0-9a-f]{16}$/.test(text);
}
const REFERENCE = /ovh-token:sha256:[0-9a-f]{16}/g;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A cursor store that can also forget a key (SQLite's: used to drop a pre-reference cursor row). */
type ForgettingCursorStore = CursorStore & { delete?(token: string): Promise<void> };

/** The configured tokens and their references, and the text and JSON rewriting both ways. */
interface TokenMapping {
  readonly referenceOf: ReadonlyMap<string, string>;
  /** Every configured token in `text` replaced by its reference. */
  hide(text: string): string;
  /** Every known reference in `text` replaced by its token. */
  reveal(text: string): string;
  /** `value` through its JSON text mapped by `map` (the same value when nothing changed). */
  mapJson<T>(value: T, map: (text: string) => string): T;
}

/** The {@link TokenMapping} of the configured tokens (at least one). */
function tokenMapping(tokens: readonly string[]): TokenMapping {
  const referenceOf = new Map(tokens.map((token) => [token, tokenReference(token)]));
  const tokenOf = new Map([...referenceOf].map(([token, reference]) => [reference, token]));
  const anyToken = new RegExp(
    [...referenceOf.keys()]
      .sort((a, b) => b.length - a.length)
      .map(escapeRegExp)
      .join('|'),
    'g',
  );

  const hide = (text: string): string => {
    anyToken.lastIndex = 0;
    return anyToken.test(text) ? text.replace(anyToken, (token) => referenceOf.get(token) ?? token) : text;
  };
  const reveal = (text: string): string =>
    text.includes(REFERENCE_PREFIX)
      ? text.replace(REFERENCE, (reference) => tokenOf.get(reference) ?? reference)
      : text;
  const mapJson = <T>(value: T, map: (text: string) => string): T => {
    if (value === undefined) return value;
    const text = JSON.stringify(value);
    const mapped = map(text);
    return mapped === text ? value : (JSON.parse(mapped) as T);
  };
  return { referenceOf, hide, reveal, mapJson };
}

/** Outbox payloads: tokens hidden on the way in, revealed on the way out. */
function safeOutbox(inner: OutboxStore, { hide, reveal, mapJson }: TokenMapping): OutboxStore {
  const revealEntry = (entry: OutboxEntry): OutboxEntry => {
    const payload = mapJson(entry.payload, reveal);
    return payload === entry.payload ? entry : { ...entry, payload };
  };
  return {
    enqueue: (entry) => inner.enqueue({ ...entry, payload: mapJson(entry.payload, hide) }),
    get: async (id) => {
      const entry = await inner.get(id);
      return entry && revealEntry(entry);
    },
    due: async (adapter, now, limit) => (await inner.due(adapter, now, limit)).map(revealEntry),
    nextDueAt: (adapter) => inner.nextDueAt(adapter),
    markDelivered: (id, result, now) => inner.markDelivered(id, result, now),
    markRetry: (id, error, next, now) => inner.markRetry(id, error, next, now),
    markDead: (id, error, now) => inner.markDead(id, error, now),
    list: async (filter) => (await inner.list(filter)).map(revealEntry),
    requeue: (filter, now) => inner.requeue(filter, now),
    purge: (filter) => inner.purge(filter),
    counts: (adapter) => inner.counts(adapter),
  };
}

/** Snapshot keys and values: tokens hidden (a snapshot saved before references is still read). */
function safeSnapshots(store: Store, { hide, reveal }: TokenMapping): SnapshotStore {
  return {
    save: (key, value) => store.snapshots.save(hide(key), hide(value)),
    load: async (key) => {
      const value = (await store.snapshots.load(hide(key))) ?? (await store.snapshots.load(key));
      return value === undefined ? undefined : reveal(value);
    },
  };
}

/** Cursors keyed by reference; an old cursor row keyed by its token is read, then moved. */
function safeCursors(innerCursors: ForgettingCursorStore, { referenceOf }: TokenMapping): CursorStore {
  const migrated = new Set<string>();
  return {
    get: async (token) => {
      const reference = referenceOf.get(token);
      if (reference === undefined) return innerCursors.get(token);
      return (await innerCursors.get(reference)) ?? (await innerCursors.get(token));
    },
    set: async (token, session) => {
      const reference = referenceOf.get(token);
      if (reference === undefined) return innerCursors.set(token, session);
      await innerCursors.set(reference, session);
      if (!migrated.has(token)) {
        migrated.add(token);
        await innerCursors.delete?.(token);
      }
    },
  };
}

/** Key-value entries: tokens hidden in namespaces, keys and values (old entries still read and deleted). */
function safeKv(store: Store, { hide, reveal }: TokenMapping): KeyValueStore {
  return {
    get: async (namespace, key, now) => {
      const [hiddenNamespace, hiddenKey] = [hide(namespace), hide(key)];
      const value =
        (await store.kv.get(hiddenNamespace, hiddenKey, now)) ??
        (hiddenNamespace === namespace && hiddenKey === key
          ? undefined
          : await store.kv.get(namespace, key, now));
      return value === undefined ? undefined : reveal(value);
    },
    set: (namespace, key, value, options) => store.kv.set(hide(namespace), hide(key), hide(value), options),
    delete: async (namespace, key) => {
      const [hiddenNamespace, hiddenKey] = [hide(namespace), hide(key)];
      await store.kv.delete(hiddenNamespace, hiddenKey);
      if (hiddenNamespace !== namespace || hiddenKey !== key) await store.kv.delete(namespace, key);
    },
  };
}

/**
 * Wraps a store so that the configured OVH event tokens never reach it in clear (issue: secrets at
 * rest). Stream cursors are keyed by {@link tokenReference}; tracker snapshots, outbox payloads and
 * key-value entries have every configured token replaced by its reference on the way in and put
 * back on the way out, so the pipeline sees exactly what it wrote. A state file written before this
 * (tokens in clear) is read as it is and rewritten with references as it changes; an old cursor row
 * is moved to its reference the first time its token polls.
 *
 * Everything else of the store (its kind, health, locks, leases) is reached through the prototype.
 * A reference whose token is no longer configured stays a reference.
 */
export function tokenSafeStore<S extends Store>(store: S, tokens: readonly string[]): S {
  if (tokens.length === 0) return store;
  const mapping = tokenMapping(tokens);
  return Object.assign(Object.create(store) as S, {
    outbox: safeOutbox(store.outbox, mapping),
    snapshots: safeSnapshots(store, mapping),
    cursors: safeCursors(store.cursors as ForgettingCursorStore, mapping),
    kv: safeKv(store, mapping),
  });
}
