import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../ovh/wire.js';
import { waitFor } from '../wait/index.js';
import { type FakeOvhEventsServer, startFakeOvhEventsServer } from './fake-events-server.js';
import { toOvhJson } from './json.js';

let server: FakeOvhEventsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function poll(url: string, token: string, session?: string) {
  const response = await request(`${url}/?token=${token}${session ? `&session=${session}` : ''}`);
  const text = await response.body.text();
  const parsed = parseEnvelope(text);
  return { status: response.statusCode, text, envelope: parsed.ok ? parsed.envelope : undefined };
}

describe('startFakeOvhEventsServer', () => {
  it('gives a new session to a client without one, buffers per session, and answers v1 envelopes', async () => {
    server = await startFakeOvhEventsServer({ holdMs: 20 });
    const first = await poll(server.url, 'T');
    expect(first.status).toBe(200);
    expect(first.envelope).toEqual({
      session: expect.stringMatching(/^[0-9a-f]{24}$/),
      message: '',
      events: [],
    });
    const session = first.envelope?.session as string;
    server.push('T', [{ Event: 'start_ringing', Timestamp: 1767603600135042729n }]);
    // Echoing the session gets the buffered event, with every digit of the timestamp on the wire.
    const second = await poll(server.url, 'T', session);
    expect(second.text).toContain('"Timestamp":1767603600135042729');
    expect(second.envelope?.session).toBe(session);
    server.push('T', [{ Event: 'end_ringing' }]);
    // A client that does not echo the session gets a new one, and misses what the old one buffered.
    const fresh = await poll(server.url, 'T');
    expect(fresh.envelope?.session).not.toBe(session);
    expect(fresh.envelope?.events).toEqual([]);
    expect(server.pending('T')).toBe(1);
    expect(server.requests().map((r) => r.outcome)).toEqual(['empty', 'events', 'empty']);
  });

  it('holds a poll until events arrive', async () => {
    const held = await startFakeOvhEventsServer({ holdMs: 60_000 });
    server = held;
    server.push('T', [{ Event: 'first' }]); // no session yet: kept for the first one
    const { envelope } = await poll(server.url, 'T');
    expect(envelope?.events).toEqual([{ Event: 'first' }]);
    const pending = poll(server.url, 'T', envelope?.session);
    await waitFor(() => held.held() > 0, 'the poll to be held');
    server.push('T', [{ Event: 'x' }]);
    expect((await pending).envelope?.events).toEqual([{ Event: 'x' }]);
  });

  it('injects faults: 5xx, garbage, dropped connection, scoped to a token', async () => {
    server = await startFakeOvhEventsServer({ holdMs: 10 });
    server.inject({ type: 'http-error', status: 502, token: 'A' });
    server.inject({ type: 'garbage', token: 'A' });
    server.inject({ type: 'drop', token: 'A' });
    expect((await poll(server.url, 'B')).status).toBe(200);
    expect((await poll(server.url, 'A')).status).toBe(502);
    const garbage = await poll(server.url, 'A');
    expect([garbage.status, garbage.envelope]).toEqual([200, undefined]);
    await expect(poll(server.url, 'A')).rejects.toThrow();
    expect((await poll(server.url, 'A')).status).toBe(200);
  });

  it('toOvhJson writes bigints as bare integers', () => {
    expect(toOvhJson({ a: 1425554670255954701n, b: [2n], c: 'x' })).toBe(
      '{"a":1425554670255954701,"b":[2],"c":"x"}',
    );
  });
});
