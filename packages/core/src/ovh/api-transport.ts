import type { Dispatcher } from 'undici';
import { OvhApiError } from './api-errors.js';
import { request } from './http.js';

/** One answer of the OVH API, read whole. */
export interface OvhRawAnswer {
  readonly status: number;
  readonly text: string;
  /** `X-Ovh-QueryId`, for OVH support. */
  readonly queryId: string | undefined;
  /** `X-Pagination-Cursor-Next` of a paged listing, when there is a next page. */
  readonly nextCursor: string | undefined;
}

/** Sends one request to the OVH API (`path` under the base URL) and reads its answer. */
export type OvhSend = (
  method: string,
  path: string,
  body: string | undefined,
  headers: Record<string, string>,
) => Promise<OvhRawAnswer>;

/**
 * A sender to `baseUrl`: each request times out after `timeoutMs`; a network failure is a
 * `transient` {@link OvhApiError}. HTTP errors are answers, left to the caller.
 */
export function createOvhSender(
  baseUrl: string,
  timeoutMs: number,
  dispatcher: Dispatcher | undefined,
): OvhSend {
  return async (method, path, body, headers) => {
    try {
      const response = await request(`${baseUrl}${path}`, {
        method: method as Dispatcher.HttpMethod,
        headers: { accept: 'application/json', ...headers },
        ...(body !== undefined ? { body } : {}),
        ...(dispatcher ? { dispatcher } : {}),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const text = await response.body.text();
      const queryId = response.headers['x-ovh-queryid'];
      const cursor = response.headers['x-pagination-cursor-next'];
      return {
        status: response.statusCode,
        text,
        queryId: typeof queryId === 'string' ? queryId : undefined,
        nextCursor: typeof cursor === 'string' && cursor !== '' ? cursor : undefined,
      };
    } catch (error) {
      throw new OvhApiError(
        'transient',
        `could not reach the OVH API at ${baseUrl}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  };
}

/** An answer's body as JSON: `null` when empty, the text itself when it is not JSON. */
export function parseOvhJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
