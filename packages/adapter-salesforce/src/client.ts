import { AsyncLocalStorage } from 'node:async_hooks';
import { createSign } from 'node:crypto';
import { type AdapterContext, AdapterError, type Logger } from '@cti-bridge/core';
import jsforce, { type Connection } from 'jsforce';
import { type ObservedResponse, redact, toSalesforceError } from './errors.js';
import type { ResolvedSalesforceOptions } from './options.js';

type Auth = ResolvedSalesforceOptions['auth'];

/** Per-operation scope: the refresh budget and the last HTTP answer seen. */
interface OperationScope {
  refreshes: number;
  /** Why the last refresh failed (jsforce rewraps it in a plain Error). */
  refreshError?: unknown;
  last?: ObservedResponse;
  readonly ctx?: AdapterContext;
}

/** What a token request gave us. */
interface Acquired {
  readonly accessToken: string;
  readonly instanceUrl: string;
  readonly refreshToken?: string;
}

/** State key of the persisted session (access token, instance URL, rotated refresh token). */
const SESSION_KEY = 'session';

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/** `aud` of a JWT bearer assertion: Salesforce wants login or test, never My Domain. */
export function jwtAudience(loginUrl: string): string {
  const host = new URL(loginUrl).hostname;
  if (/(^|\.)test\.salesforce\.com$/.test(host) || /\.sandbox\.my\.salesforce\.com$/.test(host)) {
    return 'https://test.salesforce.com';
  }
  if (/(^|\.)salesforce\.com$/.test(host)) return 'https://login.salesforce.com';
  return loginUrl;
}

/** Lifetime of a JWT bearer assertion: it is used at once, and Salesforce allows at most 3 minutes. */
export const JWT_LIFETIME_SECONDS = 90;

/** Signs a JWT bearer assertion (RS256) for Salesforce's OAuth 2.0 JWT bearer flow. */
export function signJwtAssertion(input: {
  readonly clientId: string;
  readonly username: string;
  readonly audience: string;
  readonly privateKey: string;
  readonly now?: number;
}): string {
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const payload = base64url(
    JSON.stringify({
      iss: input.clientId,
      sub: input.username,
      aud: input.audience,
      // Salesforce refuses an exp more than 3 minutes ahead of its clock: 90 s leaves room for our
      // clock being up to 90 s ahead (or behind) of Salesforce's
      exp: Math.floor((input.now ?? Date.now()) / 1000) + JWT_LIFETIME_SECONDS,
    }),
  );
  const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(input.privateKey);
  return `${header}.${payload}.${base64url(signature)}`;
}

/** The secrets of an auth option, for redaction. */
export function secretsOf(auth: Auth): string[] {
  switch (auth.type) {
    case 'token':
      return [auth.accessToken];
    case 'refresh-token':
      return [auth.refreshToken, auth.clientSecret ?? '', auth.accessToken ?? ''].filter((s) => s !== '');
    case 'jwt':
      return [auth.privateKey];
    case 'password':
      return [auth.password, auth.securityToken, auth.clientSecret ?? ''].filter((s) => s !== '');
  }
}

/**
 * One jsforce Connection, its login and its session refresh. Every Salesforce call runs through
 * {@link SalesforceSession.run}, which:
 * - logs in on first use (JWT, password, refresh token), reusing a session persisted in the
 *   adapter state when there is one;
 * - allows **one** session refresh per operation: jsforce refreshes on every 401 with no cap, so
 *   a second 401 in the same operation fails it as `auth` instead of looping;
 * - persists refreshed tokens (and rotated refresh tokens) in the adapter state;
 * - maps every failure to an AdapterError, with the HTTP status and Retry-After jsforce drops.
 */
export class SalesforceSession {
  private readonly scope = new AsyncLocalStorage<OperationScope>();
  private connectionPromise: Promise<Connection> | undefined;
  private refreshToken: string | undefined;
  private readonly secrets: string[];
  private readonly configuredSecretCount: number;

  constructor(
    private readonly options: ResolvedSalesforceOptions,
    private readonly logger: Logger,
  ) {
    this.secrets = secretsOf(options.auth);
    this.configuredSecretCount = this.secrets.length;
    if (options.auth.type === 'refresh-token') this.refreshToken = options.auth.refreshToken;
  }

  /** Remembers an acquired token for redaction (the last few only: tokens rotate). */
  private rememberSecret(secret: string): void {
    if (this.secrets.includes(secret)) return;
    this.secrets.push(secret);
    if (this.secrets.length > this.configuredSecretCount + 8)
      this.secrets.splice(this.configuredSecretCount, 1);
  }

  /** The instance URL once connected. */
  instanceUrl(): string | undefined {
    return this.current?.instanceUrl;
  }

