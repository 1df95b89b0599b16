import { createHash } from 'node:crypto';

/**
 * Every Redis key the store and the leases use, under one prefix. A namespace and a key are joined
 * with the namespace's length first, so `a:b`/`c` and `a`/`b:c` never collide.
 */
export interface RedisKeys {
  readonly prefix: string;
  /** Hash of one outbox entry. */
  entry(id: string): string;
  /** Prefix of entry hashes (the Lua scripts append the id). */
  readonly entryPrefix: string;
  /** ZSET of an adapter's pending entries, scored by `nextAttemptAt`. */
  due(adapter: string): string;
  /** ZSET of every entry, scored by `createdAt`. */
  readonly all: string;
  /** ZSET of the entries in one status, scored by `createdAt`. */
  status(status: string): string;
  /** Hash of counters `status|adapter`. */
  readonly counts: string;
  snapshot(key: string): string;
  cursor(token: string): string;
  kv(namespace: string, key: string): string;
  /** ZSET of live runners, scored by heartbeat expiry; hash of their details. */
  readonly runners: string;
  readonly runnerInfo: string;
  /** Hash of token leases (`tokenId` → JSON lease) and the fencing counter. */
  readonly leases: string;
  readonly fence: string;
  /** Hash of a token's kept stream answers (`id` → JSON events), and the list of those kept late. */
  inbox(token: string): string;
  inboxLate(token: string): string;
}

/**
 * A stable, non-secret id for an OVH token: the first 24 hex digits of its SHA-256. Tokens are
 * secrets, so they never appear in a Redis key, a lease or a metric label.
 */
export function tokenId(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 24);
}

/** The keys under `prefix` (no trailing colon needed). */
export function redisKeys(prefix: string): RedisKeys {
  const p = prefix.endsWith(':') ? prefix.slice(0, -1) : prefix;
  const joined = (namespace: string, key: string) => `${namespace.length}:${namespace}:${key}`;
  return {
    prefix: p,
    entry: (id) => `${p}:ob:e:${id}`,
    entryPrefix: `${p}:ob:e:`,
    due: (adapter) => `${p}:ob:due:${adapter}`,
    all: `${p}:ob:all`,
    status: (status) => `${p}:ob:st:${status}`,
    counts: `${p}:ob:counts`,
    snapshot: (key) => `${p}:snap:${key}`,
    cursor: (token) => `${p}:cursor:${tokenId(token)}`,
    kv: (namespace, key) => `${p}:kv:${joined(namespace, key)}`,
    runners: `${p}:cluster:runners`,
    runnerInfo: `${p}:cluster:runner-info`,
    leases: `${p}:cluster:leases`,
    fence: `${p}:cluster:fence`,
    inbox: (token) => `${p}:inbox:${tokenId(token)}`,
    inboxLate: (token) => `${p}:inbox-late:${tokenId(token)}`,
  };
}
