import type {
  ActivityRef,
  AdapterContext,
  CallRecord,
  ContactMatch,
  LogCallItem,
} from '../adapter/contract.js';
import { AdapterError, toAdapterError } from '../adapter/errors.js';
import type { OutboxEntry, Store } from '../store/types.js';
import { type DecodedPayload, decodePayload } from './records.js';
import { backoffDelay, Semaphore, type Sleep, TokenBucket, withTimeout } from './timing.js';
import type { DeliveryOptions, Policies, RouteAdapter } from './types.js';

/** The defaults of delivery options (defined with their schema in `config/schemas.ts`). */
export { DEFAULT_DELIVERY } from '../config/schemas.js';

/** What a worker needs from its connector. */
export interface DeliveryWorkerDeps {
  readonly target: RouteAdapter;
  readonly options: DeliveryOptions;
  readonly store: Store;
  readonly context: AdapterContext;
  readonly clock: () => number;
  readonly sleep: Sleep;
  readonly random: () => number;
  /**
   * Caller lookup through the connector's cache; throws AdapterError on failure. An answer that
   * arrived at or after `since` (the call's start) serves whatever its age: it is news about this
   * call, so a delivery that lags behind (a CRM queue, an outage) does not ask the CRM again.
   */
  readonly lookup: (phone: CallRecord['remote'], since?: Date) => Promise<ContactMatch[]>;
  /** The unknown-caller policy of an entry (it depends on the entry's token). */
  readonly unknownCallerPolicy: (token: string) => Policies['unknownCaller'];
  readonly onDelivered: (entry: OutboxEntry, result: ActivityRef | { skipped: string }) => void;
  readonly onRetry: (entry: OutboxEntry, error: AdapterError, delayMs: number) => void;
  readonly onDead: (entry: OutboxEntry, error: AdapterError) => void;
  /** Deliveries paused after an auth failure, until the given time. */
  readonly onPaused?: (error: AdapterError, until: number) => void;
  readonly onError: (error: unknown, context: string) => void;
  /**
   * Delivers a `webhook` entry (its payload as enqueued); throws an AdapterError to retry or give
   * up. Workers without it refuse such entries as invalid.
   */
  readonly send?: (entry: OutboxEntry, ctx: AdapterContext) => Promise<ActivityRef>;
}

type Outcome = { ok: true; result: ActivityRef | { skipped: string } } | { ok: false; error: AdapterError };

/**
 * Delivers one adapter's outbox entries: due entries oldest first, per-adapter concurrency and
 * token-bucket rate limit, batches through `logCalls` when the adapter has `batchLogCall`, bounded
 * retries with exponential backoff and full jitter, `Retry-After` honoured (it also pauses the whole
 * adapter), dead letters after `maxAttempts` or on a non-retryable error.
 */
export class DeliveryWorker {
  readonly #d: DeliveryWorkerDeps;
  readonly #semaphore: Semaphore;
  readonly #bucket: TokenBucket;
  readonly #abort = new AbortController();
  #wake: () => void = () => {};
  #idleWaiters: Array<() => void> = [];
  #pausedUntil = 0;
  /** Consecutive auth failures: the pause doubles with each (see DeliveryOptions.authRetryMs). */
  #authFailures = 0;
  /** Outbox reads failing in a row. */
  #storeFailures = 0;
  #running: Promise<void> | undefined;
  #idle = false;
  /** Set by notify() and by finishing deliveries: look at the outbox again. */
  #dirty = false;
  /** Deliveries in flight (one promise per entry or batch) and their entry ids. */
  readonly #groups = new Set<Promise<void>>();
  readonly #inFlight = new Set<string>();

  constructor(deps: DeliveryWorkerDeps) {
    this.#d = deps;
    this.#semaphore = new Semaphore(deps.options.concurrency);
    this.#bucket = new TokenBucket(deps.options.ratePerSecond, deps.options.burst, deps.clock);
  }

  get name(): string {
    return this.#d.target.name;
  }

  /** Starts the loop (idempotent). */
  start(): void {
    this.#running ??= this.#loop().catch((error: unknown) => this.#d.onError(error, 'delivery loop stopped'));
  }

  /** New entries may be due: look now. */
  notify(): void {
    this.#idle = false;
    this.#dirty = true;
    this.#wake();
  }

