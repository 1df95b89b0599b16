/** The state of one scenario under construction: resolved options, clock, event sequence, calls so far. */
import type { RawOvhEvent } from '../../ovh/types.js';
import { type ScenarioNumbers, scenarioNumbers } from './numbers.js';
import { prng, type Random } from './random.js';
import type { ScenarioCall, ScenarioOptions, ScenarioTiming } from './scenario.js';

const DEFAULT_TOKEN = 'B3C0A1E2-7F4D-4C1B-9A8E-5D6F7A8B9C0D';
const DEFAULT_START = Date.UTC(2026, 0, 5, 9, 0, 0);

/** One generated event with its time and generation number, for the delivery order. */
interface Entry {
  readonly at: number;
  readonly seq: number;
  readonly event: RawOvhEvent;
}

/** Where a call starts and how it moves the clock once its end is known. */
export interface CallStart {
  /** Call start, epoch milliseconds. */
  readonly t0: number;
  /** Moves the clock to one second past `endMs` when the call follows the clock; no-op with `startAt`. */
  readonly finish: (endMs: number) => void;
}

/** The mutable state every family of builder calls writes to. */
export class ScenarioState {
  readonly token: string;
  readonly startMs: number;
  readonly billingAccount: string;
  readonly random: Random;
  readonly numbers: ScenarioNumbers;
  /** The scenario clock, epoch milliseconds. */
  clock: number;
  /** How many events were generated so far (the next event's generation number). */
  seq = 0;
  private readonly entries: Entry[] = [];
  private readonly generated: ScenarioCall[] = [];

  constructor(options: ScenarioOptions) {
    this.token = options.token ?? DEFAULT_TOKEN;
    this.startMs = options.start?.getTime() ?? DEFAULT_START;
    this.billingAccount = options.billingAccount ?? '59415';
    this.random = prng(options.seed ?? 1);
    this.numbers = scenarioNumbers(options.defaultCountry ?? 'FR');
    this.clock = this.startMs;
  }

  /** Adds an event happening at `at` (epoch ms). */
  push(at: number, event: RawOvhEvent): void {
    this.entries.push({ at, seq: this.seq++, event });
  }

  /** Resolves the call start and, when it follows the clock, gives a `finish` moving the clock. */
  begin(timing: ScenarioTiming): CallStart {
    if (timing.startAt !== undefined) return { t0: this.startMs + timing.startAt * 1000, finish: () => {} };
    const t0 = this.clock;
    return {
      t0,
      finish: (endMs) => {
        this.clock = Math.max(this.clock, endMs + 1000);
      },
    };
  }

  /** Records a generated call; `before` is `seq` when the call began, to count its events. */
  record(call: Omit<ScenarioCall, 'eventCount'>, before: number): void {
    this.generated.push({ ...call, eventCount: this.seq - before });
  }

  /** Every event so far, in delivery order (by event time, then generation order). */
  events(): RawOvhEvent[] {
    return [...this.entries].sort((a, b) => a.at - b.at || a.seq - b.seq).map((entry) => entry.event);
  }

  /** Every call so far, a copy. */
  calls(): readonly ScenarioCall[] {
    return [...this.generated];
  }
}
