import { describe, expect, it } from 'vitest';
import { classifyHttpFailure, classifyNetworkError } from './network.js';

describe('classifyHttpFailure', () => {
  it('maps statuses to kinds', () => {
    expect(classifyHttpFailure({ status: 401 }).kind).toBe('auth');
    expect(classifyHttpFailure({ status: 403 }).kind).toBe('auth');
    expect(classifyHttpFailure({ status: 400 }).kind).toBe('invalid');
    expect(classifyHttpFailure({ status: 422 }).kind).toBe('invalid');
    expect(classifyHttpFailure({ status: 404 }).kind).toBe('not-found');
    expect(classifyHttpFailure({ status: 409 }).kind).toBe('conflict');
    expect(classifyHttpFailure({ status: 503 }).kind).toBe('transient');
    expect(classifyHttpFailure({ status: 408 }).kind).toBe('transient');
    expect(classifyHttpFailure({ code: 'ECONNRESET' }).kind).toBe('transient');
  });

  it('reads Retry-After from seconds, a date, a Headers or a record', () => {
    expect(classifyHttpFailure({ status: 429, retryAfter: '2' })).toEqual({
      kind: 'rate-limit',
      retryAfterMs: 2000,
    });
    expect(classifyHttpFailure({ status: 429, headers: new Headers({ 'Retry-After': '3' }) })).toEqual({
      kind: 'rate-limit',
      retryAfterMs: 3000,
    });
    expect(classifyHttpFailure({ status: 503, headers: { 'Retry-After': '1' } })).toEqual({
      kind: 'transient',
      retryAfterMs: 1000,
    });
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(classifyHttpFailure({ status: 429, retryAfter: 'Thu, 01 Jan 2026 00:00:05 GMT' }, now)).toEqual({
      kind: 'rate-limit',
      retryAfterMs: 5000,
    });
    expect(classifyHttpFailure({ status: 429 })).toEqual({ kind: 'rate-limit' });
  });
});

describe('classifyNetworkError', () => {
  it('finds a network code on the error or in its cause chain', () => {
    const socket = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    expect(classifyNetworkError(new TypeError('fetch failed', { cause: socket }))).toEqual({
      kind: 'transient',
      code: 'UND_ERR_SOCKET',
    });
    expect(classifyNetworkError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))?.code).toBe(
      'ECONNRESET',
    );
  });

  it('treats timeouts as transient and anything else as unknown', () => {
    expect(classifyNetworkError(new DOMException('t', 'TimeoutError'))?.kind).toBe('transient');
    const timeout = Object.assign(new Error('timed out'), { name: 'TimeoutError' });
    expect(classifyNetworkError(timeout)).toEqual({ kind: 'transient', code: 'TimeoutError' });
    expect(classifyNetworkError(new Error('boom'))).toBeUndefined();
    expect(classifyNetworkError('ECONNRESET')).toBeUndefined();
  });
});
