import { z } from 'zod';
import type { EventTokenTarget, OvhApiClient } from './api-client.js';
import { OvhApiError } from './api-errors.js';

const eventTokenSchema = z.looseObject({ token: z.string().min(1) });

/** A signed OVH API call returning the parsed JSON answer. */
type SignedCall = (method: string, path: string, payload?: unknown) => Promise<unknown>;

/** The API path of a target's event token. */
function tokenPath(target: EventTokenTarget): string {
  if (!target.billingAccount) throw new OvhApiError('invalid', 'billingAccount is required');
  const ba = encodeURIComponent(target.billingAccount);
  return target.serviceName
    ? `/telephony/${ba}/service/${encodeURIComponent(target.serviceName)}/eventToken`
    : `/telephony/${ba}/eventToken`;
}

/** A target in words, for error messages. */
function describe(target: EventTokenTarget): string {
  return target.serviceName
    ? `line ${target.serviceName} of billing account ${target.billingAccount}`
    : `billing account ${target.billingAccount}`;
}

/** The event-token calls of an {@link OvhApiClient}, made with `signed`. */
export function eventTokensApi(signed: SignedCall): OvhApiClient['eventTokens'] {
  return {
    async create(target) {
      const answer = await signed('POST', tokenPath(target), {
        expiration: target.expiration ?? 'unlimited',
      });
      const token = typeof answer === 'string' ? answer : eventTokenSchema.safeParse(answer).data?.token;
      if (!token) {
        throw new OvhApiError(
          'invalid',
          `OVH answered the token creation for ${describe(target)} with no token`,
        );
      }
      return token;
    },
    async get(target) {
      try {
        const answer = await signed('GET', tokenPath(target));
        const parsed = eventTokenSchema.safeParse(answer);
        if (!parsed.success) {
          throw new OvhApiError(
            'invalid',
            `OVH answered GET eventToken for ${describe(target)} without a token`,
          );
        }
        return parsed.data.token;
      } catch (error) {
        // 404 "The requested object (eventToken) does not exist": no token yet. Any other 404
        // (unknown billing account or line) is an error the user must see.
        if (
          error instanceof OvhApiError &&
          error.kind === 'not-found' &&
          /\(eventToken\)/.test(error.message)
        ) {
          return undefined;
        }
        throw error;
      }
    },
    async delete(target) {
      await signed('DELETE', tokenPath(target));
    },
  };
}
