import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request, undiciSource } from './http.js';

interface Seen {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly body: string;
  readonly headers: IncomingMessage['headers'];
}

let server: Server;
let base: string;
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, body, headers: req.headers });
      res.writeHead(req.url?.startsWith('/missing') ? 404 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, url: req.url }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('undici through its own modules', () => {
  it("loads undici's Agent and request modules, not the package index (the lean path)", () => {
    // 'index' means an undici update moved lib/dispatcher/agent.js or lib/api/index.js: the
    // clients still work, but the runner's idle memory grows by the modules it does not need.
    expect(undiciSource).toBe('parts');
  });

  it('sends a GET with its query string through the given Agent and reads the answer', async () => {
    const agent = new Agent();
    try {
      const response = await request(`${base}/poll?token=a%20b&session=s1`, {
        dispatcher: agent,
        headers: { accept: 'application/json' },
      });
      expect(response.statusCode).toBe(200);
      expect(await response.body.json()).toEqual({ method: 'GET', url: '/poll?token=a%20b&session=s1' });
      expect(seen.at(-1)?.headers.accept).toBe('application/json');
    } finally {
      await agent.close();
    }
  });

  it("sends a body with the method asked, through undici's global dispatcher when none is given", async () => {
    const response = await request(`${base}/1.0/thing`, {
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.statusCode).toBe(200);
    await response.body.dump();
    expect(seen.at(-1)).toMatchObject({ method: 'POST', url: '/1.0/thing', body: '{"a":1}' });
  });

  it('returns error statuses as answers, not exceptions', async () => {
    const response = await request(`${base}/missing`);
    expect(response.statusCode).toBe(404);
    await response.body.dump();
  });

  it('rejects when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(request(`${base}/poll`, { signal: controller.signal })).rejects.toThrow();
  });
});
