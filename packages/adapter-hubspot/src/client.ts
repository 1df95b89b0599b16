import { type AdapterCallPurpose, AdapterError, type Logger } from '@cti-bridge/core';
import { Client } from '@hubspot/api-client';
import { toHubSpotError } from './errors.js';
import { type LimiterPriority, RollingWindowLimiter } from './limiter.js';
import type { ResolvedHubSpotOptions } from './options.js';

/** A search filter as HubSpot takes it. */
export interface SearchFilter {
  readonly propertyName: string;
  readonly operator:
    | 'EQ'
    | 'NEQ'
    | 'LT'
    | 'LTE'
    | 'GT'
    | 'GTE'
    | 'BETWEEN'
    | 'IN'
    | 'NOT_IN'
    | 'HAS_PROPERTY'
    | 'NOT_HAS_PROPERTY'
    | 'CONTAINS_TOKEN'
    | 'NOT_CONTAINS_TOKEN';
  readonly value?: string;
  readonly values?: readonly string[];
}

/** A CRM search request (`POST /crm/v3/objects/{type}/search`). */
export interface SearchRequest {
  readonly filterGroups: ReadonlyArray<{ readonly filters: readonly SearchFilter[] }>;
  readonly properties: readonly string[];
  readonly limit: number;
  readonly after?: string;
}

/** A record as search and create return it. */
export interface HubSpotRecord {
  readonly id: string;
  readonly properties: Readonly<Record<string, string | null>>;
  readonly createdAt?: Date;
  readonly updatedAt?: Date;
}

/** An object to create, with its associations (`{ to: { id }, types: [{ category, typeId }] }`). */
export interface CreateInput {
  readonly properties: Readonly<Record<string, string>>;
  readonly associations?: ReadonlyArray<{ readonly toId: string; readonly typeId: number }>;
}

/** Object types the adapter searches or writes. */
export type ObjectType = 'contacts' | 'companies' | 'calls' | 'tasks';

type Apis = ReturnType<typeof buildApis>;
type ContactSearchBody = Parameters<Apis['contactsSearch']['doSearch']>[0];
type CallCreateBody = Parameters<Apis['callsBasic']['create']>[0];
type CallBatchBody = Parameters<Apis['callsBatch']['create']>[0];

function buildApis(client: Client) {
  const crm = client.crm;
  return {
    contactsSearch: crm.contacts.searchApi,
    contactsBasic: crm.contacts.basicApi,
    companiesSearch: crm.companies.searchApi,
    callsBasic: crm.objects.calls.basicApi,
    callsBatch: crm.objects.calls.batchApi,
    callsSearch: crm.objects.calls.searchApi,
    tasksBasic: crm.objects.tasks.basicApi,
    tasksSearch: crm.objects.tasks.searchApi,
    owners: crm.owners.ownersApi,
    tokens: client.oauth.tokensApi,
  };
}

/**
 * The longest a 429 pauses the client's own limiter: HubSpot's longest rolling window (or the
 * configured window, when longer).
 */
export const MAX_LIMITER_BLOCK_MS = 10_000;

/** Per-request context: logger, abort signal, and why the pipeline asks (screen pops go first). */
export interface RequestContext {
  readonly logger: Logger;
  readonly signal?: AbortSignal;
  readonly purpose?: AdapterCallPurpose;
}

/** The limiters' priority of a request: a screen pop is interactive, everything else waits behind. */
const priorityOf = (ctx: RequestContext): LimiterPriority =>
  ctx.purpose === 'screen-pop' ? 'interactive' : 'background';

/** Account details from `GET /account-info/v3/details`. */
export interface AccountInfo {
  readonly portalId: string;
  readonly uiDomain?: string;
}

const REFRESH_MARGIN_MS = 60_000;

/**
 * The adapter's HubSpot connection: one `@hubspot/api-client` Client (no SDK retries, no SDK
 * limiter: both are process-global in 13.5 and would fight the pipeline's own retries), the auth
 * (private app token, or OAuth with renewal), the client-side rate limiters, per-request timeouts and
 * error mapping to {@link AdapterError}.
 */
export class HubSpotConnection {
  private client: Client;
  private apis: Apis;
  private accessToken: string | undefined;
  private expiresAt: number;
  private refreshing: Promise<void> | undefined;
  /** Limits every request (the app's rolling 10-second window and daily quota). */
  readonly limiter: RollingWindowLimiter;
  /** Limits search requests (HubSpot allows 5 per second per account). */
  readonly searchLimiter: RollingWindowLimiter;
  private readonly now: () => number;

