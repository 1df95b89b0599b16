import { createRequire } from 'node:module';
import type { Logger } from '@cti-bridge/core';
import { type DestinationStream, type LevelWithSilent, pino } from 'pino';
import type { PrettyOptions } from 'pino-pretty';
import { scrubSecrets } from './secrets.js';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  readonly level?: LevelWithSilent;
  /** Human-readable output (default: when stdout is a TTY). */
  readonly pretty?: boolean;
  /** Where to write (default stdout). For tests. */
  readonly destination?: DestinationStream;
}

/**
 * Object keys whose values are never printed, at any depth up to two levels down. Not `token`:
 * the runner logs OVH tokens masked under that key (`1738D072…`), and a raw token is scrubbed from
 * the text anyway (each is a registered secret).
 */
export const REDACTED_KEYS = [
  'password',
  'secret',
  'accessToken',
  'refreshToken',
  'apiKey',
  'clientSecret',
  'applicationSecret',
  'consumerKey',
  'authorization',
  'Authorization',
  'cookie',
];

const REDACT_PATHS = REDACTED_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]).concat([
  'headers.authorization',
  'req.headers.authorization',
]);

/** The runner's pino logger, as core's {@link Logger}, plus `flush`. */
export type RunnerLogger = Logger & { flush(): void; level: string };

/** pino-pretty, loaded only for a terminal: a service logging JSON lines never needs it. */
function prettyStream(options: PrettyOptions): DestinationStream {
  const pretty = createRequire(import.meta.url)('pino-pretty') as (
    options: PrettyOptions,
  ) => DestinationStream;
  return pretty(options);
}

/**
 * Creates the runner's logger: pino JSON lines (pretty in a terminal), with secret keys redacted
 * by path and every registered secret value scrubbed from the line before it is written.
 */
export function createLogger(options: LoggerOptions = {}): RunnerLogger {
  const usePretty = options.pretty ?? process.stdout.isTTY === true;
  const destination =
    options.destination ??
    (usePretty
      ? prettyStream({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' })
      : undefined);
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: null,
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      hooks: {
        streamWrite: (line: string) => scrubSecrets(line),
      },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
  return logger as unknown as RunnerLogger;
}
