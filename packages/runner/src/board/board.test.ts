import { createServer, request, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import {
  type Connector,
  createConnector,
  createMemoryStore,
  memoryAdapter,
  normalizeEvent,
  type OvhEvent,
  type Store,
  silentLogger,
} from '@cti-bridge/core';
import { createScenario, waitFor } from '@cti-bridge/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type Board, createBoard } from './board.js';
import type { BoardCall, BoardSnapshot } from './model.js';

const TOKEN = 'BOARD-TOKEN-0000-4000-8000-000000000001';

/** An async iterable fed by hand. */
function pushStream() {
  const queue: OvhEvent[] = [];
  let wake: (() => void) | undefined;
  return {
    push(...events: OvhEvent[]) {
      queue.push(...events);
      wake?.();
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<OvhEvent> {
      for (;;) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
  };
}

const normalize = (raw: readonly unknown[]) =>
  raw.map((r) => {
    const result = normalizeEvent(r as never, { token: TOKEN });
    if (!result.ok) throw new Error(result.error);
    return result.event;
  });

interface Rig {
  stream: ReturnType<typeof pushStream>;
  connector: Connector;
  board: Board;
  store: Store;
  crm: ReturnType<typeof memoryAdapter>;
  server: Server;
  url: string;
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const rig of rigs.splice(0)) {
    await rig.board.close();
    await rig.connector.stop();
    rig.server.closeAllConnections();
    await new Promise((r) => rig.server.close(r));
  }
});

async function rig(
  options: { store?: Store; token?: string; hub?: Parameters<typeof createBoard>[0]['hub'] } = {},
): Promise<Rig> {
  const store = options.store ?? createMemoryStore();
  const crm = memoryAdapter({
    name: 'crm',
    contacts: [
      { id: 'alice', name: 'Alice Martin', phone: '+33 6 12 34 56 78' },
      { id: 'evil', name: '<script>window.__pwned=1</script>', phone: '+33 6 99 99 99 99' },
    ],
  });
  const stream = pushStream();
  const connector = createConnector({
    stream,
    store,
    routes: { [TOKEN]: { adapters: [{ name: 'crm', adapter: crm }] } },
    housekeepingIntervalMs: 0,
    outboxPollIntervalMs: 0,
    // No settle window: these tests follow the board, not late events (core tests the window).
    tracker: { settleMs: 0 },
  });
  const board = await createBoard({
    connector,
    store,
    routes: { [TOKEN]: ['crm'] },
    logger: silentLogger,
    saveDelayMs: 10,
    ...(options.token ? { token: options.token } : {}),
    ...(options.hub ? { hub: options.hub } : {}),
  });
  await connector.start();
  const server = createServer((req, res) => {
    if (!board.handle(req, res, new URL(req.url ?? '/', 'http://localhost'))) {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const r: Rig = {
    stream,
    connector,
    board,
    store,
    crm,
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  };
  rigs.push(r);
  return r;
}

interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** A minimal SSE reader over node:http: collects events until closed. */
function openSse(url: string, headers: Record<string, string> = {}) {
  const events: SseEvent[] = [];
  let status = 0;
  let closed = false;
  let buffer = '';
  const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
    status = res.statusCode ?? 0;
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end < 0) break;
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: SseEvent = { event: 'message', data: '' };
        let hasData = false;
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') event.id = value;
          if (field === 'event') event.event = value;
          if (field === 'data') {
            event.data += value;
            hasData = true;
          }
        }
        if (hasData) events.push(event);
      }
    });
    res.on('close', () => {
      closed = true;
    });
  });
  req.on('error', () => {
    closed = true;
  });
  req.end();
  return {
    events,
    status: () => status,
    closed: () => closed,
    close: () => req.destroy(),
    lastId: () => [...events].reverse().find((e) => e.id !== undefined)?.id,
  };
}

const scenario = () => createScenario({ token: TOKEN, start: new Date(Date.now() - 60_000) });

