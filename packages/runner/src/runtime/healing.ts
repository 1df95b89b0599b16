import type { Connector, EventStream, Store } from '@cti-bridge/core';
import type { CtiConfig } from '../config/schema.js';
import { buildHealer, healingLines, startHealing } from '../healing.js';
import type { RunnerLogger } from '../ops/logger.js';

/**
 * Healing: calls the stream missed (downtime, outages, resets) are read from OVH's call records.
 * Started when polling and not turned off; a warning when lines are configured but it cannot run.
 */
export async function startRunnerHealing(
  config: CtiConfig,
  stream: EventStream | undefined,
  parts: {
    readonly store: Store;
    readonly connector: Connector;
    readonly logger: RunnerLogger;
    readonly clock: () => number;
  },
): Promise<{ stop(): void } | undefined> {
  const { store, connector, logger, clock } = parts;
  let healing: { stop(): void } | undefined;
  if (stream !== undefined && config.ovh.healing?.enabled !== false) {
    const healer = buildHealer(config, { store, connector, logger, clock });
    if (typeof healer !== 'string') {
      healing = await startHealing({ config, healer, store, stream, logger, clock });
    } else if (Object.keys(healingLines(config)).length > 0) {
      logger.warn({}, `healing from OVH call records is off: ${healer}`);
    }
  }
  return healing;
}