  constructor(private readonly options: ResolvedHubSpotOptions) {
    this.now = options.clock ?? Date.now;
    this.accessToken = options.accessToken ?? options.oauth?.accessToken;
    const expires = options.oauth?.expiresAt;
    this.expiresAt =
      expires === undefined
        ? Number.POSITIVE_INFINITY
        : expires instanceof Date
          ? expires.getTime()
          : expires;
    this.client = this.newClient();
    this.apis = buildApis(this.client);
    const { rateLimit } = options;
    this.limiter = new RollingWindowLimiter({
      max: rateLimit.max,
      intervalMs: rateLimit.intervalMs,
      daily: rateLimit.daily,
      maxWaitMs: rateLimit.maxWaitMs,
      interactiveWaitMs: rateLimit.screenPopWaitMs,
      label: 'HubSpot API',
      now: this.now,
    });
    this.searchLimiter = new RollingWindowLimiter({
      max: rateLimit.searchPerSecond,
      intervalMs: 1000,
      maxWaitMs: rateLimit.maxWaitMs,
      interactiveWaitMs: rateLimit.screenPopWaitMs,
      label: 'HubSpot search',
      now: this.now,
    });
  }

  private newClient(): Client {
    // numberOfApiCallRetries 0 and no limiterOptions: no SDK decorators (they are process-global).
    return new Client({
      basePath: this.options.basePath,
      numberOfApiCallRetries: 0,
      ...(this.accessToken ? { accessToken: this.accessToken } : {}),
    });
  }

  /** Authorisation kind, for logs (never the token). */
  get authKind(): 'private-app' | 'oauth' {
    return this.options.oauth ? 'oauth' : 'private-app';
  }

  private async ensureToken(ctx: RequestContext, force = false): Promise<void> {
    if (!this.options.oauth) return;
    if (!force && this.accessToken && this.expiresAt - REFRESH_MARGIN_MS > this.now()) return;
    this.refreshing ??= this.refresh(ctx).finally(() => {
      this.refreshing = undefined;
    });
    await this.refreshing;
  }

  private async refresh(ctx: RequestContext): Promise<void> {
    const oauth = this.options.oauth;
    if (!oauth) return;
    const release = await this.limiter.acquire(ctx.signal);
    try {
      const answer = await this.withTimeout(
        this.apis.tokens.create(
          'refresh_token',
          undefined,
          undefined,
          oauth.clientId,
          oauth.clientSecret,
          oauth.refreshToken,
        ),
        ctx,
      );
      this.accessToken = answer.accessToken;
      this.expiresAt = this.now() + answer.expiresIn * 1000;
      this.client.setAccessToken(answer.accessToken);
      this.apis = buildApis(this.client);
      ctx.logger.info({ expiresInSeconds: answer.expiresIn }, 'HubSpot OAuth access token renewed');
    } catch (error) {
      const mapped = toHubSpotError(error, 'renew the OAuth access token', this.now());
      if (mapped.kind === 'invalid' || mapped.kind === 'not-found') {
        throw new AdapterError(
          'auth',
          `${mapped.message} Re-authorise the HubSpot OAuth app: the refresh token or client credentials were refused.`,
          { status: mapped.status, code: mapped.code, correlationId: mapped.correlationId },
        );
      }
      throw mapped;
    } finally {
      release();
    }
  }