describe('live board: state from the connector', () => {
  it('follows a call: ringing with the screen pop, answered, ended, then logged per CRM', async () => {
    const { stream, board, connector } = await rig();
    const raw = scenario()
      .inboundAnswered({
        from: '0612345678',
        to: '0972101010',
        ringSeconds: 5,
        talkSeconds: 30,
        callId: 'c-1',
      })
      .events();
    const events = normalize(raw);
    stream.push(events[0] as OvhEvent);
    await waitFor(() => board.model.call('c-1')?.lookedUp === true, 'the screen pop');
    const ringing = board.model.call('c-1') as BoardCall;
    expect(ringing).toMatchObject({
      state: 'ringing',
      caller: '+33612345678',
      line: '+33972101010',
      matches: [{ crm: 'crm', name: 'Alice Martin', url: expect.stringContaining('alice') }],
    });
    expect(JSON.stringify(ringing)).not.toContain(TOKEN);
    stream.push(...events.slice(1));
    await waitFor(() => board.model.call('c-1')?.logging.crm === 'logged', 'logged');
    expect(board.model.call('c-1')).toMatchObject({ state: 'ended', outcome: 'answered' });
    expect(connector.stats().delivered).toBe(1);
  });

  it('shows retrying, then logged, for a CRM that fails once', async () => {
    const { stream, board, crm } = await rig();
    const seen: string[] = [];
    board.model.onChange((change) => {
      const status = change.type === 'call' ? change.call.logging.crm : undefined;
      if (status !== undefined && seen.at(-1) !== status) seen.push(status);
    });
    crm.failNext('transient', 1, { on: 'write' });
    stream.push(
      ...normalize(
        scenario()
          .inboundMissed({ from: '0612345678', to: '0972101010', ringSeconds: 5, callId: 'c-retry' })
          .events(),
      ),
    );
    await waitFor(() => board.model.call('c-retry')?.logging.crm === 'logged', 'logged after a retry');
    expect(seen).toEqual(['pending', 'retrying', 'logged']);
  });

  it('shows dead for a CRM that refuses the call', async () => {
    const { stream, board, crm } = await rig();
    crm.failNext('invalid', 1, { on: 'write' });
    stream.push(
      ...normalize(
        scenario()
          .inboundMissed({ from: '0612345678', to: '0972101010', ringSeconds: 5, callId: 'c-dead' })
          .events(),
      ),
    );
    await waitFor(() => board.model.call('c-dead')?.logging.crm === 'dead', 'a dead letter');
  });

  it('counts queue callers answered and abandoned today and names the caller', async () => {
    const { stream, board } = await rig();
    const s = scenario();
    s.queueAnswered({
      queue: '0972000000',
      caller: '0611111111',
      callerName: 'Bob Queue',
      agents: ['0972101010', '0972101011'],
      answeredBy: '0972101011',
      waitSeconds: 10,
      talkSeconds: 20,
    });
    s.queueAbandoned({ queue: '0972000000', caller: '0622222222', agents: ['0972101010'], waitSeconds: 5 });
    stream.push(...normalize(s.events()));
    await waitFor(
      () => board.model.snapshot().queues.length === 1 && board.model.snapshot().queues[0]?.abandoned === 1,
      'counts',
    );
    const snap = board.model.snapshot();
    expect(snap.queues[0]).toMatchObject({ answered: 1, abandoned: 1 });
    expect(snap.sessions.find((x) => x.callerName === 'Bob Queue')).toMatchObject({
      state: 'ended',
      outcome: 'answered',
    });
  });

  it('is kept across restarts: a new board on the same store shows the recent calls', async () => {
    const store = createMemoryStore();
    const first = await rig({ store });
    first.stream.push(
      ...normalize(
        scenario()
          .inboundAnswered({
            from: '0612345678',
            to: '0972101010',
            ringSeconds: 5,
            talkSeconds: 30,
            callId: 'kept',
          })
          .events(),
      ),
    );
    await waitFor(() => first.board.model.call('kept')?.logging.crm === 'logged', 'logged');
    await first.board.close();
    const second = await rig({ store });
    expect(second.board.model.call('kept')).toMatchObject({ state: 'ended', logging: { crm: 'logged' } });
  });
});

