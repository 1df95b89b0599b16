import type { IncomingMessage, ServerResponse } from 'node:http';
import { authorise, BOARD_COOKIE } from './access.js';
import type { BoardHub } from './hub.js';
import type { BoardModel } from './model.js';
import { BOARD_HEADERS, type StaticFile } from './static.js';

/** Sends a static file of the board (headers only for HEAD). */
function sendFile(res: ServerResponse, file: StaticFile, head: boolean): void {
  res.writeHead(200, { ...BOARD_HEADERS, 'content-type': file.type, 'cache-control': 'no-cache' });
  res.end(head ? undefined : file.body);
}

/** 401: the board needs its token. */
function refuse(res: ServerResponse): void {
  res.writeHead(401, {
    ...BOARD_HEADERS,
    'content-type': 'text/plain; charset=utf-8',
    'www-authenticate': 'Basic realm="cti-bridge board", charset="UTF-8"',
    'cache-control': 'no-store',
  });
  res.end(
    'The live board needs its token: open /?token=<http.boardToken>, or sign in with any user name and the token as password.\n',
  );
}

/**
 * The board's HTTP routes: `/`, `/board.js`, `/board.css`, `/board/state` and `/events` (false for
 * other paths), behind the board token when there is one.
 */
export function boardRoutes(
  files: ReadonlyMap<string, StaticFile>,
  model: BoardModel,
  hub: BoardHub,
  token: string | undefined,
): (req: IncomingMessage, res: ServerResponse, url: URL) => boolean {
  return (req, res, url) => {
    const path = url.pathname;
    const file = files.get(path);
    if (!file && path !== '/events' && path !== '/board/state') return false;
    const access = authorise(req, url, token);
    if (!access.ok) {
      refuse(res);
      return true;
    }
    if (access.via === 'query' && path === '/' && token !== undefined) {
      // Keep the token out of the address bar and history: a cookie carries it from now on.
      url.searchParams.delete('token');
      res.writeHead(303, {
        ...BOARD_HEADERS,
        location: `/${url.search}`,
        'set-cookie': `${BOARD_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
        'cache-control': 'no-store',
      });
      res.end();
      return true;
    }
    if (path === '/events') {
      if (req.method === 'HEAD') {
        res.writeHead(200, { ...BOARD_HEADERS, 'content-type': 'text/event-stream; charset=utf-8' });
        res.end();
        return true;
      }
      hub.connect(req, res);
      return true;
    }
    if (path === '/board/state') {
      res.writeHead(200, {
        ...BOARD_HEADERS,
        'content-type': 'application/json',
        'cache-control': 'no-store',
      });
      res.end(JSON.stringify(model.snapshot()));
      return true;
    }
    sendFile(res, file as StaticFile, req.method === 'HEAD');
    return true;
  };
}
