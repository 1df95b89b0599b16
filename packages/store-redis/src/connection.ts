import { Redis, type RedisOptions } from 'ioredis';

/** The lowest Redis server version the store supports (ZRANGE … BYSCORE, GETDEL, Lua scripts). */
export const MIN_REDIS_VERSION = '6.2.0';

/** A Redis URL with its password (and user) replaced by `***`, fit for logs and errors. */
export function maskRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    if (parsed.username && parsed.password) parsed.username = '***';
    return parsed.toString();
  } catch {
    return '<unparsable Redis URL>';
  }
}

/** Options of {@link connectRedis}. */
export interface ConnectOptions {
  readonly url: string;
  /** Give up the first connection after this long (default 5 s). */
  readonly connectTimeoutMs?: number;
  /** Called with connection errors after the first connection (ioredis reconnects by itself). */
  readonly onError?: (error: Error) => void;
  /**
   * Extra ioredis options (tests, TLS). Not `replyMapping`: the store reads replies in ioredis's
   * default (`legacy`) shapes.
   */
  readonly redisOptions?: Omit<RedisOptions, 'replyMapping'>;
}

/**
 * Opens an ioredis connection and waits until it answers. A server that cannot be reached is an
 * Error naming the URL (password masked) and what to check. After the first connection ioredis
 * reconnects by itself; a command issued while disconnected fails after a few retries instead of
 * waiting forever.
 */
export async function connectRedis(options: ConnectOptions): Promise<Redis> {
  const timeout = options.connectTimeoutMs ?? 5_000;
  let connected = false;
  const client = new Redis(options.url, {
    lazyConnect: true,
    connectTimeout: timeout,
    maxRetriesPerRequest: 3,
    // Before the first connection: fail fast; afterwards: reconnect with a capped backoff.
    retryStrategy: (times) => (connected ? Math.min(times * 200, 2_000) : null),
    ...options.redisOptions,
  });
  let lastError: Error | undefined;
  client.on('error', (error: Error) => {
    lastError = error;
    if (connected) options.onError?.(error);
  });
  try {
    await client.connect();
    await client.ping();
    connected = true;
  } catch (error) {
    client.disconnect();
    const reason =
      (error instanceof Error ? error.message : String(error)) || lastError?.message || 'no answer';
    throw new Error(
      `Redis at ${maskRedisUrl(options.url)} cannot be reached (${reason}). Check that redis-server runs and the store's url (host, port, password) is right.`,
      { cause: error },
    );
  }
  return client;
}

/** The server's version (`redis_version` of INFO server). */
export async function redisServerVersion(client: Redis): Promise<string> {
  const info = await client.info('server');
  const match = /^redis_version:(\S+)/m.exec(info);
  if (!match?.[1]) throw new Error('Redis INFO did not report redis_version');
  return match[1];
}

/** True when `version` (x.y.z) is at least `minimum`. */
export function versionAtLeast(version: string, minimum: string = MIN_REDIS_VERSION): boolean {
  const parse = (v: string) => v.split('.').map((part) => Number.parseInt(part, 10) || 0);
  const a = parse(version);
  const b = parse(minimum);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}