  /** Resolves when nothing is pending for this adapter (everything delivered or dead). */
  whenIdle(): Promise<void> {
    if (this.#idle) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops after the operations in flight. */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.#wake();
    await this.#running;
    this.#releaseIdle();
  }

  #releaseIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  async #waitForWake(ms: number | undefined): Promise<void> {
    const signal = this.#abort.signal;
    if (signal.aborted || this.#dirty) return;
    const woken = new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
    // A wait of its own, linked to the worker's signal and released afterwards, so that waking up
    // early leaves no timer or listener behind.
    const local = new AbortController();
    const onAbort = () => local.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const waits: Promise<void>[] = [
      woken,
      new Promise<void>((resolve) => local.signal.addEventListener('abort', () => resolve(), { once: true })),
    ];
    if (ms !== undefined) waits.push(this.#d.sleep(Math.max(0, ms), local.signal));
    await Promise.race(waits);
    signal.removeEventListener('abort', onAbort);
    local.abort();
    this.#wake = () => {};
  }

  async #loop(): Promise<void> {
    const { store, clock, options, target } = this.#d;
    const signal = this.#abort.signal;
    const concurrency = Math.max(1, options.concurrency);
    while (!signal.aborted) {
      const now = clock();
      if (this.#pausedUntil > now) {
        await this.#d.sleep(this.#pausedUntil - now, signal);
        continue;
      }
      this.#dirty = false;
      const free = concurrency - this.#groups.size;
      if (free <= 0) {
        // Every slot is busy: a finishing delivery wakes the loop.
        await this.#waitForWake(undefined);
        continue;
      }
      const batchSize = this.#batchSize();
      const due = await this.#read(() =>
        store.outbox.due(target.name, now, free * batchSize + this.#inFlight.size),
      );
      if (due === undefined) continue;
      const fresh = due.filter((entry) => !this.#inFlight.has(entry.id)).slice(0, free * batchSize);
      if (fresh.length === 0) {
        if (this.#groups.size > 0) {
          await this.#waitForWake(undefined);
          continue;
        }
        const next = await this.#read(() => store.outbox.nextDueAt(target.name), null);
        if (next === null) continue;
        if (next === undefined) {
          if (this.#dirty) continue;
          this.#idle = true;
          this.#releaseIdle();
          await this.#waitForWake(undefined);
        } else {
          await this.#waitForWake(next - clock());
        }
        continue;
      }
      this.#idle = false;
      for (const group of this.#plan(fresh, batchSize).slice(0, free)) {
        for (const entry of group) this.#inFlight.add(entry.id);
        const running: Promise<void> = this.#run(group).finally(() => {
          for (const entry of group) this.#inFlight.delete(entry.id);
          this.#groups.delete(running);
          this.#dirty = true;
          this.#wake();
        });
        this.#groups.add(running);
      }
    }
    await Promise.all([...this.#groups]);
  }

  /**
   * Reads the outbox; when the store fails (a damaged page, a vanished disk), reports it (the 1st,
   * then every 10th time), waits (backing off up to 30 s) and returns `failed`: the loop goes on
   * and delivers again once the store answers.
   */
  async #read<T, F = undefined>(read: () => Promise<T>, failed?: F): Promise<T | F> {
    try {
      const value = await read();
      this.#storeFailures = 0;
      return value;
    } catch (error) {
      this.#storeFailures++;
      if (this.#storeFailures % 10 === 1) {
        this.#d.onError(
          error,
          `reading the outbox failed (${this.#storeFailures} time(s) in a row); deliveries resume when the store answers`,
        );
      }
      const waitMs = Math.min(30_000, 250 * 2 ** Math.min(this.#storeFailures, 7));
      await this.#d.sleep(waitMs, this.#abort.signal);
      return failed as F;
    }
  }

  #batchSize(): number {
    const { adapter } = this.#d.target;
    return adapter.capabilities.batchLogCall && adapter.logCalls ? Math.max(1, this.#d.options.batchSize) : 1;
  }

  /** Groups log-call entries into batches when the adapter batches; everything else alone. */
  #plan(entries: readonly OutboxEntry[], batchSize: number): OutboxEntry[][] {
    if (batchSize <= 1) return entries.map((entry) => [entry]);
    const groups: OutboxEntry[][] = [];
    let batch: OutboxEntry[] = [];
    for (const entry of entries) {
      if (entry.kind !== 'log-call') {
        groups.push([entry]);
        continue;
      }
      batch.push(entry);
      if (batch.length >= batchSize) {
        groups.push(batch);
        batch = [];
      }
    }
    if (batch.length > 0) groups.push(batch);
    return groups;
  }

  async #run(group: OutboxEntry[]): Promise<void> {
    const release = await this.#semaphore.acquire();
    try {
      const wait = this.#bucket.take();
      if (wait > 0) await this.#d.sleep(wait);
      if (group.length === 1 && group[0]) await this.#settle(group[0], await this.#deliverOne(group[0]));
      else await this.#deliverBatch(group);
    } catch (error) {
      this.#d.onError(error, 'delivery bookkeeping failed');
    } finally {
      release();
    }
  }

  /** Calls the adapter with the per-operation time limit. */
  #call<T>(operation: string, run: (ctx: AdapterContext) => Promise<T>): Promise<T> {
    const { timeoutMs } = this.#d.options;
    return withTimeout(
      (signal) => run({ ...this.#d.context, signal }),
      timeoutMs,
      () =>
        new AdapterError(
          'transient',
          `${this.name}: ${operation} did not answer within ${timeoutMs} ms; will retry`,
        ),
      {
        // stopping does not wait for a CRM that hangs: the entry stays pending for the next start
        signal: this.#abort.signal,
        onAbort: () =>
          new AdapterError('transient', `${this.name}: ${operation} cancelled by shutdown; kept pending`),
      },
      // the entry stays in flight until the timed-out attempt has really ended: no retry beside it
      timeoutMs,
    );
  }

  /** The record to attach a call to: from the payload, else a (cached) lookup. */
  async #matchOf(call: CallRecord, payload: DecodedPayload): Promise<ContactMatch | undefined> {
    if (payload.match !== undefined) return payload.match ?? undefined;
    if (call.remote.withheld || this.#d.target.lookup === false) return undefined;
    const matches = await this.#call('lookup', () => this.#d.lookup(call.remote, call.startedAt));
    return matches[0];
  }

  /** Resolves everything a log-call entry needs before writing; undefined match = unknown caller. */
  async #prepareCall(
    entry: OutboxEntry,
    payload: DecodedPayload,
  ): Promise<{ skip: true } | { skip: false; call: CallRecord; match?: ContactMatch }> {
    const call = payload.call;
    if (!call) throw new AdapterError('invalid', `outbox entry ${entry.id} has no call`);
    const match = await this.#matchOf(call, payload);
    if (match) return { skip: false, call, match };
    // An adapter that never looks callers up cannot tell an unknown caller: it just logs.
    if (this.#d.target.lookup === false) return { skip: false, call };
    const policy = this.#d.unknownCallerPolicy(call.token);
    if (policy === 'skip') return { skip: true };
    const { adapter } = this.#d.target;
    if (
      policy === 'create-contact' &&
      adapter.capabilities.createContact &&
      adapter.createContact &&
      !call.remote.withheld
    ) {
      const create = adapter.createContact.bind(adapter);
      const created = await this.#call('createContact', (ctx) =>
        create(
          { phone: call.remote, name: call.remoteName, ownerId: payload.ownerId },
          { ...ctx, idempotencyKey: `${entry.id}:contact` },
        ),
      );
      return { skip: false, call, match: created };
    }
    return { skip: false, call };
  }

  async #deliverOne(entry: OutboxEntry): Promise<Outcome> {
    const { adapter } = this.#d.target;
    try {
      if (entry.kind === 'webhook') {
        // a prepared request: its payload is the sender's own, not a call record
        const send = this.#d.send;
        if (!send) throw new AdapterError('invalid', `${this.name} cannot deliver webhook entries`);
        return { ok: true, result: await this.#call('send', (ctx) => send(entry, ctx)) };
      }
      const payload = decodeOrInvalid(entry);
      const { ownerId } = payload;
      switch (entry.kind) {
        case 'log-call': {
          const prepared = await this.#prepareCall(entry, payload);
          if (prepared.skip) return { ok: true, result: { skipped: 'unknown caller (policy skip)' } };
          const { call, match } = prepared;
          const ref = await this.#call('logCall', (ctx) =>
            adapter.logCall(call, { ...ctx, idempotencyKey: entry.id, match, ownerId }),
          );
          return { ok: true, result: ref };
        }
        case 'follow-up': {
          const call = payload.call;
          const createTask = adapter.createFollowUpTask?.bind(adapter);
          if (!call || !createTask)
            throw new AdapterError('invalid', `${this.name} cannot create follow-up tasks`);
          const match = await this.#matchOf(call, payload);
          const ref = await this.#call('createFollowUpTask', (ctx) =>
            createTask(call, { ...ctx, idempotencyKey: entry.id, match, ownerId }),
          );
          return { ok: true, result: ref };
        }
        case 'queue-session': {
          const session = payload.session;
          const logSession = adapter.logQueueSession?.bind(adapter);
          if (!session || !logSession)
            throw new AdapterError('invalid', `${this.name} cannot log queue sessions`);
          let match: ContactMatch | undefined;
          if (payload.match) match = payload.match;
          else if (session.caller && !session.caller.withheld && this.#d.target.lookup !== false) {
            const caller = session.caller;
            match = (await this.#call('lookup', () => this.#d.lookup(caller, session.joinedAt)))[0];
          }
          const ref = await this.#call('logQueueSession', (ctx) =>
            logSession(session, { ...ctx, idempotencyKey: entry.id, match, ownerId }),
          );
          return { ok: true, result: ref };
        }
        default:
          throw new AdapterError('invalid', `unknown outbox entry kind "${entry.kind}"`);
      }
    } catch (error) {
      return { ok: false, error: toAdapterError(error, `${this.name}: delivery failed`) };
    }
  }

  async #deliverBatch(group: OutboxEntry[]): Promise<void> {
    const logCalls = this.#d.target.adapter.logCalls?.bind(this.#d.target.adapter);
    const ready: Array<{ entry: OutboxEntry; item: LogCallItem }> = [];
    for (const entry of group) {
      try {
        const payload = decodeOrInvalid(entry);
        const prepared = await this.#prepareCall(entry, payload);
        if (prepared.skip) {
          await this.#settle(entry, { ok: true, result: { skipped: 'unknown caller (policy skip)' } });
          continue;
        }
        ready.push({
          entry,
          item: {
            call: prepared.call,
            idempotencyKey: entry.id,
            match: prepared.match,
            ownerId: payload.ownerId,
          },
        });
      } catch (error) {
        await this.#settle(entry, {
          ok: false,
          error: toAdapterError(error, `${this.name}: delivery failed`),
        });
      }
    }
    if (ready.length === 0 || !logCalls) return;
    let results: Outcome[];
    try {
      const answers = await this.#call('logCalls', (ctx) =>
        logCalls(
          ready.map((r) => r.item),
          ctx,
        ),
      );
      results = ready.map((_, i) => {
        const answer = answers[i];
        if (!answer) {
          return {
            ok: false,
            error: new AdapterError('transient', `${this.name}: logCalls returned no result for item ${i}`),
          };
        }
        return answer.ok
          ? { ok: true, result: answer.ref }
          : { ok: false, error: toAdapterError(answer.error) };
      });
    } catch (error) {
      const failure = toAdapterError(error, `${this.name}: logCalls failed`);
      results = ready.map(() => ({ ok: false, error: failure }));
    }
    for (let i = 0; i < ready.length; i++) {
      const r = ready[i];
      const outcome = results[i];
      if (r && outcome) await this.#settle(r.entry, outcome);
    }
  }

  async #settle(entry: OutboxEntry, outcome: Outcome): Promise<void> {
    const { store, clock, options, random } = this.#d;
    const now = clock();
    if (outcome.ok) {
      this.#authFailures = 0;
      await store.outbox.markDelivered(entry.id, outcome.result, now);
      this.#d.onDelivered(
        { ...entry, status: 'delivered', updatedAt: now, result: outcome.result },
        outcome.result,
      );
      return;
    }
    const error = outcome.error;
    if (error.kind === 'auth') {
      // Refused credentials are the adapter's problem, not the entry's: pause the adapter, keep
      // the entry pending as it is (no attempt counted), and probe again later.
      if (now >= this.#pausedUntil) {
        const pause = Math.min(
          options.maxDelayMs,
          options.authRetryMs * 2 ** Math.min(this.#authFailures, 20),
        );
        this.#authFailures++;
        this.#pausedUntil = now + pause;
        this.#d.onPaused?.(error, this.#pausedUntil);
      }
      return;
    }
    const lastError = { kind: error.kind, message: error.message };
    const attempts = entry.attempts + 1;
    if (error.retryable && attempts < options.maxAttempts) {
      // A Retry-After is honoured up to a cap, then the CRM is probed again; a daily quota is kept.
      const retryAfterMs =
        error.retryAfterMs === undefined || error.quota === 'daily'
          ? error.retryAfterMs
          : Math.min(error.retryAfterMs, options.maxRetryAfterMs);
      const delay = backoffDelay(entry.attempts, options, random, retryAfterMs);
      if (error.kind === 'rate-limit')
        this.#pausedUntil = Math.max(this.#pausedUntil, now + (retryAfterMs ?? delay));
      await store.outbox.markRetry(entry.id, lastError, now + delay, now);
      this.#d.onRetry(
        { ...entry, attempts, nextAttemptAt: now + delay, lastError, updatedAt: now },
        error,
        delay,
      );
      return;
    }
    await store.outbox.markDead(entry.id, lastError, now);
    this.#d.onDead({ ...entry, status: 'dead', attempts, lastError, updatedAt: now }, error);
  }
}

function decodeOrInvalid(entry: OutboxEntry): DecodedPayload {
  try {
    return decodePayload(entry.payload);
  } catch (error) {
    throw new AdapterError('invalid', error instanceof Error ? error.message : String(error), {
      cause: error,
    });
  }
}
