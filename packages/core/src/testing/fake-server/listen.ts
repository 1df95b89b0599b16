import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Options of {@link listenFakeServer}. */
export interface ListenFakeServerOptions {
  /** `server.keepAliveTimeout`, ms. Default: Node's (5 s). */
  readonly keepAliveTimeoutMs?: number;
}

/** An HTTP server of a fake, listening on 127.0.0.1 at a port the system chose. */
export interface FakeHttpServer {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  /** The Node server, for what a fake needs beyond this kit. */
  readonly server: Server;
  /** TCP connections open to the server now (a client that leaks sockets shows here). */
  openConnections(): Promise<number>;
  /**
   * Stops listening and ends every connection, idle or busy (held polls and hung requests
   * included). Calling it again returns the same promise.
   */
  close(): Promise<void>;
}

/**
 * Starts an HTTP server for a fake on 127.0.0.1, port 0 (the system picks a free one), with
 * `handler` answering every request. Rejects when the server cannot listen.
 */
export async function listenFakeServer(
  handler: RequestListener,
  options: ListenFakeServerOptions = {},
): Promise<FakeHttpServer> {
  const server = createServer(handler);
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    openConnections: () =>
      new Promise<number>((resolve, reject) =>
        server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
      ),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
