import {
  type CrmAdapter,
  policiesSchema as corePoliciesSchema,
  countryCodeSchema,
  DEFAULT_OVH_EVENTS_URL,
  DEFAULT_POLICIES,
  deliveryOptionsSchema,
  routeFieldsSchema,
} from '@cti-bridge/core';
import { isCrmAdapter } from '@cti-bridge/core/adapter';
import { z } from 'zod';
import type { AdapterFactoryContext } from '../adapter-factory-context.js';
import { isLoopback } from '../board/access.js';
import { maskToken } from '../ops/secrets.js';
import { webhookSchema } from '../webhooks/schema.js';
import { ConfigError } from './env.js';

/**
 * What an adapter factory function receives: the {@link AdapterFactoryContext}.
 *
 * @deprecated Use {@link AdapterFactoryContext} (same type; it no longer holds the store).
 */
export type AdapterDeps = AdapterFactoryContext;

/**
 * An adapter in the config: a ready {@link CrmAdapter} (what `hubspot({...})` returns), or a
 * function the runner calls with an {@link AdapterFactoryContext} (logger, state, clock, HTTP agents).
 */
export type AdapterEntry =
  | CrmAdapter
  | ((context: AdapterFactoryContext) => CrmAdapter | Promise<CrmAdapter>);

/** Core's country code schema: the runner and core accept the same codes. */
const countrySchema = countryCodeSchema;

const adapterSchema = z.custom<AdapterEntry>((value) => typeof value === 'function' || isCrmAdapter(value), {
  message:
    'expected a CrmAdapter v1 (what an adapter factory such as hubspot({...}) returns) or a function (deps) => CrmAdapter',
});

const tokenSchema = z.strictObject({
  /** Adapters every call on this token is logged to (fan-out). */
  adapters: z.array(z.string().min(1)).min(1, { message: 'expected at least one adapter name' }),
  /** Order in which adapters are asked for the screen pop (default: `adapters` order). */
  lookup: z.array(z.string().min(1)).optional(),
  /** Country for national numbers, and labels for our OVH numbers (by number in any notation): core's route fields. */
  ...routeFieldsSchema.shape,
  /** Per adapter: OVH line number or queue agent id -> CRM user id. */
  ownerMap: z.record(z.string(), z.record(z.string(), z.string())).optional(),
  /** Free label for logs and health. */
  label: z.string().optional(),
  /**
   * Healing: the billing account and lines (service names, e.g. `0033972101010`) whose OVH call
   * records fill the gaps of this token's stream. Needs OVH API credentials (`ovh.api` or env
   * OVH_*) with GET on /telephony/*.
   */
  healing: z
    .strictObject({
      billingAccount: z.string().min(1),
      lines: z.array(z.string().min(1)).min(1, { message: 'expected at least one line (service name)' }),
    })
    .optional(),
});

/** Core's policy fields; the runner adds core's defaults and per-adapter overrides. */
const policyFields = corePoliciesSchema.shape;

const policiesSchema = z.strictObject({
  unknownCaller: policyFields.unknownCaller.default(DEFAULT_POLICIES.unknownCaller),
  internalCalls: policyFields.internalCalls.default(DEFAULT_POLICIES.internalCalls),
  missedCallFollowUp: policyFields.missedCallFollowUp.default(DEFAULT_POLICIES.missedCallFollowUp),
  /** Log queue sessions on their own where the CRM can. */
  queueSessions: policyFields.queueSessions.default(DEFAULT_POLICIES.queueSessions),
  /** Overrides per adapter name. */
  adapters: z.record(z.string(), z.strictObject(policyFields).partial()).optional(),
});

/** Core's delivery fields, each optional: core applies its defaults (core's `DEFAULT_DELIVERY`). */
const deliveryFields = deliveryOptionsSchema.partial().shape;

const deliverySchema = z.strictObject({
  ...deliveryFields,
  /** Overrides per adapter name (CRMs have different rate limits). */
  adapters: z.record(z.string(), z.strictObject(deliveryFields)).optional(),
});

const pipelineSchema = z.strictObject({
  /** How often calls in flight are snapshotted to the store and orphans closed (default 30 s; 5 s with a redis store). */
  snapshotIntervalMs: z.number().int().min(0).optional(),
  /** A lookup slower than this gives up and tries the next adapter (default 3 s). */
  lookupTimeoutMs: z.number().int().min(1).optional(),
  /** Lookup results are reused this long (default 60 s). */
  lookupCacheTtlMs: z.number().int().min(0).optional(),
  /** A call with no event for this long is closed as inferred (tracker default). */
  orphanTimeoutMs: z.number().int().min(1000).optional(),
  /**
   * Settle window: a call whose end was seen waits this long (and never past the poll after next)
   * for its late events before it is logged (default 3 s; 0 logs at once). OVH does not order
   * events across polls.
   */
  settleMs: z.number().int().min(0).max(60_000).optional(),
});

const storeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('sqlite'), path: z.string().min(1) }),
  z.strictObject({ kind: z.literal('memory') }),
  /** Several runners sharing one outbox, cursors and snapshots, each OVH token leased to one runner. */
  z.strictObject({
    kind: z.literal('redis'),
    /** `redis://[:password@]host:port[/db]` or `rediss://…`; `env('REDIS_URL')` keeps it out of the file. */
    url: z.string().regex(/^rediss?:\/\//, { message: 'expected a URL such as redis://127.0.0.1:6379' }),
    /** Prefix of every key (default `cti`): runners that share work share it. */
    prefix: z.string().min(1).default('cti'),
    /** How long a runner holds the outbox entries it delivers (default 60 s). */
    claimMs: z.number().int().min(1000).optional(),
    /**
     * The outbox engine: `lua` (default), the store's own scripts; `bullmq`, one BullMQ queue per
     * adapter (stalled jobs of a dead runner come back through BullMQ's stalled check). Every
     * runner on one prefix must use the same.
     */
    outbox: z.enum(['lua', 'bullmq']).optional(),
    /** Token leases: how long one lasts without renewal (default 15 s) and how often it is renewed (default 5 s). */
    leaseMs: z.number().int().min(1000).optional(),
    renewMs: z.number().int().min(100).optional(),
    /** This runner's name in the cluster (default `CTI_RUNNER_NAME`, else the host name): unique per live runner. */
    runnerName: z.string().min(1).optional(),
  }),
]);

const httpSchema = z.union([
  z.literal(false),
  z.strictObject({
    port: z.number().int().min(0).max(65535).default(9464),
    host: z.string().default('127.0.0.1'),
    /**
     * Serve the live call board at `/` and its event stream at `/events`. Default: on when `host`
     * is a loopback address or `boardToken` is set (see {@link boardEnabled}).
     */
    board: z.boolean().optional(),
    /**
     * The secret the board asks for (`?token=`, a cookie, Bearer, or Basic auth with it as the
     * password). Required when `host` is not a loopback address.
     */
    boardToken: z.string().min(16, { message: 'expected a token of at least 16 characters' }).optional(),
  }),
]);

const loggingSchema = z.strictObject({
  level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** Human-readable output; default: when stdout is a terminal. */
  pretty: z.boolean().optional(),
  /** Extra strings never to print (secrets the runner cannot see in the config). */
  redact: z.array(z.string()).optional(),
});

const ovhSchema = z.strictObject({
  baseUrl: z.url({ message: `expected a URL such as ${DEFAULT_OVH_EVENTS_URL}` }).optional(),
  pollTimeoutMs: z.number().int().min(1000).optional(),
  watchdogMs: z.number().int().min(1000).optional(),
  defaultCountry: countrySchema.optional(),
  /** Healing from OVH call records (for tokens with `healing`). */
  healing: z
    .strictObject({
      /** Off: no gap is healed automatically (`cti-runner heal` still works). Default on. */
      enabled: z.boolean().default(true),
      /** How long after a gap its call records are read (OVH lists calls minutes later). Default 15 min. */
      recordDelayMs: z.number().int().min(0).optional(),
      /** A record and a stream call starting further apart are different calls. Default 15 s. */
      matchWindowMs: z.number().int().min(1000).max(120_000).optional(),
    })
    .optional(),
  /** OVH API credentials, for `cti-runner tokens …` and healing (env OVH_* when absent). */
  api: z
    .strictObject({
      endpoint: z.string().min(1).default('ovh-eu'),
      applicationKey: z.string().min(1),
      applicationSecret: z.string().min(1),
      consumerKey: z.string().min(1),
    })
    .optional(),
});

