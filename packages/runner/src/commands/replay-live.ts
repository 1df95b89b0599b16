import { normalizeEvent, type OvhEvent } from '@cti-bridge/core';
import { loadConfig } from '../config/load.js';
import { EXIT, ExitError } from '../exit-codes.js';
import { createLogger } from '../ops/logger.js';
import { maskToken } from '../ops/secrets.js';
import {
  callToJson,
  describeCall,
  describeQueueSession,
  queueSessionToJson,
  readRecording,
} from '../replay-format.js';
import { startRunner } from '../runtime.js';
import type { ReplayOptions } from './replay.js';

/**
 * `cti-runner replay <file>` without `--dry-run`: the recorded events go through the config's
 * full pipeline (lookups, outbox, deliveries to the configured CRMs, on the configured store),
 * then the runner drains the outbox and stops.
 */
export async function replayThroughPipeline(
  options: ReplayOptions,
  out: (line: string) => void,
): Promise<number> {
  if (options.config === undefined) {
    throw new ExitError(
      EXIT.USAGE,
      'replay without --dry-run delivers to your CRMs: pass --config <file> (or use --dry-run)',
    );
  }
  const { path, config } = await loadConfig(options.config);
  const byMask = new Map(Object.keys(config.tokens).map((token) => [maskToken(token), token]));
  const unmask = (token: string) => (token.endsWith('…') ? (byMask.get(token) ?? token) : token);
  const logger = createLogger({ level: config.logging.level === 'info' ? 'warn' : config.logging.level });
  async function* events(): AsyncGenerator<OvhEvent> {
    for await (const item of readRecording(options.file)) {
      if ('error' in item) continue;
      const recorded =
        typeof item.raw.Token === 'string' && item.raw.Token !== '' ? item.raw.Token : options.token;
      // a recording masks tokens by default: the config's token with that mask is the one
      const token = unmask(recorded);
      const result = normalizeEvent(item.raw, { token, defaultCountry: options.defaultCountry });
      if (result.ok) yield result.event;
    }
  }
  const runner = await startRunner({ config, configPath: path, logger, events: events(), http: false });
  runner.connector.on('call', (call) =>
    out(options.format === 'json' ? JSON.stringify(callToJson(call)) : describeCall(call)),
  );
  runner.connector.on('queue-session', (session) =>
    out(
      options.format === 'json' ? JSON.stringify(queueSessionToJson(session)) : describeQueueSession(session),
    ),
  );
  await runner.sourceEnded;
  await runner.stop(60_000);
  return EXIT.OK;
}
