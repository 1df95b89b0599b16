import { parseAdapterOptions } from '@cti-bridge/core/adapter';
import { z } from 'zod';

const lookupModel = z.enum(['res.partner', 'crm.lead']);

/** A `res.users` id or login. */
const userRef = z.union([z.number().int().positive(), z.string().min(1, 'must be a res.users id or login')]);

const schema = z
  .object({
    url: z.url({
      protocol: /^https?$/,
      error: 'must be the http(s) base URL of Odoo, e.g. https://acme.odoo.com',
    }),
    database: z.string().min(1, 'is required (the Odoo database name)'),
    login: z.string().min(1, 'is required (the login of the Odoo user the bridge acts as)'),
    apiKey: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    version: z
      .union([z.number(), z.string().regex(/\d+(\.\d+)?/, 'must look like "18.0" or "17.2"')])
      .default('18.0'),
    lookup: z.array(lookupModel).min(1).default(['res.partner']),
    logAs: z.enum(['activity', 'note']).default('activity'),
    idempotencyCheck: z.enum(['auto', 'odoo', 'state']).default('auto'),
    users: z.record(z.string(), userRef).default({}),
    defaultUserId: userRef.optional(),
    notifyFollowUps: z.boolean().default(false),
    unknownCallers: z.enum(['create-partner', 'skip']).default('create-partner'),
    timeZone: z
      .string()
      .refine((zone) => {
        try {
          new Intl.DateTimeFormat('en', { timeZone: zone });
          return true;
        } catch {
          return false;
        }
      }, 'must be an IANA time zone such as Europe/Paris')
      .optional(),
    defaultCountry: z.string().length(2).default('FR'),
    timeoutMs: z.number().int().positive().default(15_000),
    name: z.string().min(1).default('odoo'),
  })
  .strict()
  .refine((o) => o.apiKey !== undefined || o.password !== undefined, {
    message: 'is required: give apiKey (recommended) or password',
    path: ['apiKey'],
  });

/**
 * Options of {@link odoo}.
 */
export interface OdooOptions {
  /** Base URL of the Odoo server (`https://acme.odoo.com`). Only scheme, host and port are used. */
  readonly url: string;
  /** Database name (shown on the Odoo database selector; Odoo Online: the subdomain). */
  readonly database: string;
  /** Login (usually the e-mail) of the Odoo user the bridge acts as. */
  readonly login: string;
  /** API key of that user (Preferences › Account Security › New API Key). Preferred over `password`. */
  readonly apiKey?: string;
  /** Password, accepted when no API key is given (not with 2FA). */
  readonly password?: string;
  /** Odoo version, for record URLs: `/odoo/<model>/<id>` from 17.2, `/web#id=…` before (default `18.0`). */
  readonly version?: string | number;
  /** Models searched on ring, best first (default `['res.partner']`; add `crm.lead` for leads). */
  readonly lookup?: ReadonlyArray<'res.partner' | 'crm.lead'>;
  /**
   * How a call is logged: `activity` (default) — a Call activity marked done with the call
   * summary as feedback, shown in the chatter with the phone icon; `note` — a plain chatter note.
   */
  readonly logAs?: 'activity' | 'note';
  /**
   * How a retried write is recognised. Every attempt is recorded in the durable adapter state
   * before it writes; the question is when to also search the record's chatter for the call's
   * marker (one read):
   * - `auto` (default): after an unfinished attempt, and for calls that ended before this state
   *   was first used (plus 10 minutes for clock skew) — the only calls an earlier, lost state could
   *   have logged. A runner on a durable store pays the read only in its first minutes.
   * - `odoo`: before every write (for several runners sharing one Odoo with different stores).
   * - `state`: only after an unfinished attempt (trusts the state completely).
   */
  readonly idempotencyCheck?: 'auto' | 'odoo' | 'state';
  /**
   * OVH line (any notation) or queue agent → Odoo user (`res.users` id, or login such as
   * `jane@acme.com`), for activity owners. The runner's `ownerMap` takes the same values.
   */
  readonly users?: Readonly<Record<string, number | string>>;
  /** Odoo user (id or login) used when no mapping applies (default: the API user). */
  readonly defaultUserId?: number | string;
  /**
   * Let Odoo notify the assignee of a missed-call follow-up ("… has just assigned you the
   * following activity", and its e-mail), as when a person assigns an activity. Default false:
   * logged calls and follow-ups are created quietly (`mail_activity_quick_update`). Logged calls
   * never notify: they are done as soon as they are created.
   */
  readonly notifyFollowUps?: boolean;
  /**
   * A call from a number no record carries: `create-partner` (default) creates a partner named
   * after the caller (found again on the next call); `skip` refuses (error kind `not-found`).
   */
  readonly unknownCallers?: 'create-partner' | 'skip';
  /** Time zone for "due today" and times in call summaries (default: the process's). */
  readonly timeZone?: string;
  /** Country for reading national numbers in the `users` map (default `FR`). */
  readonly defaultCountry?: string;
  /** Per-request timeout in ms (default 15000; odoo-await has none of its own). */
  readonly timeoutMs?: number;
  /** Adapter name in logs and keys (default `odoo`). */
  readonly name?: string;
}

/** Options after validation and defaults. */
export type ResolvedOdooOptions = z.output<typeof schema>;

/**
 * Validates the options; throws an AdapterError of kind `invalid` whose message names each bad
 * key. Values are never echoed (they may be secrets).
 */
export function resolveOptions(options: unknown): ResolvedOdooOptions {
  return parseAdapterOptions(schema, options ?? {}, 'odoo()');
}
