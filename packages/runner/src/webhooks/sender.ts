import { type ActivityRef, AdapterError, type OutboxEntry } from '@cti-bridge/core';
import { signWebhook, WEBHOOK_HEADERS } from './sign.js';

/** What a webhook outbox entry holds: the body is fixed at enqueue time, so a retry sends it again byte for byte. */
export interface WebhookEntryPayload {
  readonly type: string;
  readonly body: string;
}

/** Options of {@link webhookSender}. */
export interface WebhookSenderOptions {
  readonly url: string;
  readonly secret: string;
  /** Epoch ms (default `Date.now`): the signature's timestamp. */
  readonly clock?: () => number;
}

function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * Sends one webhook entry: POST of its JSON body, signed at each attempt with the current time.
 * 2xx delivers; 429 and 408/425/5xx and network errors retry (Retry-After honoured); 401/403 pause
 * the target (a secret or access problem a person fixes: nothing is dropped); redirects and other
 * 4xx are dead letters.
 */
export function webhookSender(options: WebhookSenderOptions) {
  const clock = options.clock ?? Date.now;
  const host = new URL(options.url).host;
  return async (entry: OutboxEntry, ctx: { readonly signal?: AbortSignal }): Promise<ActivityRef> => {
    const payload = entry.payload as Partial<WebhookEntryPayload> | null;
    if (typeof payload?.body !== 'string') {
      throw new AdapterError('invalid', `webhook entry ${entry.id} has no body`);
    }
    const timestamp = Math.floor(clock() / 1000);
    let response: Response;
    try {
      response = await fetch(options.url, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'cti-bridge-webhooks/1',
          [WEBHOOK_HEADERS.id]: entry.id,
          [WEBHOOK_HEADERS.timestamp]: String(timestamp),
          [WEBHOOK_HEADERS.signature]: signWebhook(options.secret, timestamp, payload.body),
        },
        body: payload.body,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
    } catch (error) {
      throw new AdapterError(
        'transient',
        `webhook ${host}: ${error instanceof Error ? error.message : String(error)}`,
        {
          cause: error,
        },
      );
    }
    await response.body?.cancel().catch(() => {});
    const status = response.status;
    if (status >= 200 && status < 300) return { id: entry.id, created: true };
    const wait = retryAfterMs(response.headers.get('retry-after'));
    const base = { status, retryAfterMs: wait };
    if (status === 429) throw new AdapterError('rate-limit', `webhook ${host} answered 429`, base);
    if (status === 408 || status === 425 || status >= 500)
      throw new AdapterError('transient', `webhook ${host} answered ${status}`, base);
    if (status === 401 || status === 403)
      throw new AdapterError(
        'auth',
        `webhook ${host} refused the request (${status}): check its secret`,
        base,
      );
    throw new AdapterError('invalid', `webhook ${host} answered ${status}; not retried`, base);
  };
}
