import { request } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FaultQueue } from './fault-queue.js';
import { delay, Latency } from './latency.js';
import { type FakeHttpServer, listenFakeServer } from './listen.js';
import { RequestLog } from './request-log.js';

describe('listenFakeServer', () => {
  let http: FakeHttpServer | undefined;
  afterEach(async () => {
    await http?.close();
    http = undefined;
  });

  it('listens on 127.0.0.1 at a free port and answers with the handler', async () => {
    http = await listenFakeServer((_req, res) => res.end('ok'));
    expect(http.url).toBe(`http://127.0.0.1:${http.port}`);
    expect(http.port).toBeGreaterThan(0);
    const answer = await fetch(http.url);
    expect(await answer.text()).toBe('ok');
  });

  it('close ends busy connections (a request never answered), and a second close is the same', async () => {
    http = await listenFakeServer(() => {
      // never answers
    });
    const { port } = http;
    const failed = new Promise<Error>((resolve) => {
      request({ host: '127.0.0.1', port, path: '/' }, () => {})
        .on('error', resolve)
        .end();
    });
    await vi.waitFor(async () => expect(await http?.openConnections()).toBe(1));
    const first = http.close();
    expect(http.close()).toBe(first);
    await first;
    expect((await failed).message).toMatch(/socket hang up|ECONNRESET/);
  });

  it('sets the keep-alive timeout when asked', async () => {
    http = await listenFakeServer((_req, res) => res.end(), { keepAliveTimeoutMs: 30_000 });
    expect(http.server.keepAliveTimeout).toBe(30_000);
  });
});

describe('RequestLog', () => {
  it('records in order, lists a new array each time, clears', () => {
    const log = new RequestLog<{ path: string; status?: number }>();
    const entry = log.record({ path: '/a' });
    log.record({ path: '/b' });
    entry.status = 200;
    const listed = log.list();
    expect(listed).toEqual([{ path: '/a', status: 200 }, { path: '/b' }]);
    listed.pop();
    expect(log.size).toBe(2);
    log.clear();
    expect(log.list()).toEqual([]);
  });
});

describe('FaultQueue', () => {
  type Fault = { readonly on: 'read' | 'write'; readonly times?: number; readonly name: string };

  it('gives the first matching fault in injection order, `times` times (default once)', () => {
    const faults = new FaultQueue<Fault>();
    faults.inject({ on: 'write', name: 'w', times: 2 });
    faults.inject({ on: 'read', name: 'r1' });
    faults.inject({ on: 'read', name: 'r2' });
    const isRead = (f: Fault) => f.on === 'read';
    const isWrite = (f: Fault) => f.on === 'write';
    expect(faults.take(isRead)?.name).toBe('r1');
    expect(faults.take(isWrite)?.name).toBe('w');
    expect(faults.pending().map((p) => [p.fault.name, p.remaining])).toEqual([
      ['w', 1],
      ['r2', 1],
    ]);
    expect(faults.take(isWrite)?.name).toBe('w');
    expect(faults.take(isWrite)).toBeUndefined();
    expect(faults.take()?.name).toBe('r2');
    expect(faults.take()).toBeUndefined();
  });

  it('a fault with times 0 never applies; clear drops every fault', () => {
    const faults = new FaultQueue<Fault>();
    faults.inject({ on: 'read', name: 'never', times: 0 });
    expect(faults.take()).toBeUndefined();
    faults.inject({ on: 'read', name: 'x', times: 5 });
    faults.clear();
    expect(faults.take()).toBeUndefined();
  });
});

describe('Latency', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('wait: no timer without a delay, the delay otherwise; set changes it', async () => {
    vi.useFakeTimers();
    const latency = new Latency();
    await latency.wait();
    latency.set(250);
    expect(latency.ms).toBe(250);
    let done = false;
    const waiting = latency.wait().then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(249);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await waiting;
    expect(done).toBe(true);
  });

  it('schedule: after the larger of the delay and atLeastMs, always on a timer; cancellable', async () => {
    vi.useFakeTimers();
    const latency = new Latency(0);
    const ran: string[] = [];
    latency.schedule(() => ran.push('zero'));
    expect(ran).toEqual([]);
    await vi.advanceTimersByTimeAsync(0);
    expect(ran).toEqual(['zero']);
    latency.set(100);
    latency.schedule(() => ran.push('at-least'), 300);
    const cancel = latency.schedule(() => ran.push('cancelled'));
    cancel();
    await vi.advanceTimersByTimeAsync(299);
    expect(ran).toEqual(['zero']);
    await vi.advanceTimersByTimeAsync(1);
    expect(ran).toEqual(['zero', 'at-least']);
  });

  it('delay resolves after its time', async () => {
    vi.useFakeTimers();
    let done = false;
    const waiting = delay(50).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(49);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await waiting;
    expect(done).toBe(true);
  });
});