  /** API usage from the last `Sforce-Limit-Info` header. */
  apiUsage(): { used: number; limit: number } | undefined {
    return this.current?.limitInfo?.apiUsage;
  }

  private current: Connection | undefined;

  /** Runs `fn` with a connected Connection, inside a fresh operation scope, mapping errors. */
  async run<T>(ctx: AdapterContext, what: string, fn: (conn: Connection) => Promise<T>): Promise<T> {
    if (ctx.signal?.aborted) {
      throw new AdapterError(
        'transient',
        `Salesforce ${what} was cancelled before it started; it will be retried.`,
      );
    }
    const scope: OperationScope = { refreshes: 0, ctx };
    return this.scope.run(scope, async () => {
      try {
        const result = await this.withDeadline(
          this.connection(ctx).then((conn) => fn(conn)),
          ctx,
          what,
        );
        this.watchUsage(ctx);
        return result;
      } catch (error) {
        const original =
          error instanceof Error &&
          error.message.startsWith('Unable to refresh session') &&
          scope.refreshError
            ? scope.refreshError
            : error;
        const mapped = toSalesforceError(original, what, scope.last, this.secrets);
        ctx.logger.warn(
          { kind: mapped.kind, code: mapped.code, status: mapped.status, operation: what },
          redact(mapped.message, this.secrets),
        );
        throw mapped;
      }
    });
  }

  private usageWarned = false;

  /** Warns once when the org's daily API usage (Sforce-Limit-Info) passes 90%. */
  private watchUsage(ctx: AdapterContext): void {
    const usage = this.apiUsage();
    if (!usage || usage.limit <= 0) return;
    const high = usage.used / usage.limit >= 0.9;
    if (high && !this.usageWarned) {
      ctx.logger.warn(
        { used: usage.used, limit: usage.limit },
        'Salesforce daily API usage is above 90%: calls will fail with REQUEST_LIMIT_EXCEEDED at the limit; consider an External ID field on Task (one request per call) or a higher limit',
      );
    }
    this.usageWarned = high;
  }

