import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { delay, FaultQueue, listenFakeServer, RequestLog } from '../fake-server/index.js';
import { toOvhEnvelopeJson } from './json.js';

/** Options of {@link startFakeOvhEventsServer}. */
export interface FakeOvhEventsServerOptions {
  /** How long an empty poll is held before answering `Events: []`. Default 1,000 ms (OVH: ≈60 s). */
  readonly holdMs?: number;
  /** At most this many events per answer; the rest wait for the next poll. Default 200. */
  readonly maxBatch?: number;
  /** Sessions kept per token (oldest forgotten, their buffered events with them). Default 4. */
  readonly sessionsPerToken?: number;
}

/** Which requests a fault applies to. */
interface FaultScope {
  /** How many requests (or, for `duplicate`, answers carrying events) it applies to. Default 1. */
  readonly times?: number;
  /** Only requests for this token. Default: any. */
  readonly token?: string;
}

/** A fault to inject into the next request(s). */
export type FakeOvhEventsFault =
  /** Answers with an HTTP error status (default 500) and a short body. */
  | (FaultScope & { readonly type: 'http-error'; readonly status?: number; readonly body?: string })
  /** Answers 200 with a body that is not JSON (default: an HTML gateway error page). */
  | (FaultScope & { readonly type: 'garbage'; readonly body?: string })
  /**
   * Answers 200 with a body of `bytes` bytes that never closes its JSON (a broken or hostile
   * server): the start of an envelope, then one huge string, written in 64 KiB chunks.
   */
  | (FaultScope & { readonly type: 'huge'; readonly bytes: number })
  /** Waits `delayMs` before handling the request normally (then holds it as usual). */
  | (FaultScope & { readonly type: 'slow'; readonly delayMs: number })
  /** Destroys the socket without answering. */
  | (FaultScope & { readonly type: 'drop' })
  /** The next answer carrying events is delivered again on the following poll (`TsGet` changed). */
  | (FaultScope & { readonly type: 'duplicate' })
  /** Immediately forgets every session (their buffered events are lost, as on a server restart). */
  | { readonly type: 'session-reset' };

/** A request the fake received. */
export interface FakeOvhEventsRequest {
  readonly token: string;
  /** The `session` query parameter, when sent. */
  readonly session?: string;
  /** Epoch ms. */
  readonly at: number;
  /** What the fake did: answered with events, held then answered empty, or a fault. */
  outcome?: 'events' | 'empty' | 'http-error' | 'garbage' | 'huge' | 'drop' | 'aborted';
  /** When it answered with events (epoch ms), and the `CallId` (or queue member) of each. */
  answeredAt?: number;
  callIds?: string[];
}

/** A running fake of `events.voip.ovh.net` (v1). */
export interface FakeOvhEventsServer {
  /** Base URL to give the client as `baseUrl` (`http://127.0.0.1:PORT`). */
  readonly url: string;
  /**
   * Queues raw events for a token: appended to every live session of the token (a client that
   * echoes its `Session` misses nothing); when the token has no session yet, kept for the first one.
   * A held poll is answered at once. Bigint values are written as bare JSON integers.
   */
  push(token: string, events: readonly unknown[]): void;
  inject(fault: FakeOvhEventsFault): void;
  /** Every request received so far (copies). */
  requests(): FakeOvhEventsRequest[];
  /** Events buffered for a token and not yet delivered (all sessions and backlog). */
  pending(token: string): number;
  /** Polls currently held open. */
  held(): number;
  close(): Promise<void>;
}

interface Session {
  readonly id: string;
  readonly token: string;
  queue: unknown[];
  waiter?: Waiter;
}

interface Waiter {
  flush(): void;
}

type ScopedFault = Exclude<FakeOvhEventsFault, { type: 'session-reset' }>;

const GARBAGE = '<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>';

/**
 * Starts a fake OVH events server on 127.0.0.1 (random port) with v1 semantics:
 * `GET /?token=T[&session=S]` answers `{Session, Message, Events}`; a poll is held until events
 * arrive or `holdMs` passes; a request without a known session gets a new session; events are
 * buffered per session between polls. Faults are injected with {@link FakeOvhEventsServer.inject}.
 */
