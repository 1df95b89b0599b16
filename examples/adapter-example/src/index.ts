/**
 * An example third-party cti-bridge adapter for "Acme CRM", a small REST CRM. It depends on
 * `@cti-bridge/core` alone (as a peer dependency) and shows everything an adapter does: option
 * validation, phone lookup with ranking, idempotent call logging, error mapping, a health check.
 *
 * @packageDocumentation
 */
import {
  type ActivityRef,
  type AdapterContext,
  AdapterError,
  type CallRecord,
  type ContactMatch,
  type CrmAdapter,
  type FindContactsQuery,
  formatPhone,
  type HealthReport,
  type LogCallContext,
  type MatchCandidate,
  rankMatches,
} from '@cti-bridge/core';
import { classifyHttpFailure, classifyNetworkError, redactSecrets } from '@cti-bridge/core/adapter';

/** Options of {@link acmeCrm}. */
export interface AcmeCrmOptions {
  /** Base URL of the Acme CRM API, e.g. `https://acme.example.com`. */
  readonly baseUrl: string;
  /** API key (Settings → API keys). Sent as a bearer token; never logged. */
  readonly apiKey: string;
  /** Adapter name in keys and logs (default `acme-crm`). */
  readonly name?: string;
  /** Per-request timeout in ms (default 15 000). */
  readonly timeoutMs?: number;
}

/** A contact as Acme CRM's API returns it. */
interface AcmeContact {
  readonly id: string;
  readonly name: string;
  readonly kind: 'person' | 'company';
  readonly phone: string;
  readonly updated_at?: string;
}

/** A call activity as Acme CRM's API returns it. */
interface AcmeCall {
  readonly id: string;
}

function validate(options: AcmeCrmOptions): Required<AcmeCrmOptions> {
  const problems: string[] = [];
  let url: URL | undefined;
  try {
    url = new URL(options.baseUrl);
  } catch {
    problems.push('baseUrl: expected a URL such as https://acme.example.com');
  }
  if (typeof options.apiKey !== 'string' || options.apiKey.trim() === '') {
    problems.push("apiKey: expected the Acme CRM API key (use env('ACME_API_KEY'))");
  }
  if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
    problems.push('timeoutMs: expected a positive number of milliseconds');
  }
  if (problems.length > 0 || url === undefined) {
    throw new AdapterError('invalid', `acmeCrm options are invalid: ${problems.join('; ')}`);
  }
  return {
    baseUrl: url.toString().replace(/\/+$/, ''),
    apiKey: options.apiKey,
    name: options.name ?? 'acme-crm',
    timeoutMs: options.timeoutMs ?? 15_000,
  };
}

/** Words a salesperson reads in the activity subject. */
function subjectOf(call: CallRecord): string {
  const who = call.remoteName ?? formatPhone(call.remote);
  if (call.outcome === 'missed') return `Missed call from ${who}`;
  if (call.outcome === 'busy') return `Busy: call from ${who}`;
  if (call.direction === 'outbound') {
    return call.outcome === 'cancelled' ? `Outbound call to ${who} (no answer)` : `Outbound call to ${who}`;
  }
  return `Inbound call from ${who}`;
}

function bodyOf(call: CallRecord): string {
  const lines = [
    `Direction: ${call.direction}`,
    `Outcome: ${call.outcome}`,
    `Talk time: ${call.talkSeconds} s (rang ${call.ringSeconds} s${call.holdSeconds > 0 ? `, on hold ${call.holdSeconds} s` : ''})`,
    `Our line: ${call.lineLabel ? `${call.lineLabel} ` : ''}${formatPhone(call.line)}`,
  ];
  if (call.queue) {
    lines.push(
      `Queue: ${call.queue.queue}, waited ${call.queue.waitSeconds} s${call.queue.agent ? `, agent ${call.queue.agent}` : ''}`,
    );
  }
  lines.push(`OVH call id: ${call.callId}`);
  return lines.join('\n');
}

/**
 * Creates the Acme CRM adapter. Lookups search contacts by the national digits of the number and
 * post-filter and rank them with core's `rankMatches`; calls are written with the idempotency key
 * as `external_id`, which Acme CRM keeps unique, so a retried write never duplicates an activity.
 *
 * ```ts
 * adapters: { acme: acmeCrm({ baseUrl: 'https://acme.example.com', apiKey: env('ACME_API_KEY') }) }
 * ```
 */
