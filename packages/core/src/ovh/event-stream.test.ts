import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../store/index.js';
import {
  createScenario,
  type FakeOvhEventsServer,
  type FakeOvhEventsServerOptions,
  startFakeOvhEventsServer,
} from '../testing/index.js';
import { waitFor } from '../testing/wait/wait-for.js';
import {
  backoffDelay,
  createEventStream,
  type EventStream,
  type EventStreamOptions,
  type PollErrorReport,
} from './event-stream.js';
import type { OvhEvent } from './types.js';

const TOKEN = 'AAAAAAAA-1111-2222-3333-444444444444';
const OTHER = 'BBBBBBBB-1111-2222-3333-444444444444';

let servers: FakeOvhEventsServer[] = [];
let streams: EventStream[] = [];

afterEach(async () => {
  await Promise.all(streams.map((s) => s.close()));
  await Promise.all(servers.map((s) => s.close()));
  streams = [];
  servers = [];
});

async function fake(options?: FakeOvhEventsServerOptions): Promise<FakeOvhEventsServer> {
  const server = await startFakeOvhEventsServer(options);
  servers.push(server);
  return server;
}

function stream(server: FakeOvhEventsServer, options: Partial<EventStreamOptions> = {}): EventStream {
  const s = createEventStream({ tokens: [TOKEN], baseUrl: server.url, ...options });
  streams.push(s);
  return s;
}

/** `count` distinct raw events for a token (missed calls: start_ringing + end_ringing each). */
function rawEvents(token: string, calls: number, seed = 1): unknown[] {
  const scenario = createScenario({ token, seed });
  for (let i = 0; i < calls; i++) {
    scenario.inboundMissed({
      from: `06123456${String(i % 100).padStart(2, '0')}`,
      to: '0972123456',
      ringSeconds: 3,
    });
  }
  return scenario.events();
}

async function take(iterable: AsyncIterable<OvhEvent>, count: number): Promise<OvhEvent[]> {
  const out: OvhEvent[] = [];
  if (count === 0) return out;
  for await (const event of iterable) {
    out.push(event);
    if (out.length >= count) break;
  }
  return out;
}

describe('createEventStream — cursor', () => {
  it('polls without a session first, then echoes the Session the server returned', async () => {
    const server = await fake({ holdMs: 50 });
    const s = stream(server);
    server.push(TOKEN, rawEvents(TOKEN, 1));
    const [first] = await take(s, 1);
    expect(first?.name).toBe('start_ringing');
    await waitFor(() => server.requests().length >= 3, 'three polls');
    const requests = server.requests();
    expect(requests[0]?.session).toBeUndefined();
    const sessions = new Set(requests.slice(1).map((r) => r.session));
    expect(sessions.size).toBe(1);
    expect([...sessions][0]).toMatch(/^[0-9a-f]{24}$/);
    expect(s.stats()[TOKEN]?.sessionChanges).toBe(0);
  });

  it('saves the cursor to the CursorStore and resumes from it after a restart', async () => {
    const server = await fake({ holdMs: 50 });
    const store = createMemoryStore();
    const first = stream(server, { cursors: store.cursors });
    server.push(TOKEN, rawEvents(TOKEN, 1));
    await take(first, 2);
    const saved = await store.cursors.get(TOKEN);
    expect(saved).toMatch(/^[0-9a-f]{24}$/);
    await first.close();
    // Events pushed while no client is connected are buffered in the session…
    server.push(TOKEN, rawEvents(TOKEN, 1, 2));
    const before = server.requests().length;
    const second = stream(server, { cursors: store.cursors });
    // …and the restarted client, echoing the saved session, gets them.
    const events = await take(second, 2);
    expect(events.map((e) => e.name)).toEqual(['start_ringing', 'end_ringing']);
    expect(server.requests()[before]?.session).toBe(saved);
  });

  it('adopts a new session after a server-side session reset', async () => {
    const server = await fake({ holdMs: 50 });
    const s = stream(server);
    server.push(TOKEN, rawEvents(TOKEN, 1));
    await take(s, 2);
    const oldSession = server.requests().at(-1)?.session;
    server.inject({ type: 'session-reset' });
    server.push(TOKEN, rawEvents(TOKEN, 1, 7));
    const events = await take(s, 2);
    expect(events).toHaveLength(2);
    await waitFor(
      () => server.requests().some((r) => r.session !== undefined && r.session !== oldSession),
      'a poll echoing the new session',
    );
    expect(s.stats()[TOKEN]?.sessionChanges).toBeGreaterThanOrEqual(1);
  });
});