export async function startFakeOvhEventsServer(
  options: FakeOvhEventsServerOptions = {},
): Promise<FakeOvhEventsServer> {
  const holdMs = options.holdMs ?? 1000;
  const maxBatch = options.maxBatch ?? 200;
  const sessionsPerToken = Math.max(1, options.sessionsPerToken ?? 4);
  const sessions = new Map<string, Session>();
  const byToken = new Map<string, Session[]>();
  const backlog = new Map<string, unknown[]>();
  const faults = new FaultQueue<ScopedFault>();
  const log = new RequestLog<FakeOvhEventsRequest>();
  let heldCount = 0;

  const takeFault = (token: string, types: ReadonlyArray<ScopedFault['type']>): ScopedFault | undefined =>
    faults.take((f) => types.includes(f.type) && (f.token === undefined || f.token === token));

  const newSession = (token: string): Session => {
    const session: Session = { id: randomBytes(12).toString('hex'), token, queue: backlog.get(token) ?? [] };
    backlog.delete(token);
    sessions.set(session.id, session);
    const list = byToken.get(token) ?? [];
    list.push(session);
    while (list.length > sessionsPerToken) {
      const old = list.shift() as Session;
      old.waiter?.flush();
      sessions.delete(old.id);
    }
    byToken.set(token, list);
    return session;
  };

  const bumpTsGet = (event: unknown): unknown => {
    if (event === null || typeof event !== 'object') return event;
    const record = event as Record<string, unknown>;
    const data = record.Data as Record<string, unknown> | undefined;
    if (!data || data.TsGet === undefined) return event;
    const tsGet = data.TsGet;
    const bumped =
      typeof tsGet === 'bigint' ? tsGet + 1_000_000n : typeof tsGet === 'number' ? tsGet + 1e6 : tsGet;
    return { ...record, Data: { ...data, TsGet: bumped } };
  };

  const answer = (res: ServerResponse, session: Session, entry: FakeOvhEventsRequest) => {
    const batch = session.queue.splice(0, maxBatch);
    if (batch.length > 0 && takeFault(session.token, ['duplicate'])) {
      session.queue.unshift(...batch.map(bumpTsGet));
    }
    entry.outcome = batch.length > 0 ? 'events' : 'empty';
    if (batch.length > 0) {
      entry.answeredAt = Date.now();
      entry.callIds = batch.map((event) => {
        const data = (event as { Data?: { CallId?: unknown; QueueMemberUUID?: unknown } }).Data;
        return String(data?.CallId ?? data?.QueueMemberUUID ?? '');
      });
    }
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(toOvhEnvelopeJson(session.id, batch));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const token = url.searchParams.get('token') ?? '';
    const sessionParam = url.searchParams.get('session') ?? undefined;
    const entry: FakeOvhEventsRequest = {
      token,
      ...(sessionParam !== undefined ? { session: sessionParam } : {}),
      at: Date.now(),
    };
    log.record(entry);
    if (req.method !== 'GET' || url.pathname !== '/' || !token) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('token is required');
      return;
    }
    const slow = takeFault(token, ['slow']);
    if (slow && slow.type === 'slow') await delay(slow.delayMs);
    if (req.destroyed || res.destroyed) {
      entry.outcome = 'aborted';
      return;
    }
    const fault = takeFault(token, ['http-error', 'garbage', 'huge', 'drop']);
    if (fault?.type === 'huge') {
      entry.outcome = 'huge';
      res.writeHead(200, { 'content-type': 'application/json' });
      let left = fault.bytes;
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        // writes until the budget is spent or the client hangs up (back-pressure respected)
        while (left > 0 && !res.destroyed) {
          const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
          left -= part.length;
          if (!res.write(part)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      res.write('{"Session":"s","Message":"');
      pump();
      return;
    }
    if (fault?.type === 'drop') {
      entry.outcome = 'drop';
      req.socket.destroy();
      return;
    }
    if (fault?.type === 'http-error') {
      entry.outcome = 'http-error';
      res.writeHead(fault.status ?? 500, { 'content-type': 'text/plain' });
      res.end(fault.body ?? 'Internal Server Error');
      return;
    }
    if (fault?.type === 'garbage') {
      entry.outcome = 'garbage';
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(fault.body ?? GARBAGE);
      return;
    }
    const known = sessionParam ? sessions.get(sessionParam) : undefined;
    const session = known && known.token === token ? known : newSession(token);
    if (session.queue.length > 0) {
      answer(res, session, entry);
      return;
    }
    // Hold the poll until events arrive or the hold time passes.
    session.waiter?.flush();
    heldCount++;
    let done = false;
    const finish = (respond: boolean) => {
      if (done) return;
      done = true;
      heldCount--;
      clearTimeout(timer);
      if (session.waiter === waiter) delete session.waiter;
      if (respond && !res.destroyed) answer(res, session, entry);
      else entry.outcome = 'aborted';
    };
    const waiter: Waiter = { flush: () => finish(true) };
    const timer = setTimeout(() => finish(true), holdMs);
    session.waiter = waiter;
    res.on('close', () => finish(false));
  };

  const http = await listenFakeServer(
    (req, res) => {
      handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    },
    { keepAliveTimeoutMs: 30_000 },
  );

  return {
    url: http.url,
    push(token, events) {
      const list = byToken.get(token);
      if (!list || list.length === 0) {
        const pending = backlog.get(token) ?? [];
        pending.push(...events);
        backlog.set(token, pending);
        return;
      }
      for (const session of list) {
        session.queue.push(...events);
        session.waiter?.flush();
      }
    },
    inject(fault) {
      if (fault.type === 'session-reset') {
        for (const session of sessions.values()) session.waiter?.flush();
        sessions.clear();
        byToken.clear();
        return;
      }
      faults.inject(fault);
    },
    requests() {
      return log.list().map((entry) => ({ ...entry }));
    },
    pending(token) {
      const list = byToken.get(token) ?? [];
      return (backlog.get(token)?.length ?? 0) + list.reduce((n, s) => n + s.queue.length, 0);
    },
    held() {
      return heldCount;
    },
    async close() {
      for (const session of sessions.values()) session.waiter?.flush();
      await http.close();
    },
  };
}