/** The zod schema of a cti-runner config (after `defineConfig`). */
export const configSchema = z
  .strictObject({
    store: storeSchema.default({ kind: 'sqlite', path: './cti-bridge.db' }),
    adapters: z.record(
      z.string().regex(/^[a-zA-Z0-9_-]+$/, { message: 'expected letters, digits, - or _' }),
      adapterSchema,
    ),
    tokens: z.record(z.string().min(1), tokenSchema),
    policies: policiesSchema.default({ ...DEFAULT_POLICIES }),
    delivery: deliverySchema.default({}),
    pipeline: pipelineSchema.default({}),
    http: httpSchema.default({ port: 9464, host: '127.0.0.1' }),
    /** Subscribers that get call and queue events as signed JSON POSTs (docs/webhooks.md). */
    webhooks: z.array(webhookSchema).default([]),
    logging: loggingSchema.default({ level: 'info' }),
    ovh: ovhSchema.default({}),
  })
  .superRefine((config, ctx) => {
    const defined = Object.keys(config.adapters);
    const list = defined.length > 0 ? defined.join(', ') : '(none)';
    if (defined.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['adapters'], message: 'expected at least one adapter' });
    }
    if (Object.keys(config.tokens).length === 0) {
      ctx.addIssue({ code: 'custom', path: ['tokens'], message: 'expected at least one OVH event token' });
    }
    if (
      config.http !== false &&
      config.http.board &&
      !isLoopback(config.http.host) &&
      !config.http.boardToken
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['http', 'boardToken'],
        message: `the live board listens on ${config.http.host}, beyond this machine: set http.boardToken (e.g. env('CTI_BOARD_TOKEN')), or http.board: false`,
      });
    }
    const webhookNames = new Set<string>();
    config.webhooks.forEach((webhook, index) => {
      const name = webhook.name ?? String(index + 1);
      if (webhookNames.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['webhooks', index, 'name'],
          message: `webhook name '${name}' is used twice`,
        });
      }
      webhookNames.add(name);
    });
    for (const section of ['delivery', 'policies'] as const) {
      for (const name of Object.keys(config[section].adapters ?? {})) {
        if (!(name in config.adapters)) {
          ctx.addIssue({
            code: 'custom',
            path: [section, 'adapters', name],
            message: `unknown adapter '${name}' — defined adapters: ${list}`,
          });
        }
      }
    }
    for (const [token, route] of Object.entries(config.tokens)) {
      route.adapters.forEach((name, index) => {
        if (!(name in config.adapters)) {
          ctx.addIssue({
            code: 'custom',
            path: ['tokens', token, 'adapters', index],
            message: `unknown adapter '${name}' — defined adapters: ${list}`,
          });
        }
      });
      route.lookup?.forEach((name, index) => {
        if (!route.adapters.includes(name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['tokens', token, 'lookup', index],
            message: `adapter '${name}' is not in this token's adapters (${route.adapters.join(', ')})`,
          });
        }
      });
      for (const name of Object.keys(route.ownerMap ?? {})) {
        if (!route.adapters.includes(name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['tokens', token, 'ownerMap', name],
            message: `adapter '${name}' is not in this token's adapters (${route.adapters.join(', ')})`,
          });
        }
      }
    }
  });

/**
 * Whether the live board is served: `http.board` when given, else when the HTTP server listens on
 * a loopback address or `http.boardToken` is set (a board reachable from elsewhere needs a token).
 */
export function boardEnabled(http: CtiConfig['http']): boolean {
  if (http === false) return false;
  return http.board ?? (isLoopback(http.host) || http.boardToken !== undefined);
}

/** A cti-runner config as written in `cti.config.ts` (defaults not applied yet). */
export type CtiConfigInput = z.input<typeof configSchema>;
/** A validated config, defaults applied. */
export type CtiConfig = z.output<typeof configSchema>;
/** The routing of one OVH event token. */
export type TokenRoute = z.output<typeof tokenSchema>;
/** Pipeline policies. */
export type PoliciesConfig = z.output<typeof policiesSchema>;
/** Outbox delivery tuning. */
export type DeliveryConfig = z.output<typeof deliverySchema>;
/** Which store the runner keeps its state in. */
export type StoreConfig = z.output<typeof storeSchema>;

/**
 * Types a config file. Returns its argument unchanged: validation happens when the runner loads
 * the file, so that errors name the key (`tokens.ABC.adapters[0]: unknown adapter 'hubspt' …`).
 */
export function defineConfig(config: CtiConfigInput): CtiConfigInput {
  return config;
}

/**
 * `tokens.1738D072….adapters[0]` from a zod path. An OVH event token is a credential: the key
 * under `tokens` is masked the way logs mask it.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const [index, key] of path.entries()) {
    if (typeof key === 'number') out += `[${key}]`;
    else {
      const text = index === 1 && path[0] === 'tokens' ? maskToken(String(key)) : String(key);
      out += out === '' ? text : `.${text}`;
    }
  }
  return out === '' ? '(root)' : out;
}

/** One readable line per zod issue, each starting with the key path. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap((issue): string[] => {
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Report the branch that got furthest (e.g. the object form of `http`, not `false`).
      const depth = (branch: readonly z.core.$ZodIssue[]) => Math.max(...branch.map((i) => i.path.length));
      const best = [...issue.errors].sort((a, b) => depth(b) - depth(a))[0] ?? [];
      if (depth(best) > 0) {
        return formatIssues(best.map((i) => ({ ...i, path: [...issue.path, ...i.path] })));
      }
    }
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown key — check the spelling`);
    }
    let message = issue.message.replace(/^Invalid input: /, '').replace(/^Invalid option: /, '');
    if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) {
      message = `missing — ${message}`;
    }
    return [`${formatPath(issue.path)}: ${message}`];
  });
}

/**
 * Validates a config object. Throws a {@link ConfigError} listing every problem, each naming
 * its key path and what is expected.
 */
export function parseConfig(input: unknown, source = 'config'): CtiConfig {
  if (input === null || typeof input !== 'object') {
    throw new ConfigError(
      `${source}: expected the file to export a config object (export default defineConfig({...}))`,
    );
  }
  const result = configSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(`${source} is invalid:`, formatIssues(result.error.issues));
  }
  return result.data;
}
