import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScenario, startFakeOvhApi, startFakeOvhEventsServer } from '@cti-bridge/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runRecord } from './record.js';
import { runReplay } from './replay.js';
import { runTokens } from './tokens.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cti-cmd-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('tokens create|list|delete (OVH API, signed requests)', () => {
  it('manages the event token of a billing account with credentials from the environment', async () => {
    const api = await startFakeOvhApi();
    const keys = [
      'OVH_ENDPOINT',
      'OVH_APPLICATION_KEY',
      'OVH_APPLICATION_SECRET',
      'OVH_CONSUMER_KEY',
    ] as const;
    const saved = keys.map((key) => process.env[key]);
    process.env.OVH_ENDPOINT = api.url;
    process.env.OVH_APPLICATION_KEY = api.applicationKey;
    process.env.OVH_APPLICATION_SECRET = api.applicationSecret;
    process.env.OVH_CONSUMER_KEY = api.consumerKey;
    try {
      const out: string[] = [];
      expect(await runTokens('list', { billingAccount: 'ovhtel-1' }, (l) => out.push(l))).toBe(0);
      expect(out.pop()).toBe('No event token for ovhtel-1.');
      await runTokens('create', { billingAccount: 'ovhtel-1', expiration: '1 day' }, (l) => out.push(l));
      const created = Object.values(api.tokens())[0] as string;
      expect(created).toBeTruthy();
      expect(out).toContain(created);
      out.length = 0;
      await runTokens('list', { billingAccount: 'ovhtel-1' }, (l) => out.push(l));
      expect(out).toEqual([created]);
      await runTokens('delete', { billingAccount: 'ovhtel-1' }, (l) => out.push(l));
      expect(api.tokens()).toEqual({});
      await expect(
        runTokens('create', { billingAccount: 'ovhtel-1', expiration: 'forever' }, () => {}),
      ).rejects.toMatchObject({ code: 2 });
      // every token request was signed
      expect(
        api
          .requests()
          .filter((r) => r.path.includes('eventToken'))
          .every((r) => r.signed),
      ).toBe(true);
    } finally {
      keys.forEach((key, i) => {
        if (saved[i] === undefined) delete process.env[key];
        else process.env[key] = saved[i];
      });
      await api.close();
    }
  });

  it('names the missing credentials', async () => {
    const saved = process.env.OVH_APPLICATION_KEY;
    delete process.env.OVH_APPLICATION_KEY;
    try {
      await expect(runTokens('list', { billingAccount: 'x' }, () => {})).rejects.toThrow(
        /OVH_APPLICATION_KEY is not set[\s\S]*createToken/,
      );
    } finally {
      if (saved !== undefined) process.env.OVH_APPLICATION_KEY = saved;
    }
  });
});

describe('record then replay', () => {
  it('records raw events from the stream to JSON lines that replay to the same calls', async () => {
    const token = 'RECORD00-0000-4000-8000-000000000001';
    const ovh = await startFakeOvhEventsServer({ holdMs: 200 });
    try {
      const s = createScenario({ token });
      s.inboundAnswered({
        from: '0612345678',
        to: '0033972101010',
        ringSeconds: 3,
        talkSeconds: 42,
        callId: 'r-1',
      });
      s.outbound({ from: '0033972101010', to: '0145678900', ringSeconds: 5, talkSeconds: 0, callId: 'r-2' });
      const events = s.events();
      ovh.push(token, events);
      const file = join(dir, 'rec.jsonl');
      const out: string[] = [];
      await runRecord({ file, token: [token], baseUrl: ovh.url, maxEvents: String(events.length) }, (l) =>
        out.push(l),
      );
      expect(out.at(-1)).toBe(`${events.length} event(s) recorded.`);
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(events.length);
      // Timestamp digits survive (they exceed 2^53)
      expect(lines[0]).toMatch(/"Timestamp":"?\d{19}/);
      // the token is masked in the file, and the output says so
      expect(readFileSync(file, 'utf8')).not.toContain(token);
      expect(lines[0]).toContain('"Token":"RECORD00…"');
      expect(out.some((line) => line.includes('tokens are masked'))).toBe(true);

      const replayed: string[] = [];
      await runReplay({ file, dryRun: true, format: 'json', token: 'x', defaultCountry: 'FR' }, (l) =>
        replayed.push(l),
      );
      const calls = replayed.map(
        (l) => JSON.parse(l) as { id: string; outcome: string; talkSeconds: number },
      );
      expect(calls.map((c) => [c.id, c.outcome])).toEqual([
        ['r-1', 'answered'],
        ['r-2', 'cancelled'],
      ]);
      expect(calls[0]?.talkSeconds).toBe(42);
    } finally {
      await ovh.close();
    }
  });
});
