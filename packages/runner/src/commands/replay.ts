import { type CallEvent, CallTracker, DEFAULT_SETTLE_MS, normalizeEvent } from '@cti-bridge/core';
import { EXIT, ExitError } from '../exit-codes.js';
import {
  callToJson,
  describeCall,
  describeQueueSession,
  queueSessionToJson,
  readRecording,
} from '../replay-format.js';

/** Options of `cti-runner replay`. */
export interface ReplayOptions {
  readonly file: string;
  readonly config?: string;
  readonly dryRun: boolean;
  readonly format: 'text' | 'json';
  /** Token for events that carry none. */
  readonly token: string;
  readonly defaultCountry: string;
}

/**
 * `cti-runner replay <file> --dry-run`: feeds recorded raw events through normalisation and the
 * CallTracker and prints each finished Call and QueueSession (one JSON object per line with
 * `--format json`). Without `--dry-run`, the events go through the config's full pipeline.
 */
export async function runReplay(options: ReplayOptions, out: (line: string) => void): Promise<number> {
  if (!options.dryRun) {
    const { replayThroughPipeline } = await import('./replay-live.js');
    return replayThroughPipeline(options, out);
  }
  let lastAt = 0;
  // time is the recording's own: a call settles until an event 3 s of recording time later (or the end)
  const tracker = new CallTracker({
    clock: () => lastAt,
    defaultCountry: options.defaultCountry,
    settleMs: DEFAULT_SETTLE_MS,
  });
  let invalid = 0;
  let events = 0;
  let calls = 0;
  let sessions = 0;
  const warn = (text: string) => process.stderr.write(`${text}\n`);
  const print = (domainEvents: readonly CallEvent[]) => {
    for (const domain of domainEvents) {
      if (domain.type === 'call.ended') {
        calls++;
        out(options.format === 'json' ? JSON.stringify(callToJson(domain.call)) : describeCall(domain.call));
      } else if (domain.type === 'queue.left') {
        sessions++;
        out(
          options.format === 'json'
            ? JSON.stringify(queueSessionToJson(domain.session))
            : describeQueueSession(domain.session),
        );
      }
    }
  };
  try {
    for await (const item of readRecording(options.file)) {
      if ('error' in item) {
        invalid++;
        warn(`line ${item.line}: ${item.error}`);
        continue;
      }
      const token =
        typeof item.raw.Token === 'string' && item.raw.Token !== '' ? item.raw.Token : options.token;
      const result = normalizeEvent(item.raw, { token, defaultCountry: options.defaultCountry });
      if (!result.ok) {
        invalid++;
        warn(`line ${item.line}: ${result.error}`);
        continue;
      }
      events++;
      lastAt = Math.max(lastAt, result.event.at.getTime());
      print(tracker.push(result.event));
    }
    print(tracker.flush());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ExitError(EXIT.USAGE, `recording not found: ${options.file}`);
    }
    throw error;
  }
  const inFlight = tracker.inFlight();
  const summary = `${events} events, ${calls} calls, ${sessions} queue sessions, ${invalid} invalid, still in flight: ${inFlight.calls} calls, ${inFlight.queueSessions} queue sessions`;
  if (options.format === 'json') warn(summary);
  else out(`\n${summary}`);
  return EXIT.OK;
}
