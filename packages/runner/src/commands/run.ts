import { loadConfig } from '../config/load.js';
import { EXIT } from '../exit-codes.js';
import { createLogger } from '../ops/logger.js';
import { maskToken } from '../ops/secrets.js';
import { settleMemory } from '../ops/settle-memory.js';

/** Start-up is over (every token's first poll is out) well within this after `startRunner`. */
const SETTLE_AFTER_MS = 2000;

/** Options of `cti-runner run`. */
export interface RunOptions {
  readonly config?: string | undefined;
  /** Bounded shutdown: how long SIGINT/SIGTERM waits for in-flight deliveries (ms). */
  readonly shutdownTimeoutMs: number;
}

/**
 * `cti-runner run`: starts everything and runs until SIGINT or SIGTERM, then stops gracefully
 * (stop polling, finish or persist in-flight deliveries) within the shutdown timeout. A second
 * signal exits at once (pending work is already durable in the store).
 */
export async function runCommand(options: RunOptions): Promise<number> {
  // Load the engine while the config file is transpiled: start-up is most of what a restart costs.
  const [{ path, config }, { startRunner }] = await Promise.all([
    loadConfig(options.config),
    import('../runtime.js'),
  ]);
  const logger = createLogger({
    level: config.logging.level,
    ...(config.logging.pretty === undefined ? {} : { pretty: config.logging.pretty }),
  });
  const runner = await startRunner({ config, configPath: path, logger });
  let settle: NodeJS.Timeout | undefined;
  const timeoutMs = Number.isFinite(options.shutdownTimeoutMs) ? options.shutdownTimeoutMs : 10_000;
  // Listening before 'cti-runner started' is said: a SIGTERM right after it stops cleanly (without a
  // handler the signal would kill the process).
  const stopRequested = new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        logger.warn({ signal }, 'second signal: exiting now (pending deliveries are kept in the store)');
        process.exit(EXIT.RUNTIME);
      }
      logger.info({ signal, timeoutMs }, 'shutting down');
      clearTimeout(settle);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  logger.info(
    {
      config: path,
      tokens: Object.keys(config.tokens).map(maskToken),
      adapters: [...runner.adapters.keys()],
      store: config.store.kind,
    },
    'cti-runner started',
  );
  settle = setTimeout(() => {
    const before = process.memoryUsage.rss();
    void settleMemory().then((settled) => {
      if (settled) {
        const mb = (bytes: number) => Math.round(bytes / 1_048_576);
        logger.debug(
          { beforeMb: mb(before), afterMb: mb(process.memoryUsage.rss()) },
          'start-up memory released',
        );
      }
    });
  }, SETTLE_AFTER_MS);
  settle.unref();
  await stopRequested;
  // Hard bound on shutdown, whatever hangs.
  const guard = setTimeout(() => {
    logger.error({}, 'shutdown took too long: exiting');
    process.exit(EXIT.RUNTIME);
  }, timeoutMs + 5000);
  guard.unref();
  await runner.stop(timeoutMs);
  logger.info({}, 'cti-runner stopped');
  logger.flush();
  return EXIT.OK;
}