describe('createEventStream — delivery', () => {
  it('does not lose events buffered between polls (batches larger than one answer)', async () => {
    const server = await fake({ holdMs: 50, maxBatch: 3 });
    const raw = rawEvents(TOKEN, 10);
    server.push(TOKEN, raw);
    const s = stream(server);
    const events = await take(s, raw.length);
    expect(events).toHaveLength(20);
    expect(events.map((e) => (e.raw.Data as { CallId: string }).CallId)).toEqual(
      raw.map((r) => ((r as { Data: { CallId: string } }).Data as { CallId: string }).CallId),
    );
    // At least ceil(20 / 3) answers with events.
    expect(server.requests().filter((r) => r.outcome === 'events').length).toBeGreaterThanOrEqual(7);
  });

  it('applies the events of one answer in the order of their own timestamps, not of the JSON array', async () => {
    const server = await fake({ holdMs: 50 });
    const raw = rawEvents(TOKEN, 4);
    server.push(TOKEN, [...raw].reverse());
    const s = stream(server);
    const events = await take(s, raw.length);
    expect(server.requests().filter((r) => r.outcome === 'events')).toHaveLength(1);
    const key = (e: unknown) => {
      const event = e as { Event: string; Data: { CallId: string } };
      return `${event.Event}:${event.Data.CallId}`;
    };
    expect(events.map((e) => key(e.raw))).toEqual(raw.map(key));
  });

  it('applies back-pressure: stops polling while the buffer is full, and loses nothing', async () => {
    const server = await fake({ holdMs: 30 });
    const s = stream(server, { bufferSize: 2 });
    const iterator = s[Symbol.asyncIterator]();
    server.push(TOKEN, rawEvents(TOKEN, 2)); // 4 events: more than the buffer
    // Nobody reads: the loop, having pushed the whole answer, waits for room instead of polling
    // (and buffering) more.
    await waitFor(() => s.stats()[TOKEN]?.waitingForRoom === true, 'the loop to wait for room');
    // While it waits for room the loop sends nothing: it resumes only when the consumer takes an
    // event (nobody does here) or the stream closes. So no poll is in flight, and the server has
    // seen exactly the polls the client completed.
    expect(server.pending(TOKEN)).toBe(0);
    expect(server.held()).toBe(0);
    expect(server.requests()).toHaveLength(s.stats()[TOKEN]?.polls ?? -1);
    server.push(TOKEN, rawEvents(TOKEN, 3, 9)); // buffered server-side meanwhile
    const got: OvhEvent[] = [];
    while (got.length < 10) {
      const next = await iterator.next();
      if (next.done) break;
      got.push(next.value);
    }
    expect(got).toHaveLength(10);
  });

  it('delivers to listeners only (no queue) when nobody iterates', async () => {
    const server = await fake({ holdMs: 30 });
    const s = stream(server, { bufferSize: 2 });
    const seen: OvhEvent[] = [];
    s.on('event', (e) => seen.push(e));
    server.push(TOKEN, rawEvents(TOKEN, 15));
    await waitFor(() => seen.length === 30, '30 events seen by the listener');
    expect(s.stats()[TOKEN]?.events).toBe(30);
  });

  it('drops re-delivered events (TsGet differs) but keeps agent-offerings sharing a Timestamp', async () => {
    const server = await fake({ holdMs: 30 });
    const s = stream(server);
    const scenario = createScenario({ token: TOKEN }).queueAnswered({
      queue: '0972999999',
      caller: '0612345678',
      agents: ['0972000001', '0972000002', '0972000003'],
      answeredBy: '0972000002',
      waitSeconds: 8,
      talkSeconds: 30,
    });
    const raw = scenario.events();
    server.inject({ type: 'duplicate', token: TOKEN, times: 3 });
    server.push(TOKEN, raw);
    const events = await take(s, raw.length);
    expect(events.filter((e) => e.name === 'agent-offering')).toHaveLength(3);
    // Every event was delivered three more times by the fake and dropped three times by the stream.
    // Final once the client holds a poll with nothing left on the server: the fault applied to
    // three answers only, and the loop handles each answer before it sends the next poll.
    await waitFor(
      () =>
        (s.stats()[TOKEN]?.duplicates ?? 0) >= raw.length * 3 &&
        server.pending(TOKEN) === 0 &&
        server.held() === 1,
      'every re-delivery handled and the next poll held',
    );
    expect(server.requests().filter((r) => r.outcome === 'events')).toHaveLength(4);
    expect(s.stats()[TOKEN]?.duplicates).toBe(raw.length * 3);
    expect(s.stats()[TOKEN]?.events).toBe(raw.length);
  });

  it('reports a bad event, skips it, and keeps streaming', async () => {
    const server = await fake({ holdMs: 30 });
    const s = stream(server);
    const invalid: string[] = [];
    s.on('invalid', (report) => invalid.push(report.error));
    const [good1, good2] = rawEvents(TOKEN, 1);
    server.push(TOKEN, [
      good1,
      { Event: 'start_ringing', Data: { Calling: '0033612345678' }, Ts: 1 },
      42,
      good2,
    ]);
    const events = await take(s, 2);
    expect(events.map((e) => e.name)).toEqual(['start_ringing', 'end_ringing']);
    expect(invalid).toHaveLength(2);
    expect(invalid[1]).toContain('not an object');
    server.push(TOKEN, rawEvents(TOKEN, 1, 5));
    expect(await take(s, 2)).toHaveLength(2);
    expect(s.stats()[TOKEN]?.invalid).toBe(2);
  });

  it('cuts an answer over maxResponseBytes (a hostile or broken server), backs off, and keeps streaming', async () => {
    const server = await fake({ holdMs: 50 });
    server.inject({ type: 'huge', bytes: 3 * 1024 * 1024 });
    const s = stream(server, { maxResponseBytes: 256 * 1024, backoff: { baseMs: 10, maxMs: 20 } });
    const errors: string[] = [];
    s.on('poll-error', (report) => errors.push(report.error));
    server.push(TOKEN, rawEvents(TOKEN, 1));
    const events = await take(s, 2);
    expect(events).toHaveLength(2);
    expect(errors).toEqual([expect.stringContaining('over 262144 bytes (maxResponseBytes): it was cut')]);
    expect(server.requests().some((r) => r.outcome === 'huge')).toBe(true);
  });

  it('treats a client timeout as a normal empty poll', async () => {
    const server = await fake({ holdMs: 10_000 });
    const s = stream(server, { pollTimeoutMs: 100 });
    const errors: unknown[] = [];
    s.on('poll-error', (e) => errors.push(e));
    await waitFor(() => (s.stats()[TOKEN]?.polls ?? 0) >= 3, 'three timed-out polls');
    expect(errors).toEqual([]);
    expect(s.stats()[TOKEN]?.errors).toBe(0);
    // (No delivery check here: events answered to a poll the client already gave up on are lost,
    // on OVH as on the fake — which is why the default client timeout exceeds the server hold.)
  });
});

