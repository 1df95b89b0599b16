import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { runDemo } from './demo.js';

async function demo(forceMemory: boolean): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const code = await runDemo({ forceMemory, timeoutMs: 60_000 }, (line) => lines.push(line));
  return { code, output: lines.join('\n') };
}

describe('cti-runner demo', () => {
  it('plays the day against the bundled fake CRMs: every call logged exactly once, exit 0', async () => {
    const { code, output } = await demo(false);
    expect(output).toContain('Summary (counted at the fake CRMs)');
    expect(output).toMatch(/Salesforce\s+fake\s+9\/9\s+0\s+0\s+\d+\s+0/);
    expect(output).toMatch(/HubSpot\s+fake\s+9\/9\s+0\s+0\s+\d+\s+0/);
    expect(output).toMatch(/Odoo\s+fake\s+9\/9\s+0\s+0\s+\d+\s+0/);
    // the outage happened: failed writes were retried
    expect(output).toMatch(/CRM write\(s\) failed/);
    expect(output).toContain('☎');
    expect(output).toContain('Every call was logged exactly once in every CRM');
    expect(code).toBe(0);
  }, 120_000);

  it('works with the in-memory stand-ins too (fallback when an adapter has no fake)', async () => {
    const { code, output } = await demo(true);
    expect(output).toMatch(/Salesforce\s+memory\s+9\/9\s+0\s+0\s+\d+\s+0/);
    expect(code).toBe(0);
  }, 120_000);
});