describe('live board: event stream', () => {
  it('a new page gets the snapshot first, then every change with increasing ids', async () => {
    const { stream, url } = await rig();
    const sse = openSse(`${url}/events`);
    await waitFor(() => sse.events.length === 1, 'the snapshot');
    expect(sse.events[0]?.event).toBe('snapshot');
    const snap = JSON.parse(sse.events[0]?.data ?? '{}') as BoardSnapshot;
    expect(snap.calls).toEqual([]);
    stream.push(
      ...normalize(
        scenario()
          .inboundAnswered({
            from: '0612345678',
            to: '0972101010',
            ringSeconds: 5,
            talkSeconds: 30,
            callId: 'c-2',
          })
          .events(),
      ),
    );
    await waitFor(() => sse.events.some((e) => e.data.includes('"logged"')), 'logged event');
    const seqs = sse.events.map((e) => Number(e.id?.split('-')[1]));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs.slice(1)).size).toBe(seqs.length - 1);
    expect(sse.events.map((e) => e.data).join('')).not.toContain(TOKEN);
    sse.close();
  });

  it('a reconnecting page resumes from Last-Event-ID: no event missed, none repeated', async () => {
    const { stream, url, board } = await rig();
    const first = openSse(`${url}/events`);
    const s = scenario();
    s.inboundAnswered({
      from: '0612345678',
      to: '0972101010',
      ringSeconds: 5,
      talkSeconds: 30,
      callId: 'r-1',
    });
    const batch1 = normalize(s.events());
    stream.push(...batch1);
    await waitFor(() => board.model.call('r-1')?.logging.crm === 'logged', 'first call logged');
    await waitFor(
      () => first.lastId() === `${board.hub.epoch}-${board.hub.stats().seq}`,
      'first page caught up',
    );
    const lastSeen = first.lastId() as string;
    first.close();
    // Changes while the page is away.
    s.inboundMissed({ from: '0699999999', to: '0972101011', ringSeconds: 4, callId: 'r-2' });
    stream.push(...normalize(s.events()).slice(batch1.length));
    await waitFor(() => board.model.call('r-2')?.logging.crm === 'logged', 'second call logged');
    const missed = board.hub.stats().seq - Number(lastSeen.split('-')[1]);
    expect(missed).toBeGreaterThan(0);
    const again = openSse(`${url}/events`, { 'last-event-id': lastSeen });
    await waitFor(() => again.events.length >= missed, 'the replay');
    // a snapshot, had the hub sent one, would have come first, before the replayed changes
    expect(again.events.some((e) => e.event === 'snapshot')).toBe(false);
    const ids = again.events.map((e) => Number(e.id?.split('-')[1]));
    const from = Number(lastSeen.split('-')[1]);
    expect(ids).toEqual(Array.from({ length: missed }, (_, i) => from + 1 + i));
    expect(board.hub.stats().resumed).toBe(1);
    again.close();
  });

  it('an id from another run, or older than the buffer, gets a snapshot instead', async () => {
    const { stream, url, board } = await rig({ hub: { bufferSize: 2 } });
    const other = openSse(`${url}/events`, { 'last-event-id': 'feedfacecafe-3' });
    await waitFor(() => other.events.length === 1, 'snapshot');
    expect(other.events[0]?.event).toBe('snapshot');
    other.close();
    stream.push(
      ...normalize(
        scenario()
          .inboundAnswered({
            from: '0612345678',
            to: '0972101010',
            ringSeconds: 5,
            talkSeconds: 30,
            callId: 'b-1',
          })
          .events(),
      ),
    );
    await waitFor(() => board.hub.stats().seq >= 4, 'changes');
    const behind = openSse(`${url}/events`, { 'last-event-id': `${board.hub.epoch}-1` });
    await waitFor(() => behind.events.length >= 1, 'snapshot');
    expect(behind.events[0]?.event).toBe('snapshot');
    behind.close();
  });

  it('drops a page that does not read, instead of buffering for it without end', async () => {
    const { url, board } = await rig({ hub: { maxClientBytes: 64 * 1024 } });
    // A client that never reads: its socket buffers fill, then the server's queue grows.
    const { port } = new URL(url);
    const stalled = connect(Number(port), '127.0.0.1');
    stalled.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
    stalled.pause();
    await waitFor(() => board.hub.stats().clients === 1, 'the page connected');
    const big = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 4_000 && board.hub.stats().clients > 0; i++) {
      board.hub.publish({
        type: 'queue',
        counts: { queue: big, day: '2026-01-01', answered: i, abandoned: 0 },
      });
      if (i % 16 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(board.hub.stats()).toMatchObject({ clients: 0, dropped: 1 });
    stalled.destroy();
  });
});

describe('live board: connection limit', () => {
  it('refuses pages beyond maxClients with 503 and Retry-After', async () => {
    const { url, board } = await rig({ hub: { maxClients: 1 } });
    const first = openSse(`${url}/events`);
    await waitFor(() => board.hub.stats().clients === 1, 'the first page');
    const second = await fetch(`${url}/events`);
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('5');
    first.close();
  });
});

describe('live board: access', () => {
  it('with a token: 401 without it; ?token= sets a cookie and leaves the address bar', async () => {
    const token = 'board-secret-0123456789';
    const { url } = await rig({ token });
    expect((await fetch(`${url}/`)).status).toBe(401);
    expect((await fetch(`${url}/events`)).status).toBe(401);
    expect((await fetch(`${url}/?token=wrong-secret-0123456789`)).status).toBe(401);
    const visit = await fetch(`${url}/?token=${token}&line=0972101010`, { redirect: 'manual' });
    expect(visit.status).toBe(303);
    expect(visit.headers.get('location')).toBe('/?line=0972101010');
    const cookie = (visit.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect(visit.headers.get('set-cookie')).toContain('HttpOnly');
    const page = await fetch(`${url}/`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const basic = Buffer.from(`anyone:${token}`).toString('base64');
    expect((await fetch(`${url}/board/state`, { headers: { authorization: `Basic ${basic}` } })).status).toBe(
      200,
    );
    expect(
      (await fetch(`${url}/board/state`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
  });

  it('the page and its state never carry the OVH token', async () => {
    const { stream, url, board } = await rig();
    stream.push(
      ...normalize(
        scenario()
          .inboundAnswered({
            from: '0612345678',
            to: '0972101010',
            ringSeconds: 5,
            talkSeconds: 30,
            callId: 't-1',
          })
          .events(),
      ),
    );
    await waitFor(() => board.model.call('t-1')?.logging.crm === 'logged', 'logged');
    const state = await (await fetch(`${url}/board/state`)).text();
    expect(state).toContain('Alice Martin');
    expect(state).not.toContain(TOKEN);
  });
});
