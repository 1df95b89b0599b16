import { describe, expect, it } from 'vitest';
import { toSalesforceError } from './errors.js';

const answered = (status: number, headers: Record<string, string> = {}) => ({ status, headers });
const failure = (message: string, errorCode?: string) =>
  Object.assign(new Error(message), errorCode ? { errorCode } : {});

describe('toSalesforceError', () => {
  it("Salesforce's error code wins over the HTTP status", () => {
    expect(toSalesforceError(failure('bad field', 'INVALID_FIELD'), 'log', answered(404)).kind).toBe(
      'invalid',
    );
    expect(toSalesforceError(failure('gone', 'ENTITY_IS_DELETED'), 'log', answered(400)).kind).toBe(
      'not-found',
    );
    expect(toSalesforceError(failure('limit', 'REQUEST_LIMIT_EXCEEDED'), 'log', answered(403)).kind).toBe(
      'rate-limit',
    );
  });

  it('without a known code, the common HTTP rule: 410 not-found, 412 conflict, 408 transient, 401 auth', () => {
    const kind = (status: number) => toSalesforceError(failure('no code'), 'log', answered(status)).kind;
    expect(kind(410)).toBe('not-found');
    expect(kind(412)).toBe('conflict');
    expect(kind(408)).toBe('transient');
    expect(kind(401)).toBe('auth');
    expect(kind(422)).toBe('invalid');
    expect(kind(503)).toBe('transient');
  });

  it('a network failure (no answer) is transient, and the message names the operation', () => {
    const error = toSalesforceError(failure('socket hang up', 'ECONNRESET'), 'log the call', undefined);
    expect(error.kind).toBe('transient');
    expect(error.message).toContain('Salesforce log the call failed');
  });
});
