import { z } from 'zod';

/** Every event a webhook can subscribe to (payload schema: docs/webhooks.md, version 1). */
export const WEBHOOK_EVENTS = [
  'call.ringing',
  'call.answered',
  'call.ended',
  'call.logged',
  'queue.joined',
  'queue.offered',
  'queue.answered',
  'queue.left',
] as const;

/** One webhook event type. */
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

const eventPattern = z
  .string()
  .refine(
    (pattern) =>
      pattern === '*' ||
      (WEBHOOK_EVENTS as readonly string[]).includes(pattern) ||
      (pattern.endsWith('.*') && WEBHOOK_EVENTS.some((e) => e.startsWith(pattern.slice(0, -1)))),
    { message: `expected one of ${WEBHOOK_EVENTS.join(', ')}, "call.*", "queue.*" or "*"` },
  );

/** One webhook subscriber in the config. */
export const webhookSchema = z.strictObject({
  /** Name of the target in the outbox (`webhook.<name>`); default: its position (`1`, `2`, …). */
  name: z
    .string()
    .regex(/^[\w.-]+$/, { message: 'letters, digits, "_", "-" and "." only' })
    .optional(),
  url: z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }),
  /** Event types or patterns (`call.*`, `queue.*`, `*`). */
  events: z.array(eventPattern).min(1),
  /** HMAC-SHA256 key of the signature header: at least 16 characters (use `env('…')`). */
  secret: z.string().min(16, { message: 'expected a secret of at least 16 characters' }),
  /** Delivery tuning (default: 1 at a time, 8 attempts, backoff from 1 s up to 5 min, 10 s timeout). */
  delivery: z
    .strictObject({
      maxAttempts: z.number().int().min(1).optional(),
      baseDelayMs: z.number().min(0).optional(),
      maxDelayMs: z.number().min(0).optional(),
      concurrency: z.number().int().min(1).optional(),
      timeoutMs: z.number().positive().optional(),
    })
    .optional(),
});

/** A webhook as configured (defaults not applied). */
export type WebhookConfig = z.output<typeof webhookSchema>;

/** Whether a subscriber's patterns take this event type. */
export function subscribes(patterns: readonly string[], type: WebhookEventType): boolean {
  return patterns.some(
    (p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))),
  );
}