  /** Fails the operation when the deadline passes or the caller aborts (jsforce cannot be cancelled). */
  private withDeadline<T>(work: Promise<T>, ctx: AdapterContext, what: string): Promise<T> {
    const ms = this.options.timeoutMs;
    return new Promise<T>((resolve, reject) => {
      const signal = ctx.signal;
      const onAbort = () =>
        reject(
          new AdapterError(
            'transient',
            `Salesforce ${what} was cancelled before it finished; it will be retried.`,
          ),
        );
      const timer = setTimeout(
        () =>
          reject(
            new AdapterError(
              'transient',
              `Salesforce ${what} got no answer within ${ms} ms; it will be retried.`,
            ),
          ),
        ms,
      );
      if (signal?.aborted) onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      work.then(resolve, reject).finally(() => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      });
    });
  }

  private connection(ctx: AdapterContext): Promise<Connection> {
    if (!this.connectionPromise) {
      this.connectionPromise = this.connect(ctx).catch((error: unknown) => {
        this.connectionPromise = undefined;
        throw error;
      });
    }
    return this.connectionPromise;
  }

  private async connect(ctx: AdapterContext): Promise<Connection> {
    const { auth, apiVersion } = this.options;
    const stored = auth.type === 'token' ? undefined : await this.loadSession(ctx);
    if (stored?.refreshToken && auth.type === 'refresh-token') this.refreshToken = stored.refreshToken;
    const conn: Connection = new jsforce.Connection({
      version: apiVersion,
      ...(auth.type === 'token'
        ? { instanceUrl: auth.instanceUrl, accessToken: auth.accessToken }
        : {
            loginUrl: auth.loginUrl,
            ...(stored
              ? { instanceUrl: stored.instanceUrl, accessToken: stored.accessToken }
              : auth.type === 'refresh-token' && auth.instanceUrl && auth.accessToken
                ? { instanceUrl: auth.instanceUrl, accessToken: auth.accessToken }
                : {}),
            ...(auth.type === 'refresh-token' || auth.type === 'password'
              ? {
                  oauth2: {
                    loginUrl: auth.loginUrl,
                    ...(auth.clientId ? { clientId: auth.clientId } : {}),
                    ...(auth.clientSecret ? { clientSecret: auth.clientSecret } : {}),
                  },
                }
              : {}),
            refreshFn: (
              c: Connection,
              callback: (error: Error | null | undefined, token?: string) => void,
            ) => {
              this.refreshFromJsforce(c, callback);
            },
          }),
    });
    this.observe(conn);
    this.current = conn;
    if (auth.type !== 'token' && !conn.accessToken) {
      const acquired = await this.acquire(conn);
      this.establish(conn, acquired);
      await this.saveSession(ctx, acquired);
    }
    return conn;
  }

  /** Records the status and headers of every REST answer in the operation scope. */
  private observe(conn: Connection): void {
    const transport = conn._transport;
    const original = transport.httpRequest.bind(transport);
    transport.httpRequest = (request, options) => {
      const promise = original(request, options);
      const scope = this.scope.getStore();
      if (scope) {
        promise.then(
          (response) => {
            scope.last = { status: response.statusCode, headers: response.headers ?? {} };
          },
          () => {},
        );
      }
      return promise;
    };
  }

  private establish(conn: Connection, acquired: Acquired): void {
    conn.accessToken = acquired.accessToken;
    conn.instanceUrl = acquired.instanceUrl;
    this.rememberSecret(acquired.accessToken);
    if (acquired.refreshToken) {
      this.refreshToken = acquired.refreshToken;
      this.rememberSecret(acquired.refreshToken);
    }
  }

  /** jsforce's refresh hook, with the one-refresh-per-operation budget. */
  private refreshFromJsforce(
    conn: Connection,
    callback: (error: Error | null | undefined, token?: string) => void,
  ): void {
    const scope = this.scope.getStore();
    if (scope && scope.refreshes >= 1) {
      const error = Object.assign(
        new Error('Salesforce rejected the refreshed session too (INVALID_SESSION_ID)'),
        {
          errorCode: 'INVALID_SESSION_ID',
        },
      );
      scope.refreshError = error;
      callback(error);
      return;
    }
    if (scope) scope.refreshes++;
    (scope?.ctx?.logger ?? this.logger).info(
      { auth: this.options.auth.type },
      'Salesforce session expired: refreshing',
    );
    this.acquire(conn).then(
      async (acquired) => {
        this.establish(conn, acquired);
        if (scope?.ctx) await this.saveSession(scope.ctx, acquired).catch(() => {});
        callback(null, acquired.accessToken);
      },
      (error: unknown) => {
        if (scope) scope.refreshError = error;
        callback(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  /** Gets a new access token the configured way. */
  private async acquire(conn: Connection): Promise<Acquired> {
    const { auth } = this.options;
    switch (auth.type) {
      case 'token':
        throw Object.assign(new Error('the access token was rejected and no refresh method is configured'), {
          errorCode: 'INVALID_SESSION_ID',
        });
      case 'refresh-token': {
        const res = await conn.oauth2.refreshToken(this.refreshToken ?? auth.refreshToken);
        return {
          accessToken: res.access_token,
          instanceUrl: res.instance_url || conn.instanceUrl,
          ...(res.refresh_token ? { refreshToken: res.refresh_token } : {}),
        };
      }
      case 'jwt': {
        const assertion = signJwtAssertion({
          clientId: auth.clientId,
          username: auth.username,
          audience: auth.audience ?? jwtAudience(auth.loginUrl),
          privateKey: auth.privateKey,
        });
        const res = await conn.oauth2.requestToken({
          grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          assertion,
        });
        return { accessToken: res.access_token, instanceUrl: res.instance_url };
      }
      case 'password': {
        const secret = auth.password + auth.securityToken;
        if (auth.clientId && auth.clientSecret) await conn.loginByOAuth2(auth.username, secret);
        else await conn.loginBySoap(auth.username, secret);
        if (!conn.accessToken) throw new Error('Salesforce login returned no session');
        return { accessToken: conn.accessToken, instanceUrl: conn.instanceUrl };
      }
    }
  }

  private async loadSession(ctx: AdapterContext): Promise<Acquired | undefined> {
    try {
      const raw = await ctx.state.get(SESSION_KEY);
      if (!raw) return undefined;
      const parsed = JSON.parse(raw) as Partial<Acquired>;
      if (typeof parsed.accessToken !== 'string' || typeof parsed.instanceUrl !== 'string') return undefined;
      this.rememberSecret(parsed.accessToken);
      if (typeof parsed.refreshToken === 'string') this.rememberSecret(parsed.refreshToken);
      return {
        accessToken: parsed.accessToken,
        instanceUrl: parsed.instanceUrl,
        ...(typeof parsed.refreshToken === 'string' ? { refreshToken: parsed.refreshToken } : {}),
      };
    } catch {
      return undefined;
    }
  }

  private async saveSession(ctx: AdapterContext, acquired: Acquired): Promise<void> {
    const value: Acquired = {
      accessToken: acquired.accessToken,
      instanceUrl: acquired.instanceUrl,
      ...(this.options.auth.type === 'refresh-token' &&
      this.refreshToken &&
      this.refreshToken !== this.options.auth.refreshToken
        ? { refreshToken: this.refreshToken }
        : {}),
    };
    await ctx.state.set(SESSION_KEY, JSON.stringify(value));
  }

  /** Forgets the connection (next call logs in again). */
  close(): void {
    this.connectionPromise = undefined;
    this.current = undefined;
  }
}
