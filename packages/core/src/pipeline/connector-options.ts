import { z } from 'zod';
import type { CrmAdapter } from '../adapter/contract.js';
import type { ConnectorOptions } from './types.js';

const policiesSchema = z
  .object({
    unknownCaller: z.enum(['log-only', 'create-contact', 'skip']),
    internalCalls: z.enum(['skip', 'log']),
    missedCallFollowUp: z.boolean(),
    queueSessions: z.boolean(),
  })
  .partial();

const deliverySchema = z
  .object({
    maxAttempts: z.number().int().min(1),
    baseDelayMs: z.number().min(0),
    maxDelayMs: z.number().min(0),
    concurrency: z.number().int().min(1),
    ratePerSecond: z.number().min(0),
    burst: z.number().min(1),
    batchSize: z.number().int().min(1),
    timeoutMs: z.number().positive(),
  })
  .partial();

const adapterSchema = z.custom<CrmAdapter>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    (value as { specificationVersion?: unknown }).specificationVersion === 'v1' &&
    typeof (value as { findContacts?: unknown }).findContacts === 'function' &&
    typeof (value as { logCall?: unknown }).logCall === 'function',
  { message: 'not a CrmAdapter v1 (specificationVersion "v1", findContacts and logCall required)' },
);

const routesSchema = z.record(
  z.string().min(1),
  z.object({
    adapters: z
      .array(
        z.object({
          name: z
            .string()
            .min(1)
            .regex(/^[\w.-]+$/, 'letters, digits, "_", "-" and "." only'),
          adapter: adapterSchema,
          lookup: z.boolean().optional(),
          ownerMap: z.record(z.string(), z.string()).optional(),
          policies: policiesSchema.optional(),
          delivery: deliverySchema.optional(),
        }),
      )
      .min(1),
    defaultCountry: z.string().length(2).optional(),
    lineLabels: z.record(z.string(), z.string()).optional(),
    policies: policiesSchema.optional(),
  }),
);

/**
 * Validates the routes, policies and delivery options of a connector. Throws a descriptive error
 * (`invalid connector routes: …`) on invalid routes, a zod error on invalid policies or delivery
 * options.
 */
export function validateConnectorOptions(options: ConnectorOptions): void {
  const parsedRoutes = routesSchema.safeParse(options.routes);
  if (!parsedRoutes.success) {
    throw new Error(`invalid connector routes: ${z.prettifyError(parsedRoutes.error)}`);
  }
  policiesSchema.parse(options.policies ?? {});
  deliverySchema.parse(options.delivery ?? {});
}
