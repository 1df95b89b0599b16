import { z } from 'zod';
import type { DeliveryOptions, Policies } from '../pipeline/types.js';

/**
 * The zod schemas of the options core validates (policies, delivery tuning, route fields), with
 * their defaults. Core's connector validates with them; the runner builds its config schema from
 * them, so that both accept the same values.
 *
 * The object schemas are not strict (a library caller may pass extra keys); the runner wraps their
 * `shape` in `z.strictObject` to report misspelt keys.
 */

/** An ISO 3166 alpha-2 country code (`FR`, or `fr`: read as upper case). */
export const countryCodeSchema = z
  .string()
  .regex(/^[A-Za-z]{2}$/, { message: 'expected an ISO 3166 alpha-2 country code such as "FR"' })
  .transform((code) => code.toUpperCase());

/** Every field of {@link Policies}, required. */
export const policiesSchema = z.object({
  unknownCaller: z.enum(['log-only', 'create-contact', 'skip']),
  internalCalls: z.enum(['skip', 'log']),
  missedCallFollowUp: z.boolean(),
  queueSessions: z.boolean(),
}) satisfies z.ZodType<Policies>;

/** The default {@link Policies}. */
export const DEFAULT_POLICIES: Policies = Object.freeze({
  unknownCaller: 'log-only',
  internalCalls: 'skip',
  missedCallFollowUp: false,
  queueSessions: true,
});

/** Every field of {@link DeliveryOptions}, required. */
export const deliveryOptionsSchema = z.object({
  maxAttempts: z.number().int().min(1).max(100),
  baseDelayMs: z.number().int().min(0),
  maxDelayMs: z.number().int().min(0),
  concurrency: z.number().int().min(1).max(64),
  /** 0: unlimited. */
  ratePerSecond: z.number().min(0),
  burst: z.number().int().min(1),
  batchSize: z.number().int().min(1).max(200),
  timeoutMs: z.number().int().positive(),
  maxRetryAfterMs: z.number().int().min(0),
  authRetryMs: z.number().int().min(1),
}) satisfies z.ZodType<DeliveryOptions>;

/** The defaults of {@link DeliveryOptions}. */
export const DEFAULT_DELIVERY: DeliveryOptions = Object.freeze({
  maxAttempts: 8,
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  concurrency: 4,
  ratePerSecond: 10,
  burst: 10,
  batchSize: 20,
  timeoutMs: 30_000,
  maxRetryAfterMs: 5 * 60_000,
  authRetryMs: 30_000,
});

/** The fields of a route that do not name adapters: country of national numbers and line labels. */
export const routeFieldsSchema = z.object({
  /** Country for national numbers in `ownerMap` and `lineLabels` keys (default {@link DEFAULT_COUNTRY}). */
  defaultCountry: countryCodeSchema.optional(),
  /** Labels of our lines, by number (any notation). */
  lineLabels: z.record(z.string(), z.string()).optional(),
});

/** An adapter instance name: in outbox ids, idempotency keys and kv namespaces. */
export const adapterNameSchema = z
  .string()
  .min(1)
  .regex(/^[\w.-]+$/, 'letters, digits, "_", "-" and "." only');

/** The fields of one route adapter other than the adapter object itself. */
export const routeAdapterFieldsSchema = z.object({
  name: adapterNameSchema,
  lookup: z.boolean().optional(),
  ownerMap: z.record(z.string(), z.string()).optional(),
  policies: policiesSchema.partial().optional(),
  delivery: deliveryOptionsSchema.partial().optional(),
});
