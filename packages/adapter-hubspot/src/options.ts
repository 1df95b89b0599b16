import { parseAdapterOptions } from '@cti-bridge/core/adapter';
import { z } from 'zod';

/** HubSpot's default call outcome GUIDs (`hs_call_disposition`). */
export const DEFAULT_DISPOSITIONS = {
  busy: '9d9162e7-6cf3-4944-bf63-4dff82258764',
  connected: 'f240bbac-87c9-4f6e-bf70-924b57d47db7',
  leftLiveMessage: 'a4c4c377-d246-4b32-a13b-75a56a4cd0ff',
  leftVoicemail: 'b2cf5968-551e-4856-9783-52b3da59a7d0',
  noAnswer: '73a0d17f-1163-4015-bdd5-ec830791da20',
  wrongNumber: '17b47fee-58de-441e-a44c-c6300d46f273',
} as const;

const secret = z.string().trim().min(1, 'must not be empty');
const guid = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be an outcome GUID');

const oauthSchema = z.object({
  clientId: secret,
  clientSecret: secret,
  refreshToken: secret,
  /** A current access token, when the caller has one; refreshed when missing or expiring. */
  accessToken: secret.optional(),
  /** When `accessToken` expires (epoch ms or Date). */
  expiresAt: z.union([z.number(), z.date()]).optional(),
});

const schema = z
  .object({
    name: z.string().min(1).default('hubspot'),
    accessToken: secret.optional(),
    oauth: oauthSchema.optional(),
    basePath: z.url().default('https://api.hubapi.com'),
    portalId: z.union([z.string().regex(/^\d+$/, 'must be digits'), z.number().int().positive()]).optional(),
    appUrl: z.url().optional(),
    defaultCountry: z.string().length(2).default('FR'),
    searchCompanies: z.boolean().default(true),
    resolveOwnerNames: z.boolean().default(true),
    dispositions: z
      .object({
        answered: guid.optional(),
        missed: guid.optional(),
        busy: guid.optional(),
        cancelled: guid.optional(),
      })
      .default({}),
    rateLimit: z
      .object({
        max: z.number().int().positive().default(190),
        intervalMs: z.number().int().positive().default(10_000),
        daily: z.number().int().positive().optional(),
        searchPerSecond: z.number().int().positive().default(4),
        maxWaitMs: z.number().int().nonnegative().default(15_000),
        screenPopWaitMs: z.number().int().positive().default(3_000),
      })
      .default({
        max: 190,
        intervalMs: 10_000,
        searchPerSecond: 4,
        maxWaitMs: 15_000,
        screenPopWaitMs: 3_000,
      }),
    batch: z
      .object({
        windowMs: z.number().int().nonnegative().default(20),
        maxSize: z.number().int().min(1).max(100).default(100),
      })
      .default({ windowMs: 20, maxSize: 100 }),
    requestTimeoutMs: z.number().int().positive().default(30_000),
    searchLagMs: z.number().int().nonnegative().default(60_000),
    followUpTask: z
      .object({
        dueInMinutes: z.number().int().nonnegative().default(60),
        priority: z.enum(['LOW', 'MEDIUM', 'HIGH']).default('HIGH'),
      })
      .default({ dueInMinutes: 60, priority: 'HIGH' }),
    clock: z.custom<() => number>((value) => typeof value === 'function', 'must be a function').optional(),
  })
  .superRefine((value, ctx) => {
    if (!value.accessToken === !value.oauth) {
      ctx.addIssue({
        code: 'custom',
        path: ['accessToken'],
        message:
          'give exactly one of accessToken (private app) or oauth { clientId, clientSecret, refreshToken }',
      });
    }
  });

/**
 * Options of {@link hubspot}. Secrets (`accessToken`, `oauth.clientSecret`, `oauth.refreshToken`)
 * are never logged.
 */
export interface HubSpotOptions {
  /** Adapter name in routes and logs (default `hubspot`); set it when running two portals. */
  readonly name?: string;
  /** Private app access token (`pat-…`). Give this or `oauth`. */
  readonly accessToken?: string;
  /** OAuth app credentials; the access token is renewed with the refresh token when it expires. */
  readonly oauth?: {
    readonly clientId: string;
    readonly clientSecret: string;
    readonly refreshToken: string;
    readonly accessToken?: string;
    readonly expiresAt?: number | Date;
  };
  /** API base URL (default `https://api.hubapi.com`); tests point it at the fake. */
  readonly basePath?: string;
  /** HubSpot account (portal/hub) id for record links; read from the account-info API when absent. */
  readonly portalId?: string | number;
  /** UI base URL for links (default from account info, else `https://app.hubspot.com`). */
  readonly appUrl?: string;
  /** Country for numbers stored without a country code (default `FR`). */
  readonly defaultCountry?: string;
  /** Also look callers up among companies (default true). */
  readonly searchCompanies?: boolean;
  /** Fetch owner names for the screen pop (one cached owners request; default true). */
  readonly resolveOwnerNames?: boolean;
  /** Call outcome GUIDs per OVH outcome; defaults: Connected, No answer, Busy, No answer. */
  readonly dispositions?: {
    readonly answered?: string;
    readonly missed?: string;
    readonly busy?: string;
    readonly cancelled?: string;
  };
  /**
   * Client-side limits (default 190 requests / 10 s, 4 searches / s, no daily cap). `maxWaitMs`: a
   * request waiting longer for a slot fails with a `rate-limit` error instead (default 15 s).
   * Screen-pop lookups are served before delivery work; one that waited `screenPopWaitMs` (default
   * 3 s, the pipeline's lookup timeout) can no longer pop in time and waits behind, as delivery
   * work that will use its answer.
   */
  readonly rateLimit?: {
    readonly max?: number;
    readonly intervalMs?: number;
    readonly daily?: number;
    readonly searchPerSecond?: number;
    readonly maxWaitMs?: number;
    readonly screenPopWaitMs?: number;
  };
  /** Coalescing of concurrent `logCall`s into batch creates (default: 20 ms window, 100 per batch). */
  readonly batch?: { readonly windowMs?: number; readonly maxSize?: number };
  /** Give up on a HubSpot request after this long (default 30 s). */
  readonly requestTimeoutMs?: number;
  /**
   * How long HubSpot search may lag behind writes (default 60 s). A write whose outcome is unknown
   * (timeout) is not repeated within this delay unless search confirms it is absent.
   */
  readonly searchLagMs?: number;
  /** Missed-call follow-up task: due this many minutes after the call (default 60), priority (HIGH). */
  readonly followUpTask?: { readonly dueInMinutes?: number; readonly priority?: 'LOW' | 'MEDIUM' | 'HIGH' };
  /** Clock for tests (epoch ms). */
  readonly clock?: () => number;
}

/** Options after validation and defaults. */
export type ResolvedHubSpotOptions = z.output<typeof schema>;

/** Validates options; throws an `invalid` AdapterError naming the key (never echoing values). */
export function resolveOptions(input: HubSpotOptions): ResolvedHubSpotOptions {
  return parseAdapterOptions(schema, input, 'hubspot()');
}
