import { maskToken } from '../adapter-kit/redact.js';
import type { Logger } from '../logger.js';
import type { TokenStats } from './event-stream.js';
import type { StreamListeners } from './stream-listeners.js';

/** What {@link startSilenceWatchdog} needs. */
export interface SilenceWatchdogOptions {
  /** A token with no event for this long is reported silent; 0 disables the watchdog. */
  readonly watchdogMs: number;
  readonly now: () => number;
  /** When the stream started: the "last event" of a token that never had one. */
  readonly startedAt: number;
  /** The live counters of every token (their `silent` flag is set here). */
  readonly stats: ReadonlyMap<string, TokenStats>;
  readonly logger: Logger;
  readonly listeners: StreamListeners;
}

/**
 * Checks every token now and then and reports, once until its next event, a token silent for
 * `watchdogMs`. Returns the (unref'd) interval timer to clear, or nothing when disabled.
 */
export function startSilenceWatchdog(options: SilenceWatchdogOptions): NodeJS.Timeout | undefined {
  const { watchdogMs, now, startedAt, stats, logger, listeners } = options;
  if (!(watchdogMs > 0)) return undefined;
  const watchdog = setInterval(
    () => {
      const t = now();
      for (const [token, s] of stats) {
        const since = s.lastEventAt ?? startedAt;
        if (!s.silent && t - since >= watchdogMs) {
          s.silent = true;
          logger.warn(
            { token: maskToken(token), silentForMs: t - since },
            'no event from this token for a while: check that it still exists (OVH API) and that the line has traffic',
          );
          listeners.emit('silent', {
            token,
            silentForMs: t - since,
            ...(s.lastEventAt !== undefined ? { lastEventAt: s.lastEventAt } : {}),
          });
        }
      }
    },
    Math.max(10, Math.min(30_000, Math.floor(watchdogMs / 2))),
  );
  watchdog.unref();
  return watchdog;
}
