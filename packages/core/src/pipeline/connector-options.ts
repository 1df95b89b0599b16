import { z } from 'zod';
import type { CrmAdapter } from '../adapter/contract.js';
import { isCrmAdapter } from '../adapter-kit/guard.js';
import {
  policiesSchema as corePoliciesSchema,
  deliveryOptionsSchema,
  routeAdapterFieldsSchema,
  routeFieldsSchema,
} from '../config/schemas.js';
import type { ConnectorOptions } from './types.js';

const policiesSchema = corePoliciesSchema.partial();

const deliverySchema = deliveryOptionsSchema.partial();

const adapterSchema = z.custom<CrmAdapter>(isCrmAdapter, {
  message: 'not a CrmAdapter v1 (specificationVersion "v1", a name, findContacts and logCall required)',
});

const routesSchema = z.record(
  z.string().min(1),
  z.object({
    adapters: z
      .array(
        z.object({
          ...routeAdapterFieldsSchema.shape,
          adapter: adapterSchema,
        }),
      )
      .min(1),
    ...routeFieldsSchema.shape,
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
