import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BoardChange, BoardSnapshot } from './model.js';

/** Options of {@link BoardHub}. */
export interface BoardHubOptions {
  /** The board now, sent first to a page that cannot resume. */
  readonly snapshot: () => BoardSnapshot;
  /** Events kept for resuming (default 2 000). A page further behind gets a snapshot instead. */
  readonly bufferSize?: number;
  /** Bytes queued for one page before it is dropped as too slow (default 256 KiB). */
  readonly maxClientBytes?: number;
  /** Pages connected at once (default 500); more are refused with 503. */
  readonly maxClients?: number;
  /** Comment lines keep idle connections open through proxies (default 15 s; 0 disables). */
  readonly heartbeatMs?: number;
  /** Tells the browser how soon to reconnect (default 1 000 ms). */
  readonly retryMs?: number;
  /** This process's event id prefix (default random): ids of another run never resume here. */
  readonly epoch?: string;
}

/** Counters of a {@link BoardHub}. */
export interface BoardHubStats {
  readonly clients: number;
  /** Pages dropped because they read too slowly. */
  readonly dropped: number;
  /** Pages that resumed from `Last-Event-ID` (no snapshot needed). */
  readonly resumed: number;
  readonly snapshots: number;
  /** Id number of the last event. */
  readonly seq: number;
}

interface Buffered {
  readonly seq: number;
  readonly frame: string;
}

interface Client {
  readonly res: ServerResponse;
}

/**
 * Server-Sent Events for the board. Every change gets an id `<epoch>-<seq>`; a page reconnecting
 * with `Last-Event-ID` of this run, still in the buffer, receives exactly the events after it (none
 * missed, none repeated); any other page (new, from an earlier run, or too far behind) gets the
 * whole board first as a `snapshot` event carrying the current id. Each change is serialised once
 * for every page. A page whose unsent bytes exceed `maxClientBytes` is disconnected (its browser
 * reconnects and resumes or gets a snapshot): memory per page stays bounded.
 */
export class BoardHub {
  readonly epoch: string;
  readonly #snapshot: () => BoardSnapshot;
  readonly #bufferSize: number;
  readonly #maxClientBytes: number;
  readonly #maxClients: number;
  readonly #retryMs: number;
  readonly #buffer: Buffered[] = [];
  readonly #clients = new Set<Client>();
  readonly #heartbeat: NodeJS.Timeout | undefined;
  #seq = 0;
  #dropped = 0;
  #resumed = 0;
  #snapshots = 0;
  #closed = false;

  constructor(options: BoardHubOptions) {
    this.epoch = options.epoch ?? randomBytes(6).toString('hex');
    this.#snapshot = options.snapshot;
    this.#bufferSize = Math.max(1, options.bufferSize ?? 2_000);
    this.#maxClientBytes = options.maxClientBytes ?? 256 * 1024;
    this.#maxClients = options.maxClients ?? 500;
    this.#retryMs = options.retryMs ?? 1_000;
    const heartbeatMs = options.heartbeatMs ?? 15_000;
    if (heartbeatMs > 0) {
      this.#heartbeat = setInterval(() => this.#broadcast(': ping\n\n'), heartbeatMs);
      this.#heartbeat.unref();
    }
  }

  /** Publishes one change to every page; returns its id. */
  publish(change: BoardChange): string {
    this.#seq++;
    const id = `${this.epoch}-${this.#seq}`;
    const frame = `id: ${id}\nevent: ${change.type}\ndata: ${JSON.stringify(change)}\n\n`;
    this.#buffer.push({ seq: this.#seq, frame });
    if (this.#buffer.length > this.#bufferSize)
      this.#buffer.splice(0, this.#buffer.length - this.#bufferSize);
    this.#broadcast(frame);
    return id;
  }

  /**
   * Serves one `/events` request (already authorised). `lastEventId` defaults to the
   * `Last-Event-ID` header, else the `lastEventId` query parameter.
   */
  connect(req: IncomingMessage, res: ServerResponse, lastEventId?: string): void {
    if (this.#closed || this.#clients.size >= this.#maxClients) {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '5' });
      res.end('{"error":"too many board connections; try again later"}');
      return;
    }
    req.socket.setNoDelay(true);
    req.socket.setTimeout(0);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const client: Client = { res };
    this.#clients.add(client);
    const forget = () => this.#clients.delete(client);
    res.on('close', forget);
    req.on('close', forget);
    const header = req.headers['last-event-id'];
    const from = lastEventId ?? (typeof header === 'string' ? header : undefined);
    const replay = this.#replayAfter(from);
    let out = `retry: ${this.#retryMs}\n\n`;
    if (replay) {
      this.#resumed++;
      out += replay.join('');
    } else {
      this.#snapshots++;
      out += `id: ${this.epoch}-${this.#seq}\nevent: snapshot\ndata: ${JSON.stringify(this.#snapshot())}\n\n`;
    }
    this.#write(client, out);
  }

  /** Counters, for metrics and the bench. */
  stats(): BoardHubStats {
    return {
      clients: this.#clients.size,
      dropped: this.#dropped,
      resumed: this.#resumed,
      snapshots: this.#snapshots,
      seq: this.#seq,
    };
  }

  /** Ends every page's stream (they reconnect to the next run). */
  close(): void {
    this.#closed = true;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    for (const client of this.#clients) client.res.end();
    this.#clients.clear();
  }

  /** The frames after `lastEventId`, or undefined when the page needs a snapshot. */
  #replayAfter(lastEventId: string | undefined): string[] | undefined {
    if (lastEventId === undefined) return undefined;
    const dash = lastEventId.lastIndexOf('-');
    if (dash <= 0 || lastEventId.slice(0, dash) !== this.epoch) return undefined;
    const seq = Number(lastEventId.slice(dash + 1));
    if (!Number.isInteger(seq) || seq < 0 || seq > this.#seq) return undefined;
    if (seq === this.#seq) return [];
    const first = this.#buffer[0];
    // Every event after `seq` must still be buffered, else some would be missed.
    if (!first || first.seq > seq + 1) return undefined;
    return this.#buffer.slice(seq + 1 - first.seq).map((b) => b.frame);
  }

  #broadcast(frame: string): void {
    for (const client of this.#clients) this.#write(client, frame);
  }

  #write(client: Client, frame: string): void {
    const { res } = client;
    if (res.destroyed) {
      this.#clients.delete(client);
      return;
    }
    res.write(frame);
    if (res.writableLength > this.#maxClientBytes) {
      // Too slow: drop it rather than buffer without end. Its browser reconnects and resumes.
      this.#dropped++;
      this.#clients.delete(client);
      res.destroy();
    }
  }
}
