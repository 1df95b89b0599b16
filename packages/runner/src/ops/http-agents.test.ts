import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { installRequestDeadlines } from './http-agents.js';

/** GET through the default agent (what the CRM SDKs use); resolves with the body or the error. */
function get(url: string): Promise<string | Error> {
  return new Promise((resolve) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on('end', () => resolve(body));
      })
      .on('error', resolve);
  });
}

describe('request deadlines on the default HTTP agents', () => {
  it('close a kept-alive socket whose second request gets no answer', async () => {
    let requests = 0;
    // answers the first request, then hangs on every later one (a CRM that stops answering)
    const server = http.createServer((_req, res) => {
      requests++;
      if (requests === 1) res.end('first');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    // the first request must not meet the deadline on a busy machine: 1 s, not 200 ms (timeouts of
    // 100-150 ms cut loopback requests short elsewhere under heavy load)
    const deadlines = installRequestDeadlines({ idleTimeoutMs: 1_000 });
    try {
      expect(await get(url)).toBe('first');
      // the same socket, reused from the pool: it must keep its deadline
      const second = await get(url);
      expect(second).toBeInstanceOf(Error);
      expect(String(second)).toMatch(/request deadline|socket hang up/);
      expect(requests).toBe(2);
    } finally {
      deadlines.close();
      server.closeAllConnections();
      server.close();
    }
  }, 10_000);
});
