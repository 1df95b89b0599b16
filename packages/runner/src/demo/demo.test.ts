import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import type { ModuleImporter } from './crms.js';
import { runDemo } from './demo.js';

async function demo(
  forceMemory: boolean,
  importer?: ModuleImporter,
): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const code = await runDemo(
    { forceMemory, timeoutMs: 60_000, ...(importer === undefined ? {} : { importer }) },
    (line) => lines.push(line),
  );
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
    expect(output).toMatch(/Live board http:\/\/127\.0\.0\.1:\d+\//);
    expect(output).toContain('Every call was logged exactly once in every CRM');
    expect(code).toBe(0);
  }, 120_000);

  it('works with the in-memory stand-ins too (fallback when an adapter has no fake)', async () => {
    const { code, output } = await demo(true);
    expect(output).toMatch(/Salesforce\s+memory\s+9\/9\s+0\s+0\s+\d+\s+0/);
    expect(code).toBe(0);
  }, 120_000);

  it('skips the CRMs whose adapter package is not installed, saying which package to install', async () => {
    // As with a HubSpot-only install: the other adapter packages cannot be found.
    const importer: ModuleImporter = (specifier) => {
      if (specifier.startsWith('@cti-bridge/adapter-hubspot')) return import(specifier);
      const error = Object.assign(
        new Error(`Cannot find package '${specifier.split('/').slice(0, 2).join('/')}' imported from /app`),
        { code: 'ERR_MODULE_NOT_FOUND' },
      );
      return Promise.reject(error);
    };
    const { code, output } = await demo(false, importer);
    expect(output).toContain(
      'Salesforce skipped: @cti-bridge/adapter-salesforce is not installed (npm install @cti-bridge/adapter-salesforce to add it)',
    );
    expect(output).toContain('Odoo       skipped: @cti-bridge/adapter-odoo is not installed');
    expect(output).toMatch(/HubSpot\s+fake\s+9\/9\s+0\s+0\s+\d+\s+0/);
    expect(output).not.toMatch(/Salesforce\s+(fake|memory)/);
    expect(output).toContain('9 calls × 1 CRMs');
    expect(code).toBe(0);
  }, 120_000);
});