export function acmeCrm(options: AcmeCrmOptions): CrmAdapter {
  const config = validate(options);
  const secrets = [config.apiKey];

  /** One HTTP request to Acme CRM, with errors mapped to AdapterError kinds. */
  async function request<T>(
    method: 'GET' | 'POST',
    path: string,
    ctx: AdapterContext,
    body?: unknown,
  ): Promise<{ status: number; data: T }> {
    const signals = [AbortSignal.timeout(config.timeoutMs)];
    if (ctx.signal) signals.push(ctx.signal);
    let response: Response;
    try {
      response = await fetch(`${config.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${config.apiKey}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.any(signals),
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const network = classifyNetworkError(error);
      throw new AdapterError('transient', `Acme CRM is unreachable (${method} ${path}): ${reason}`, {
        ...(network ? { code: network.code } : {}),
        cause: error,
      });
    }
    const text = await response.text();
    let json: { data?: T; error?: string; message?: string } = {};
    try {
      json = text === '' ? {} : (JSON.parse(text) as typeof json);
    } catch {
      // A non-JSON body (proxy error page): handled by status below.
    }
    if (response.ok) return { status: response.status, data: json.data as T };
    const detail = scrub(json.message ?? json.error ?? `HTTP ${response.status}`, secrets);
    const common = { status: response.status, ...(json.error ? { code: json.error } : {}) };
    const failure = classifyHttpFailure({ status: response.status, headers: response.headers });
    const wait = failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs };
    switch (failure.kind) {
      case 'auth':
        throw new AdapterError(
          'auth',
          `Acme CRM rejected the API key (${detail}): create a new key in Settings → API keys`,
          common,
        );
      case 'rate-limit':
        throw new AdapterError('rate-limit', `Acme CRM rate limit reached: ${detail}`, {
          ...common,
          ...wait,
        });
      case 'not-found':
      case 'conflict':
        throw new AdapterError(failure.kind, `Acme CRM: ${detail}`, common);
      case 'invalid':
        throw new AdapterError('invalid', `Acme CRM rejected the request: ${detail}`, common);
      default:
        throw new AdapterError(
          'transient',
          `Acme CRM failed (HTTP ${response.status}): ${detail}; retrying later`,
          { ...common, ...wait },
        );
    }
  }

  const recordUrl = (id: string) => `${config.baseUrl}/contacts/${encodeURIComponent(id)}`;

  return {
    specificationVersion: 'v1',
    name: config.name,
    capabilities: { createContact: false, followUpTask: false, queueSessions: false, batchLogCall: false },

    async findContacts(query: FindContactsQuery, ctx: AdapterContext): Promise<ContactMatch[]> {
      const digits = query.phone.nationalNumber ?? query.phone.e164?.replace(/\D/g, '');
      if (query.phone.withheld || digits === undefined || digits.length < 6) return [];
      const { data } = await request<AcmeContact[]>(
        'GET',
        `/api/contacts?phone_suffix=${encodeURIComponent(digits)}`,
        ctx,
      );
      const candidates: MatchCandidate[] = (data ?? []).map((contact) => ({
        recordType: contact.kind === 'company' ? 'Company' : 'Contact',
        id: contact.id,
        displayName: contact.name,
        kind: contact.kind,
        url: recordUrl(contact.id),
        phones: [contact.phone],
        ...(contact.updated_at ? { lastActivityAt: new Date(contact.updated_at) } : {}),
      }));
      return rankMatches(candidates, query.phone, {
        recordTypePriority: ['Contact', 'Company'],
        limit: query.limit ?? 10,
      });
    },

    async logCall(call: CallRecord, ctx: LogCallContext): Promise<ActivityRef> {
      const { status, data } = await request<AcmeCall>('POST', '/api/calls', ctx, {
        external_id: ctx.idempotencyKey,
        call_id: call.callId,
        contact_id: ctx.match?.id ?? null,
        owner_id: ctx.ownerId ?? null,
        direction: call.direction,
        outcome: call.outcome,
        duration_seconds: call.talkSeconds,
        started_at: call.startedAt.toISOString(),
        subject: subjectOf(call),
        body: bodyOf(call),
      });
      ctx.logger.debug(
        { callId: call.callId, activity: data.id, created: status === 201 },
        'acme call logged',
      );
      return {
        id: data.id,
        url: `${config.baseUrl}/calls/${encodeURIComponent(data.id)}`,
        created: status === 201,
      };
    },

    async check(ctx: AdapterContext): Promise<HealthReport> {
      try {
        const { data } = await request<{ account: string }>('GET', '/api/me', ctx);
        return { ok: true, message: `connected to Acme CRM account ${data.account}` };
      } catch (error) {
        return { ok: false, message: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}

/** The toolkit's redaction rule; the API key is redacted whatever its length. */
function scrub(text: string, secrets: readonly string[]): string {
  return redactSecrets(text, secrets, { minLength: 1 });
}