  private withTimeout<T>(promise: Promise<T>, ctx: RequestContext): Promise<T> {
    const timeoutMs = this.options.requestTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        cleanup();
        reject(new AdapterError('transient', 'HubSpot request cancelled before HubSpot answered.'));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new AdapterError('transient', `HubSpot did not answer within ${timeoutMs} ms.`, {
            code: 'TIMEOUT',
          }),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        ctx.signal?.removeEventListener('abort', onAbort);
      };
      if (ctx.signal?.aborted) return onAbort();
      ctx.signal?.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (value) => {
          cleanup();
          resolve(value);
        },
        (error: unknown) => {
          cleanup();
          reject(error);
        },
      );
    });
  }

  /**
   * Runs one HubSpot request through the limiters, with a timeout; maps errors. An OAuth 401 renews
   * the token once and retries. A 429 pauses the limiter for the time HubSpot asked.
   */
  async run<T>(
    action: string,
    family: 'search' | 'other',
    ctx: RequestContext,
    send: (apis: Apis) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await this.ensureToken(ctx);
      const releaseSearch =
        family === 'search' ? await this.searchLimiter.acquire(ctx.signal, priorityOf(ctx)) : undefined;
      let release: (() => void) | undefined;
      let tokenUsed = this.accessToken;
      try {
        // searches have their own limit and are exempt from the ten-secondly window
        if (family !== 'search') release = await this.limiter.acquire(ctx.signal, priorityOf(ctx));
        tokenUsed = this.accessToken;
        return await this.withTimeout(send(this.apis), ctx);
      } catch (error) {
        let mapped = toHubSpotError(error, action, this.now());
        if (mapped.quota === 'daily') mapped = await this.untilDailyReset(mapped, ctx);
        if (mapped.kind === 'auth' && mapped.status === 401 && this.options.oauth && attempt === 0) {
          ctx.logger.warn(
            { correlationId: mapped.correlationId, code: mapped.code },
            'HubSpot refused the OAuth access token; renewing it',
          );
          // Renew unless a concurrent request already did while this one was in flight.
          if (this.accessToken === tokenUsed) await this.ensureToken(ctx, true);
          continue;
        }
        if (mapped.kind === 'rate-limit' && mapped.status === 429 && mapped.retryAfterMs !== undefined) {
          // HubSpot's windows last 10 s at most (the daily quota is handled above): a longer
          // Retry-After (a proxy, a misconfigured gateway) must not freeze every request for an hour
          (family === 'search' && mapped.retryAfterMs <= 1000 ? this.searchLimiter : this.limiter).block(
            Math.min(mapped.retryAfterMs, Math.max(MAX_LIMITER_BLOCK_MS, this.options.rateLimit.intervalMs)),
          );
        }
        ctx.logger.warn(
          {
            action,
            kind: mapped.kind,
            status: mapped.status,
            code: mapped.code,
            correlationId: mapped.correlationId,
            retryAfterMs: mapped.retryAfterMs,
          },
          mapped.message,
        );
        throw mapped;
      } finally {
        release?.();
        releaseSearch?.();
      }
    }
  }

  /** `POST /crm/v3/objects/{contacts|companies|calls|tasks}/search`. */
  search(
    type: ObjectType,
    request: SearchRequest,
    ctx: RequestContext,
  ): Promise<{ results: HubSpotRecord[] }> {
    const body = {
      filterGroups: request.filterGroups.map((group) => ({
        filters: group.filters.map((filter) => ({ ...filter })),
      })),
      properties: [...request.properties],
      limit: request.limit,
      ...(request.after ? { after: request.after } : {}),
    } as unknown as ContactSearchBody;
    return this.run(`search ${type}`, 'search', ctx, (apis) => {
      switch (type) {
        case 'contacts':
          return apis.contactsSearch.doSearch(body);
        case 'companies':
          return apis.companiesSearch.doSearch(body);
        case 'calls':
          return apis.callsSearch.doSearch(body);
        case 'tasks':
          return apis.tasksSearch.doSearch(body);
      }
    });
  }

  /** `POST /crm/v3/objects/{calls|tasks|contacts}` (201). */
  create(
    type: 'calls' | 'tasks' | 'contacts',
    input: CreateInput,
    ctx: RequestContext,
  ): Promise<HubSpotRecord> {
    const body = toCreateBody(input) as unknown as CallCreateBody;
    return this.run(
      `create ${type === 'calls' ? 'the call engagement' : `the ${type.slice(0, -1)}`}`,
      'other',
      ctx,
      (apis) => {
        switch (type) {
          case 'calls':
            return apis.callsBasic.create(body);
          case 'tasks':
            return apis.tasksBasic.create(body);
          case 'contacts':
            return apis.contactsBasic.create(body);
        }
      },
    );
  }

  /** `POST /crm/v3/objects/calls/batch/create` (201, or 207 with per-input errors). */
  async batchCreateCalls(
    inputs: readonly CreateInput[],
    ctx: RequestContext,
  ): Promise<{ results: HubSpotRecord[]; errors: Array<{ message: string; category?: string }> }> {
    const body = { inputs: inputs.map(toCreateBody) } as unknown as CallBatchBody;
    const answer = await this.run('create call engagements in batch', 'other', ctx, (apis) =>
      apis.callsBatch.create(body),
    );
    const errors = 'errors' in answer && Array.isArray(answer.errors) ? answer.errors : [];
    return {
      results: answer.results,
      errors: errors.map((error) => ({ message: String(error.message), category: String(error.category) })),
    };
  }

  /** `GET /crm/v3/owners/` (one page of up to 500). */
  async owners(ctx: RequestContext): Promise<Array<{ id: string; name: string }>> {
    const page = await this.run('list owners', 'other', ctx, (apis) =>
      apis.owners.getPage(undefined, undefined, 500, false),
    );
    return page.results.map((owner) => ({
      id: String(owner.id),
      name: [owner.firstName, owner.lastName].filter(Boolean).join(' ') || owner.email || String(owner.id),
    }));
  }

  /**
   * A daily-quota 429 waits until the account's own day starts again (`resetsAt` of the usage
   * endpoint), not UTC midnight. When the usage cannot be read, the error is kept as it was.
   */
  private async untilDailyReset(error: AdapterError, ctx: RequestContext): Promise<AdapterError> {
    try {
      const response = await this.client.apiRequest({
        method: 'GET',
        path: '/account-info/v3/api-usage/daily/private-apps',
      });
      const body = (await response.json().catch(() => undefined)) as
        | { results?: Array<{ resetsAt?: unknown }>; resetsAt?: unknown }
        | undefined;
      const raw = body?.results?.[0]?.resetsAt ?? body?.resetsAt;
      const resetsAt =
        typeof raw === 'string' || typeof raw === 'number' ? new Date(raw).getTime() : Number.NaN;
      if (!response.ok || !Number.isFinite(resetsAt)) return error;
      const retryAfterMs = Math.max(1000, resetsAt - this.now());
      return new AdapterError(
        'rate-limit',
        `${error.message} The daily quota resets at ${new Date(resetsAt).toISOString()}.`,
        {
          retryAfterMs,
          quota: 'daily',
          status: error.status,
          code: error.code,
          correlationId: error.correlationId,
        },
      );
    } catch (cause) {
      ctx.logger.warn({ error: String(cause) }, 'could not read when the HubSpot daily quota resets');
      return error;
    }
  }

  /**
   * Whether an object type has a property (`GET /crm/v3/properties/{type}/{name}`): false on 404,
   * and on 403 (a token without the schema scope cannot tell, so the property is not relied on).
   */
  async propertyExists(type: ObjectType, name: string, ctx: RequestContext): Promise<boolean> {
    return this.run(`read the ${type} property ${name}`, 'other', ctx, async () => {
      const response = await this.client.apiRequest({
        method: 'GET',
        path: `/crm/v3/properties/${type}/${encodeURIComponent(name)}`,
      });
      await response.text();
      if (response.status === 404 || response.status === 403) return false;
      if (!response.ok) {
        throw Object.assign(new Error(`HTTP ${response.status}`), {
          code: response.status,
          headers: Object.fromEntries(response.headers.entries()),
        });
      }
      return true;
    });
  }

  /** `GET /account-info/v3/details` through `client.apiRequest` (no generated API for it in 13.5). */
  async accountInfo(ctx: RequestContext): Promise<AccountInfo> {
    return this.run('read the account details', 'other', ctx, async () => {
      const response = await this.client.apiRequest({ method: 'GET', path: '/account-info/v3/details' });
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (!response.ok) {
        throw Object.assign(new Error(`HTTP ${response.status}`), {
          code: response.status,
          body,
          headers: Object.fromEntries(response.headers.entries()),
        });
      }
      const record = (body ?? {}) as { portalId?: unknown; uiDomain?: unknown };
      if (typeof record.portalId !== 'number' && typeof record.portalId !== 'string') {
        throw new AdapterError('transient', 'HubSpot account details did not include a portalId.');
      }
      return {
        portalId: String(record.portalId),
        ...(typeof record.uiDomain === 'string' ? { uiDomain: record.uiDomain } : {}),
      };
    });
  }
}

function toCreateBody(input: CreateInput) {
  return {
    properties: { ...input.properties },
    ...(input.associations && input.associations.length > 0
      ? {
          associations: input.associations.map((association) => ({
            to: { id: association.toId },
            types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: association.typeId }],
          })),
        }
      : {}),
  };
}
