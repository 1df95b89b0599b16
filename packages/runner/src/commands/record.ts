import { createWriteStream } from 'node:fs';
import { createEventStream } from '@cti-bridge/core';
import { loadConfig } from '../config/load.js';
import { EXIT, ExitError } from '../exit-codes.js';
import { createLogger } from '../ops/logger.js';
import { maskToken } from '../ops/secrets.js';

/** Options of `cti-runner record`. */
export interface RecordOptions {
  readonly file: string;
  readonly config?: string;
  readonly token?: string[];
  /** Write tokens in full instead of masked. */
  readonly keepTokens?: boolean;
  readonly baseUrl?: string;
  readonly maxEvents?: string;
}

/**
 * `cti-runner record <file>`: polls the tokens and appends each valid, de-duplicated OVH event in
 * its raw form (one JSON object per line, `Timestamp` as the stream read it: a number, to within
 * 256 ns) to the file, until
 * SIGINT/SIGTERM or `--max-events`. The file feeds `cti-runner replay`.
 */
export async function runRecord(options: RecordOptions, out: (line: string) => void): Promise<number> {
  let tokens = options.token ?? [];
  let baseUrl = options.baseUrl;
  // The config fills in what the options leave out (read only when needed or named).
  if (tokens.length === 0 || (baseUrl === undefined && options.config !== undefined)) {
    const { config } = await loadConfig(options.config);
    if (tokens.length === 0) tokens = Object.keys(config.tokens);
    baseUrl ??= config.ovh.baseUrl;
  }
  if (tokens.length === 0)
    throw new ExitError(EXIT.USAGE, 'no token to record: pass --token <token> or a config');
  const max = options.maxEvents === undefined ? Number.POSITIVE_INFINITY : Number(options.maxEvents);
  if (!(max > 0))
    throw new ExitError(EXIT.USAGE, `--max-events: expected a positive integer, got '${options.maxEvents}'`);

  const logger = createLogger({ level: 'warn' });
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const stream = createEventStream({
    tokens,
    ...(baseUrl === undefined ? {} : { baseUrl }),
    logger,
    signal: controller.signal,
  });
  const file = createWriteStream(options.file, { flags: 'a' });
  out(`Recording ${tokens.map(maskToken).join(', ')} to ${options.file} — Ctrl+C to stop.`);
  out(
    options.keepTokens
      ? 'OVH event tokens are written in full (--keep-tokens): keep this file as safe as the tokens.'
      : 'OVH event tokens are masked in the file (replay matches them to the config); --keep-tokens writes them in full.',
  );
  let count = 0;
  try {
    for await (const event of stream) {
      const raw =
        options.keepTokens || typeof event.raw.Token !== 'string'
          ? event.raw
          : { ...event.raw, Token: maskToken(event.raw.Token) };
      file.write(
        `${JSON.stringify(raw, (_key, value) => (typeof value === 'bigint' ? value.toString() : value))}\n`,
      );
      count++;
      if (count >= max) break;
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await stream.close();
    await new Promise<void>((resolve) => file.end(() => resolve()));
  }
  out(`${count} event(s) recorded.`);
  return EXIT.OK;
}
