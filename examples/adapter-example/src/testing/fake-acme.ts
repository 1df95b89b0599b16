import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultQueue, listenFakeServer, RequestLog } from '@cti-bridge/core/testing';

/** A contact held by the fake. */
export interface FakeAcmeContact {
  id: string;
  name: string;
  kind: 'person' | 'company';
  phone: string;
  updated_at?: string;
}

/** A call activity held by the fake. */
export interface FakeAcmeCall {
  id: string;
  external_id: string;
  call_id: string;
  contact_id: string | null;
  direction: string;
  outcome: string;
  duration_seconds: number;
  subject: string;
  body: string;
}

/** A scripted failure: the next `times` requests of a family answer with `status`. */
export interface FakeAcmeFault {
  status: number;
  on: 'lookup' | 'write' | 'any';
  times: number;
  retryAfterSeconds?: number;
}

/** A running fake Acme CRM. */
export interface FakeAcmeCrm {
  readonly url: string;
  readonly apiKey: string;
  readonly contacts: FakeAcmeContact[];
  readonly calls: FakeAcmeCall[];
  /** Every request received: method and path (query included); a new array on each read. */
  readonly requests: Array<{ method: string; path: string }>;
  addContact(contact: Omit<FakeAcmeContact, 'id'>): FakeAcmeContact;
  fail(fault: FakeAcmeFault): void;
  reset(): void;
  close(): Promise<void>;
}

const ERROR_BODIES: Record<number, { error: string; message: string }> = {
  400: { error: 'validation_failed', message: 'the request body is invalid' },
  401: { error: 'unauthorized', message: 'missing or invalid API key' },
  429: { error: 'rate_limited', message: 'too many requests' },
  500: { error: 'server_error', message: 'internal error' },
  503: { error: 'unavailable', message: 'service unavailable, try again later' },
};

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
}

/**
 * Starts a fake Acme CRM on 127.0.0.1 (random port). It speaks the same REST API as the real one
 * (as far as this example is concerned): bearer-key auth, contact search by phone suffix, call
 * creation unique on `external_id` (201 new, 200 existing), JSON error bodies, Retry-After on 429.
 * Listening, closing, the request log and the fault queue come from core's fake-server kit
 * (`@cti-bridge/core/testing`).
 */
export async function startFakeAcmeCrm(options: { apiKey?: string } = {}): Promise<FakeAcmeCrm> {
  const apiKey = options.apiKey ?? `acme-key-${randomUUID()}`;
  const contacts: FakeAcmeContact[] = [];
  const calls: FakeAcmeCall[] = [];
  const requests = new RequestLog<{ method: string; path: string }>();
  const faults = new FaultQueue<FakeAcmeFault>();
  let seq = 0;

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const http = await listenFakeServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      requests.record({ method: req.method ?? 'GET', path: `${url.pathname}${url.search}` });
      const family = req.method === 'POST' ? 'write' : 'lookup';
      const fault = faults.take((f) => f.on === 'any' || f.on === family);
      if (fault) {
        const body = ERROR_BODIES[fault.status] ?? { error: 'error', message: `HTTP ${fault.status}` };
        return send(
          res,
          fault.status,
          body,
          fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) },
        );
      }
      if (req.headers.authorization !== `Bearer ${apiKey}`) return send(res, 401, ERROR_BODIES[401]);
      if (req.method === 'GET' && url.pathname === '/api/me')
        return send(res, 200, { data: { account: 'acme-demo' } });
      if (req.method === 'GET' && url.pathname === '/api/contacts') {
        const suffix = (url.searchParams.get('phone_suffix') ?? '').replace(/\D/g, '');
        if (suffix.length < 6)
          return send(res, 400, { error: 'validation_failed', message: 'phone_suffix: 6 digits at least' });
        return send(res, 200, { data: contacts.filter((c) => c.phone.replace(/\D/g, '').endsWith(suffix)) });
      }
      if (req.method === 'POST' && url.pathname === '/api/calls') {
        const body = await readJson(req);
        if (typeof body.external_id !== 'string' || typeof body.call_id !== 'string') {
          return send(res, 400, {
            error: 'validation_failed',
            message: 'external_id and call_id are required',
          });
        }
        const existing = calls.find((c) => c.external_id === body.external_id);
        if (existing) return send(res, 200, { data: existing });
        const call: FakeAcmeCall = {
          id: `call-${++seq}`,
          external_id: body.external_id,
          call_id: body.call_id,
          contact_id: typeof body.contact_id === 'string' ? body.contact_id : null,
          direction: String(body.direction),
          outcome: String(body.outcome),
          duration_seconds: Number(body.duration_seconds),
          subject: String(body.subject),
          body: String(body.body),
        };
        calls.push(call);
        return send(res, 201, { data: call });
      }
      send(res, 404, { error: 'not_found', message: `no route ${req.method} ${url.pathname}` });
    })().catch((error: unknown) => send(res, 500, { error: 'server_error', message: String(error) }));
  });

  return {
    url: http.url,
    apiKey,
    contacts,
    calls,
    get requests() {
      return requests.list();
    },
    addContact(contact) {
      const stored = { id: `contact-${++seq}`, ...contact };
      contacts.push(stored);
      return stored;
    },
    fail(fault) {
      faults.inject({ ...fault });
    },
    reset() {
      contacts.length = 0;
      calls.length = 0;
      requests.clear();
      faults.clear();
    },
    close: () => http.close(),
  };
}