describe('createEventStream — finish', () => {
  it('finish() lets the poll in flight end: what the server answers to it is delivered, then the stream closes', async () => {
    const server = await fake({ holdMs: 2_000 });
    const s = stream(server);
    const seen: string[] = [];
    s.on('event', (event) => seen.push(event.name));
    await waitFor(() => server.held() === 1, 'a held poll');
    const finished = s.finish(5_000);
    // the server answers the held poll after finish() was called (OVH has no acknowledgement:
    // aborting that poll would lose these events)
    server.push(TOKEN, rawEvents(TOKEN, 1));
    await finished;
    expect(seen).toEqual(['start_ringing', 'end_ringing']);
    expect(s.closed).toBe(true);
    expect(server.pending(TOKEN)).toBe(0);
    expect(server.requests()).toHaveLength(1);
  });

  it('finish() waits for the iterator to take the last answer before it ends the iterator', async () => {
    const server = await fake({ holdMs: 2_000 });
    const s = stream(server);
    const taken: string[] = [];
    const consuming = (async () => {
      for await (const event of s) {
        taken.push(event.name);
        await delay(5); // a consumer slower than the stream
      }
    })();
    await waitFor(() => server.held() === 1, 'a held poll');
    const finished = s.finish(5_000);
    server.push(TOKEN, rawEvents(TOKEN, 2));
    await finished;
    await consuming;
    expect(taken).toHaveLength(4);
  });

  it('finish() aborts a poll still held past its grace', async () => {
    const server = await fake({ holdMs: 10_000 });
    const s = stream(server);
    await waitFor(() => server.held() === 1, 'a held poll');
    await s.finish(50);
    expect(s.closed).toBe(true);
    expect(server.requests()).toHaveLength(1);
  });
});

