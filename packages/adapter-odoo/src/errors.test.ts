import { parsePhone } from '@cti-bridge/core';
import { describe, expect, it } from 'vitest';
import { callRecord } from './__fixtures__/helpers.js';
import { mapOdooError } from './errors.js';
import { callDetails, callSummary, formatDuration, markerOf } from './format.js';
import { phoneDomain, textSearchTerms } from './lookup.js';

const context = {
  operation: 'search_read res.partner',
  login: 'bot@acme.test',
  database: 'acme',
  secrets: ['K3Y-s3cret'],
};

function fault(faultCode: number | string, faultString: string): Error {
  return Object.assign(new Error(`XML-RPC fault: ${faultString}`), {
    faultCode,
    code: faultCode,
    faultString,
  });
}

describe('mapOdooError', () => {
  it('maps the old /xmlrpc string fault codes', () => {
    expect(mapOdooError(fault('AccessDenied', 'Access Denied'), context).kind).toBe('auth');
    const warning = mapOdooError(fault('warning -- UserError\n\nThe phone is invalid', ''), context);
    expect(warning.kind).toBe('invalid');
  });

  it('maps an unknown model (fault 2 "Object … doesn\'t exist") to not-found, naming the module to install', () => {
    const error = mapOdooError(fault(2, "Object crm.lead doesn't exist"), context);
    expect(error.kind).toBe('not-found');
    expect(error.message).toContain('crm.lead');
  });

  it('keeps only the exception line of a traceback and scrubs secrets from it', () => {
    const error = mapOdooError(
      fault(1, 'Traceback (most recent call last):\n  File "x.py"\nValueError: bad value K3Y-s3cret'),
      context,
    );
    expect(error.kind).toBe('invalid');
    expect(error.message).toBe(
      'Odoo search_read res.partner: Odoo rejected the request: ValueError: bad value [REDACTED]',
    );
    expect(String((error.cause as Error).message)).not.toContain('K3Y-s3cret');
  });

  it('maps socket errors to transient and a 404 to invalid (wrong URL)', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(mapOdooError(refused, context)).toMatchObject({ kind: 'transient', code: 'ECONNREFUSED' });
    const notFound = Object.assign(new Error('Not Found'), { res: { statusCode: 404, headers: {} } });
    expect(mapOdooError(notFound, context)).toMatchObject({ kind: 'invalid', status: 404 });
    expect(mapOdooError(notFound, context).message).toContain('`url`');
  });

  it('maps other HTTP answers by the common rule, in Odoo words: 429 with its wait, 410, 412, 408', () => {
    const answered = (statusCode: number, headers: Record<string, string> = {}) =>
      Object.assign(new Error(`HTTP ${statusCode}`), { res: { statusCode, headers } });
    expect(mapOdooError(answered(429, { 'retry-after': '7' }), context)).toMatchObject({
      kind: 'rate-limit',
      retryAfterMs: 7000,
    });
    expect(mapOdooError(answered(410), context).kind).toBe('not-found');
    expect(mapOdooError(answered(412), context).kind).toBe('conflict');
    expect(mapOdooError(answered(408), context).kind).toBe('transient');
    expect(mapOdooError(answered(502), context).message).toContain('Odoo is unavailable (HTTP 502)');
  });
});

describe('call text', () => {
  it('formats durations a person reads, losslessly', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(60)).toBe('1 min');
    expect(formatDuration(192)).toBe('3 min 12 s');
    expect(formatDuration(3725)).toBe('1 h 2 min 5 s');
  });

  it('makes markers without LIKE wildcards, hashing keys that would contain any', () => {
    expect(markerOf('conformance:abc-1:log-call')).toBe('[cti-bridge conformance:abc-1:log-call]');
    const hashed = markerOf('call_1%|x');
    expect(hashed).toMatch(/^\[cti-bridge [0-9a-f]{40}\]$/);
    expect(markerOf('call_1%|y')).not.toBe(hashed);
  });

  it('says missed for a missed call and gives the outbound direction', () => {
    expect(callSummary(callRecord({ outcome: 'missed', talkSeconds: 0 }))).toBe(
      'Missed call from +33 6 12 34 56 78',
    );
    const lines = callDetails(callRecord({ direction: 'outbound', talkSeconds: 301 }), {
      timeZone: 'Europe/Paris',
      marker: '[cti-bridge k]',
    });
    expect(lines[0]).toBe('Outbound call to +33 6 12 34 56 78: answered');
    expect(lines).toContain('Duration: 5 min 1 s (rang 8 s)');
    expect(lines).toContain('Started: 2026-11-25 10:00 (Europe/Paris)');
  });
});

describe('phone domains', () => {
  it('uses one phone_mobile_search leaf on the national significant number', () => {
    expect(
      phoneDomain(parsePhone('+14155551212'), {
        phoneMobileSearch: true,
        mobile: true,
        phoneSanitized: true,
      }),
    ).toEqual([['phone_mobile_search', 'ilike', '4155551212']]);
  });

  it('falls back to a minimal set of text spellings on phone (and mobile when present)', () => {
    expect(textSearchTerms(parsePhone('+33612345678'))).toEqual([
      '612345678',
      '6 12 34 56 78',
      '6.12.34.56.78',
      '6-12-34-56-78',
    ]);
    const domain = phoneDomain(parsePhone('+33612345678'), {
      phoneMobileSearch: false,
      mobile: false,
      phoneSanitized: false,
    });
    expect(domain).toEqual([
      '|',
      '|',
      '|',
      ['phone', 'ilike', '612345678'],
      ['phone', 'ilike', '6 12 34 56 78'],
      ['phone', 'ilike', '6.12.34.56.78'],
      ['phone', 'ilike', '6-12-34-56-78'],
    ]);
  });

  it('gives no domain for a withheld or unreadable number', () => {
    const fields = { phoneMobileSearch: true, mobile: true, phoneSanitized: true };
    expect(phoneDomain(parsePhone('anonymous'), fields)).toBeUndefined();
    expect(phoneDomain(parsePhone("' OR 1=1"), fields)).toBeUndefined();
  });
});
