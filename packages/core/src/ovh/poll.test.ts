import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createScenario, type FakeOvhEventsServer, startFakeOvhEventsServer } from '../testing/index.js';
import { Agent } from './http.js';
import { type PollOutcome, type PollRequest, pollOnce } from './poll.js';

const TOKEN = 'CCCCCCCC-1111-2222-3333-444444444444';
const agent = new Agent();
let servers: FakeOvhEventsServer[] = [];

afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function fake(holdMs: number): Promise<FakeOvhEventsServer> {
  const server = await startFakeOvhEventsServer({ holdMs });
  servers.push(server);
  return server;
}

function poll(baseUrl: string, over: Partial<PollRequest> = {}): Promise<PollOutcome> {
  return pollOnce({
    baseUrl,
    token: TOKEN,
    session: '',
    dispatcher: agent,
    signal: new AbortController().signal,
    timeoutMs: 2_000,
    maxResponseBytes: 1024 * 1024,
    ...over,
  });
}

describe('pollOnce', () => {
  it('returns the answer: its raw events and the session cursor to echo', async () => {
    const server = await fake(50);
    const scenario = createScenario({ token: TOKEN });
    scenario.inboundMissed({ from: '0699999999', to: '0972101011', ringSeconds: 5 });
    server.push(TOKEN, scenario.events());
    const outcome = await poll(server.url);
    expect(outcome.kind).toBe('answer');
    if (outcome.kind !== 'answer') return;
    expect(outcome.events).toHaveLength(2);
    expect(outcome.session).not.toBe('');
    expect(outcome.chars).toBeGreaterThan(0);
  });

  it('a poll held past the client timeout is an empty answer, not a failure', async () => {
    const server = await fake(10_000);
    expect(await poll(server.url, { timeoutMs: 100 })).toEqual({
      kind: 'answer',
      events: [],
      session: '',
      chars: 0,
    });
  });

  it('an HTTP error is a failure with its status and a hint for a refused token', async () => {
    const server = await fake(50);
    server.inject({ type: 'http-error', status: 403, times: 1 });
    const outcome = await poll(server.url);
    expect(outcome).toMatchObject({ kind: 'failure', status: 403 });
    expect(outcome.kind === 'failure' && outcome.error).toContain('the token may be invalid');
  });

  it('a network error is a failure whose text never holds the token', async () => {
    // a port that was free a moment ago: nothing listens there any more
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as { port: number };
        probe.close(() => resolve(p));
      });
    });
    const outcome = await poll(`http://127.0.0.1:${port}/${TOKEN}`);
    expect(outcome.kind).toBe('failure');
    if (outcome.kind !== 'failure') return;
    expect(outcome.error).toMatch(/^network error polling the OVH events server/);
    expect(outcome.error).not.toContain(TOKEN);
  });

  it('an aborted poll is reported as aborted', async () => {
    const server = await fake(10_000);
    const controller = new AbortController();
    const pending = poll(server.url, { signal: controller.signal });
    controller.abort();
    expect(await pending).toEqual({ kind: 'aborted' });
  });
});