describe('createEventStream — failures', () => {
  it('backs off on HTTP 5xx, even with zero jitter: each retry first waits the delay of the formula', async () => {
    const server = await fake({ holdMs: 30 });
    server.inject({ type: 'http-error', status: 503, times: 1_000 });
    const backoff = { baseMs: 40, maxMs: 400 };
    const reports: PollErrorReport[] = [];
    const s = stream(server, { backoff, random: () => 0 });
    s.on('poll-error', (r) => reports.push(r));
    await waitFor(() => reports.length >= 6, 'six failed polls');
    const six = reports.slice(0, 6);
    // Every poll failed, and was reported with its attempt number.
    expect(six.map((r) => r.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(six.every((r) => r.status === 503)).toBe(true);
    // Zero jitter is the worst case: every wait is the floor, half the base delay.
    expect(six.map((r) => r.retryInMs)).toEqual(six.map((r) => backoffDelay(r.attempt, backoff, () => 0)));
    expect(six.map((r) => r.retryInMs)).toEqual([20, 20, 20, 20, 20, 20]);
    // The loop waited that long before its next poll (a lower bound only: a slow machine makes the
    // gaps longer, never shorter; 2 ms of slack for the millisecond rounding of timers and clocks).
    const at = server.requests().map((r) => r.at);
    for (let i = 0; i < 5; i++) {
      expect((at[i + 1] ?? 0) - (at[i] ?? 0), `gap after poll ${i + 1}`).toBeGreaterThanOrEqual(
        (six[i]?.retryInMs ?? 0) - 2,
      );
    }
  });

  it('backs off exponentially on non-JSON bodies, then recovers', async () => {
    const server = await fake({ holdMs: 30 });
    server.inject({ type: 'garbage', times: 4 });
    const s = stream(server, { backoff: { baseMs: 20, maxMs: 1_000 }, random: () => 0.999 });
    const reports: Array<{ retryInMs: number; error: string }> = [];
    s.on('poll-error', (r) => reports.push(r));
    server.push(TOKEN, rawEvents(TOKEN, 1));
    expect(await take(s, 2)).toHaveLength(2);
    expect(reports.map((r) => r.retryInMs)).toEqual([19, 39, 79, 159]);
    expect(reports[0]?.error).toContain('not JSON');
    expect(s.stats()[TOKEN]?.consecutiveErrors).toBe(0);
  });

  it('backs off on dropped connections (network errors), then recovers', async () => {
    const server = await fake({ holdMs: 30 });
    server.inject({ type: 'drop', times: 3 });
    const s = stream(server, { backoff: { baseMs: 20, maxMs: 100 } });
    const reports: Array<{ error: string; status?: number }> = [];
    s.on('poll-error', (r) => reports.push(r));
    server.push(TOKEN, rawEvents(TOKEN, 1));
    expect(await take(s, 2)).toHaveLength(2);
    expect(reports).toHaveLength(3);
    expect(reports[0]?.error).toMatch(/network error/);
    expect(reports[0]?.status).toBeUndefined();
  });

  it('survives a slow answer', async () => {
    const server = await fake({ holdMs: 30 });
    server.inject({ type: 'slow', delayMs: 200 });
    const s = stream(server);
    server.push(TOKEN, rawEvents(TOKEN, 1));
    expect(await take(s, 2)).toHaveLength(2);
    expect(s.stats()[TOKEN]?.errors).toBe(0);
  });

  it('backoffDelay: full jitter, capped, never below half the base', () => {
    expect(backoffDelay(1, { baseMs: 100, maxMs: 1000 }, () => 0)).toBe(50);
    expect(backoffDelay(1, { baseMs: 100, maxMs: 1000 }, () => 0.999)).toBe(99);
    expect(backoffDelay(4, { baseMs: 100, maxMs: 1000 }, () => 0.999)).toBe(799);
    expect(backoffDelay(40, { baseMs: 100, maxMs: 1000 }, () => 0.999)).toBe(999);
  });
});

describe('createEventStream — lifecycle', () => {
  it('close() aborts every held loop (not waiting for the 60 s holds) and ends the iterator', async () => {
    const server = await fake({ holdMs: 60_000 });
    const tokens = Array.from(
      { length: 50 },
      (_, i) => `CCCCCCCC-0000-0000-0000-${String(i).padStart(12, '0')}`,
    );
    const s = stream(server, { tokens });
    const iterator = s[Symbol.asyncIterator]();
    const pendingNext = iterator.next();
    await waitFor(() => server.held() === 50, '50 held polls');
    const started = performance.now();
    await s.close();
    // a quarter of the hold: only a close that waited for the held polls takes that long
    expect(performance.now() - started, 'close() waited for the held polls to end').toBeLessThan(15_000);
    expect(await pendingNext).toEqual({ value: undefined, done: true });
    await waitFor(() => server.held() === 0, 'the server to see the held polls end');
    expect(s.closed).toBe(true);
  });

  it('an aborted AbortSignal stops the loops, including one sleeping in backoff', async () => {
    const server = await fake({ holdMs: 60_000 });
    server.inject({ type: 'http-error', token: OTHER, times: 100 });
    const controller = new AbortController();
    const s = stream(server, {
      tokens: [TOKEN, OTHER],
      signal: controller.signal,
      backoff: { baseMs: 60_000, maxMs: 60_000 },
    });
    await waitFor(
      () => server.held() === 1 && (s.stats()[OTHER]?.errors ?? 0) === 1,
      'one held poll and one failed poll in backoff',
    );
    const started = performance.now();
    controller.abort();
    const done = await take(s, 1);
    expect(done).toEqual([]);
    // the hold and the backoff are 60 s: only waiting for them takes a quarter of that
    expect(performance.now() - started, 'the abort waited for the hold or the backoff').toBeLessThan(15_000);
    // close() resolves once every loop has ended: nothing can send a request after that. Every
    // request the server saw came before the abort: the held poll and the failed one (a 60 s backoff).
    await s.close();
    expect(server.requests().map((r) => r.token)).toEqual(expect.arrayContaining([TOKEN, OTHER]));
    expect(server.requests()).toHaveLength(2);
  });

  it('the watchdog reports a silent token, and clears it when events flow again', async () => {
    const server = await fake({ holdMs: 30 });
    let clock = 1_000_000;
    const s = stream(server, { tokens: [TOKEN, OTHER], watchdogMs: 40, now: () => clock });
    const silent: string[] = [];
    s.on('silent', (r) => silent.push(r.token));
    server.push(TOKEN, rawEvents(TOKEN, 1));
    await take(s, 2);
    clock += 50;
    await waitFor(() => silent.length === 2, 'both tokens reported silent');
    expect(new Set(silent)).toEqual(new Set([TOKEN, OTHER]));
    expect(s.stats()[OTHER]?.silent).toBe(true);
    server.push(OTHER, rawEvents(OTHER, 1));
    await take(s, 2);
    expect(s.stats()[OTHER]?.silent).toBe(false);
    expect(s.stats()[TOKEN]?.silent).toBe(true);
  });

  it('follows 1,000 tokens in one process with one shared Agent: every token delivers', async () => {
    const server = await fake({ holdMs: 2_000 });
    const tokens = Array.from(
      { length: 1000 },
      (_, i) => `DDDDDDDD-0000-0000-0000-${String(i).padStart(12, '0')}`,
    );
    const s = stream(server, { tokens });
    await waitFor(() => server.held() === 1000, '1,000 held polls', { intervalMs: 20 });
    for (const token of tokens) {
      server.push(
        token,
        createScenario({ token })
          .outbound({ from: '0972123456', to: '0612345678', ringSeconds: 1, talkSeconds: 2 })
          .events()
          .slice(0, 1),
      );
    }
    const events = await take(s, 1000);
    expect(new Set(events.map((e) => e.token)).size).toBe(1000);
    const stats = s.stats();
    expect(Object.values(stats).every((t) => t.events === 1 && t.errors === 0)).toBe(true);
    // Closing 1,000 open polls (fake server in this same process) ends (the test's timeout bounds
    // it; promptness is checked above on 50 held polls, and measured by `pnpm bench`).
    await s.close();
    expect(server.requests().length).toBeLessThan(2500);
  }, 30_000);
});
