import { createRequire } from 'node:module';
import { AdapterError, type Logger } from '@cti-bridge/core';
import { mapOdooError } from './errors.js';

/** The slice of odoo-await 3.4 the adapter uses. */
interface OdooAwaitInstance {
  uid: number;
  connect(): Promise<number>;
  execute_kw(model: string, method: string, params: unknown[]): Promise<unknown>;
}
type OdooAwaitConstructor = new (options: {
  baseUrl: string;
  port?: number;
  db: string;
  username: string;
  password: string;
}) => OdooAwaitInstance;

// odoo-await is CommonJS (`module.exports = class`): load it with require for a stable shape.
const OdooAwait = createRequire(import.meta.url)('odoo-await') as OdooAwaitConstructor;

/** Connection settings of {@link OdooRpc}. */
export interface OdooRpcOptions {
  readonly url: string;
  readonly database: string;
  readonly login: string;
  readonly secret: string;
  /** Other secrets to scrub from messages (basic-auth password of the URL). */
  readonly otherSecrets?: readonly string[];
  readonly timeoutMs: number;
}

/**
 * A thin session over odoo-await: connects lazily (one `authenticate` shared by concurrent
 * callers), re-authenticates once when Odoo answers Access Denied (key rotated, server restored),
 * forgets a failed session so the next call tries again, bounds every call with a timeout and
 * the caller's AbortSignal, and maps every failure to an AdapterError.
 */
export class OdooRpc {
  readonly #options: OdooRpcOptions;
  #client: OdooAwaitInstance | undefined;
  #connecting: Promise<OdooAwaitInstance> | undefined;

  constructor(options: OdooRpcOptions) {
    this.#options = options;
  }

  /** uid of the API user, once connected. */
  get uid(): number | undefined {
    return this.#client?.uid;
  }

  /** Authenticates when not connected yet; returns the uid. */
  async connect(signal?: AbortSignal): Promise<number> {
    const client = await this.#session(signal);
    return client.uid;
  }

  /** Forgets the session: the next call authenticates again. */
  reset(): void {
    this.#client = undefined;
    this.#connecting = undefined;
  }

  /**
   * `execute_kw(model, method, args, kwargs)` — sent by odoo-await as
   * `execute_kw(db, uid, key, model, method, args, kwargs)`.
   */
  async call<T>(
    model: string,
    method: string,
    args: unknown[],
    kwargs: Record<string, unknown> | undefined,
    context: { readonly logger: Logger; readonly signal?: AbortSignal | undefined },
  ): Promise<T> {
    const operation = `${method} ${model}`;
    for (let attempt = 0; ; attempt++) {
      const client = await this.#session(context.signal);
      try {
        const params: unknown[] = kwargs === undefined ? [args] : [args, kwargs];
        return (await this.#bounded(
          client.execute_kw(model, method, params),
          operation,
          context.signal,
        )) as T;
      } catch (error) {
        const mapped = this.#map(error, operation);
        if (mapped.code === 'FAULT_3' && attempt === 0) {
          // The stored uid/key no longer works: authenticate again once, then retry.
          context.logger.warn({ model, method }, 'Odoo answered Access Denied; authenticating again');
          if (this.#client === client) this.reset();
          continue;
        }
        if (
          mapped.kind === 'transient' &&
          mapped.status === undefined &&
          !LOCAL_CODES.has(mapped.code ?? '')
        ) {
          // network trouble (not our own timeout or abort): the next call starts from a fresh session
          if (this.#client === client) this.reset();
        }
        throw mapped;
      }
    }
  }

  #map(error: unknown, operation: string): AdapterError {
    return mapOdooError(error, {
      operation,
      login: this.#options.login,
      database: this.#options.database,
      secrets: [this.#options.secret, ...(this.#options.otherSecrets ?? [])],
    });
  }

  async #session(signal: AbortSignal | undefined): Promise<OdooAwaitInstance> {
    if (this.#client) return this.#client;
    if (!this.#connecting) {
      const { url, database, login, secret } = this.#options;
      const client = new OdooAwait({ baseUrl: url, db: database, username: login, password: secret });
      const attempt = this.#bounded(client.connect(), 'authenticate', undefined).then(
        () => {
          this.#client = client;
          return client;
        },
        (error: unknown) => {
          throw this.#map(error, 'authenticate');
        },
      );
      this.#connecting = attempt;
      attempt
        .finally(() => {
          if (this.#connecting === attempt) this.#connecting = undefined;
        })
        .catch(() => {});
    }
    return this.#abortable(this.#connecting, signal);
  }

  #abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (!signal) return promise;
    if (signal.aborted) return Promise.reject(abortError());
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(abortError());
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  #bounded<T>(promise: Promise<T>, operation: string, signal: AbortSignal | undefined): Promise<T> {
    const { timeoutMs } = this.#options;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new AdapterError('transient', `Odoo ${operation}: no answer within ${timeoutMs} ms.`, {
              code: 'TIMEOUT',
            }),
          ),
        timeoutMs,
      );
      timer.unref?.();
    });
    // odoo-await has no cancellation: a late answer is ignored
    promise.catch(() => {});
    return this.#abortable(Promise.race([promise, timeout]), signal).finally(() => clearTimeout(timer));
  }
}

/** Failures decided on our side, which say nothing about the session. */
const LOCAL_CODES = new Set(['TIMEOUT', 'ABORTED']);

function abortError(): AdapterError {
  return new AdapterError('transient', 'Odoo call aborted by the caller.', { code: 'ABORTED' });
}
