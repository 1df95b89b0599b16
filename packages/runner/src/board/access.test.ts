import type { IncomingMessage } from 'node:http';
import { memoryAdapter, silentLogger } from '@cti-bridge/core';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/env.js';
import { boardEnabled, parseConfig } from '../config/schema.js';
import { logScreenPop, screenPopFields } from '../ops/screen-pop-log.js';
import { authorise, isLoopback, safeEqual } from './access.js';
import { labeller } from './labels.js';

const TOKEN = 'ACCE5500-0000-4000-8000-000000000001';
const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('board access', () => {
  it('loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost'])
      expect(isLoopback(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'board.example'])
      expect(isLoopback(host)).toBe(false);
  });

  it('compares secrets of any length in constant time and exactly', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', 'x')).toBe(false);
  });

  it('takes the token as Bearer, Basic password, cookie or query; anything else is refused', () => {
    const token = 'the-board-token-0123';
    const url = new URL('http://h/');
    expect(authorise(request({}), url, undefined)).toEqual({ ok: true });
    expect(authorise(request({}), url, token).ok).toBe(false);
    expect(authorise(request({ authorization: `Bearer ${token}` }), url, token)).toEqual({
      ok: true,
      via: 'bearer',
    });
    const basic = Buffer.from(`me:${token}`).toString('base64');
    expect(authorise(request({ authorization: `Basic ${basic}` }), url, token)).toEqual({
      ok: true,
      via: 'basic',
    });
    expect(authorise(request({ cookie: `a=b; cti_board=${token}` }), url, token)).toEqual({
      ok: true,
      via: 'cookie',
    });
    expect(authorise(request({}), new URL(`http://h/?token=${token}`), token)).toEqual({
      ok: true,
      via: 'query',
    });
    expect(authorise(request({ authorization: `Bearer ${token}x` }), url, token).ok).toBe(false);
    const wrongUser = Buffer.from(token).toString('base64');
    expect(authorise(request({ authorization: `Basic ${wrongUser}` }), url, token).ok).toBe(false);
  });
});

describe('board and webhook config', () => {
  const base = {
    adapters: { crm: memoryAdapter({ name: 'crm' }) },
    tokens: { [TOKEN]: { adapters: ['crm'] } },
  };
  const issuesOf = (input: unknown): string[] => {
    try {
      parseConfig(input);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return [...(error as ConfigError).issues];
    }
    throw new Error('expected the config to be rejected');
  };

  it('the board is on by default on loopback; beyond it, only with a token', () => {
    expect(parseConfig(base).http).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(boardEnabled(parseConfig(base).http)).toBe(true);
    expect(parseConfig(base).webhooks).toEqual([]);
    expect(boardEnabled(parseConfig({ ...base, http: { host: '0.0.0.0' } }).http)).toBe(false);
    expect(
      boardEnabled(
        parseConfig({ ...base, http: { host: '0.0.0.0', boardToken: 'a-long-board-token-1234' } }).http,
      ),
    ).toBe(true);
    expect(boardEnabled(parseConfig({ ...base, http: { board: false } }).http)).toBe(false);
    expect(boardEnabled(parseConfig({ ...base, http: false }).http)).toBe(false);
  });

  it('a board asked for beyond loopback needs http.boardToken', () => {
    const issues = issuesOf({ ...base, http: { host: '0.0.0.0', board: true } });
    expect(issues.join('\n')).toMatch(/http\.boardToken: the live board listens on 0\.0\.0\.0/);
    expect(parseConfig({ ...base, http: { host: '0.0.0.0', board: false } }).http).toMatchObject({
      board: false,
    });
    expect(
      parseConfig({ ...base, http: { host: '0.0.0.0', boardToken: 'a-long-board-token-1234' } }).http,
    ).toMatchObject({ boardToken: 'a-long-board-token-1234' });
    expect(issuesOf({ ...base, http: { boardToken: 'short' } }).join('\n')).toMatch(/at least 16/);
  });

  it('webhooks: known events or patterns, http(s) URLs, long secrets, unique names', () => {
    const hook = {
      url: 'https://hooks.example/cti',
      events: ['call.*', 'queue.left'],
      secret: 'whsec-0123456789abcdef',
    };
    expect(parseConfig({ ...base, webhooks: [hook] }).webhooks).toHaveLength(1);
    const issues = issuesOf({
      ...base,
      webhooks: [
        { ...hook, events: ['call.rang'] },
        { ...hook, url: 'ftp://x/' },
        { ...hook, secret: 'short' },
        { ...hook, name: 'a' },
        { ...hook, name: 'a' },
      ],
    }).join('\n');
    expect(issues).toMatch(/webhooks\[0\]\.events\[0\]: expected one of call\.ringing/);
    expect(issues).toMatch(/webhooks\[1\]\.url/);
    expect(issues).toMatch(/webhooks\[2\]\.secret: expected a secret of at least 16/);
    expect(issues).toMatch(/webhooks\[4\]\.name: webhook name 'a' is used twice/);
  });
});

describe('screen pop log line', () => {
  it('names line, caller, record, CRM and URL, with the token masked', async () => {
    const lines: Array<{ data: Record<string, unknown>; message?: string | undefined }> = [];
    const logger = {
      ...silentLogger,
      info: (data: Record<string, unknown>, message?: string) => lines.push({ data, message }),
    };
    const phone = (raw: string, e164: string) => ({ raw, e164, withheld: false });
    logScreenPop(logger, {
      token: TOKEN,
      call: {
        id: 'c-1',
        token: TOKEN,
        direction: 'inbound',
        state: 'ringing',
        line: phone('0033972101010', '+33972101010'),
        remote: phone('0612345678', '+33612345678'),
        linesRung: ['+33972101010'],
        startedAt: new Date(0),
        ringSeconds: 0,
        talkSeconds: 0,
        holdSeconds: 0,
        inferred: false,
      },
      matches: [
        {
          recordType: 'Contact',
          id: '003',
          displayName: 'Alice Martin',
          kind: 'person',
          url: 'https://crm.example/003',
          companyName: 'Martin SARL',
          matchedPhone: '+33 6 12 34 56 78',
          quality: 'exact',
          ambiguous: false,
        },
      ],
      adapter: 'salesforce',
      url: 'https://crm.example/003',
      latencyMs: 12.34,
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.data).toMatchObject({
      token: 'ACCE5500…',
      line: '+33972101010',
      caller: '+33612345678',
      name: 'Alice Martin',
      company: 'Martin SARL',
      crm: 'salesforce',
      url: 'https://crm.example/003',
    });
    expect(lines[0]?.message).toBe('screen pop: +33612345678 → +33972101010: Alice Martin (salesforce)');
    expect(JSON.stringify(lines)).not.toContain(TOKEN);
    expect(screenPopFields).toBeTypeOf('function');
  });
});

describe('line labels', () => {
  it('finds a configured label in any notation of the number', () => {
    const label = labeller({ [TOKEN]: { lineLabels: { '0033972101010': 'Reception' } } });
    expect(label(TOKEN, '+33972101010')).toBe('Reception');
    expect(label(TOKEN, '09 72 10 10 10')).toBe('Reception');
    expect(label(TOKEN, '0972101011')).toBeUndefined();
    expect(label('other', '+33972101010')).toBeUndefined();
  });
});
