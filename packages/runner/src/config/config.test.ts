import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryAdapter } from '@cti-bridge/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scrubSecrets } from '../ops/secrets.js';
import { ConfigError, env } from './env.js';
import { loadConfig } from './load.js';
import { defineConfig, parseConfig } from './schema.js';

const TOKEN = '1738D072-E7C8-4742-85C5-B22DA3D8BD8F';
/** An OVH event token is a credential: config errors name it by its mask only. */
const SECRET_TOKEN = TOKEN;

function issuesOf(input: unknown): string[] {
  try {
    parseConfig(input, 'cti.config.ts');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).issues];
  }
  throw new Error('expected the config to be rejected');
}

describe('config validation', () => {
  const adapters = { hubspot: memoryAdapter({ name: 'hubspot' }), odoo: memoryAdapter({ name: 'odoo' }) };

  it('accepts a minimal config and applies defaults', () => {
    const config = parseConfig(
      defineConfig({ adapters, tokens: { [TOKEN]: { adapters: ['hubspot', 'odoo'] } } }),
    );
    expect(config.store).toEqual({ kind: 'sqlite', path: './cti-bridge.db' });
    expect(config.policies).toEqual({
      unknownCaller: 'log-only',
      internalCalls: 'skip',
      missedCallFollowUp: false,
      queueSessions: true,
    });
    expect(config.http).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(config.tokens[TOKEN]?.adapters).toEqual(['hubspot', 'odoo']);
  });

  it('never prints an OVH token in full in a config error (the key under tokens is masked)', () => {
    const issues = issuesOf({
      adapters,
      tokens: { [SECRET_TOKEN]: { adapters: ['odoo'], defaultCountri: 'FR' } },
    });
    expect(issues).toEqual(['tokens.1738D072….defaultCountri: unknown key — check the spelling']);
    expect(issues.join('\n')).not.toContain(SECRET_TOKEN);
  });

  it('names the token and index of an unknown adapter, and lists the defined ones', () => {
    const issues = issuesOf({ adapters, tokens: { [SECRET_TOKEN]: { adapters: ['hubspt'] } } });
    expect(issues).toEqual([
      "tokens.1738D072….adapters[0]: unknown adapter 'hubspt' — defined adapters: hubspot, odoo",
    ]);
  });

  it('names a misspelt key, a wrong enum value and a wrong type', () => {
    const issues = issuesOf({
      adapters,
      tokens: { [SECRET_TOKEN]: { adapters: ['odoo'], defaultCountry: 'France' } },
      policies: { unknownCaller: 'create' },
      http: { port: 'x' },
      logging: { levle: 'debug' },
    });
    expect(issues).toContain(
      'tokens.1738D072….defaultCountry: expected an ISO 3166 alpha-2 country code such as "FR"',
    );
    expect(issues.some((i) => i.startsWith('policies.unknownCaller: expected one of "log-only"'))).toBe(true);
    expect(issues.some((i) => i.startsWith('http.port: expected number'))).toBe(true);
    expect(issues).toContain('logging.levle: unknown key — check the spelling');
  });

  it('rejects something that is not an adapter, naming it', () => {
    const issues = issuesOf({
      adapters: { crm: { name: 'x' } },
      tokens: { [SECRET_TOKEN]: { adapters: ['crm'] } },
    });
    expect(issues[0]).toMatch(/^adapters\.crm: expected a CrmAdapter v1/);
  });

  it('reports a missing section as missing', () => {
    const issues = issuesOf({ adapters });
    expect(issues[0]).toMatch(/^tokens: missing — expected record/);
  });

  it('names an unknown adapter in per-adapter overrides', () => {
    const issues = issuesOf({
      adapters,
      tokens: { [SECRET_TOKEN]: { adapters: ['odoo'] } },
      delivery: { adapters: { odo: { concurrency: 1 } } },
    });
    expect(issues).toEqual([
      "delivery.adapters.odo: unknown adapter 'odo' — defined adapters: hubspot, odoo",
    ]);
  });

  it('checks lookup order and owner maps against the token adapters', () => {
    const issues = issuesOf({
      adapters,
      tokens: {
        [SECRET_TOKEN]: {
          adapters: ['odoo'],
          lookup: ['hubspot'],
          ownerMap: { hubspot: { '0033972123456': '7' } },
        },
      },
    });
    expect(issues).toEqual([
      "tokens.1738D072….lookup[0]: adapter 'hubspot' is not in this token's adapters (odoo)",
      "tokens.1738D072….ownerMap.hubspot: adapter 'hubspot' is not in this token's adapters (odoo)",
    ]);
  });
});

describe('env()', () => {
  it('returns the value and registers it as a secret to scrub from logs', () => {
    const value = env('CTI_TEST_SECRET', { source: { CTI_TEST_SECRET: 's3cr3t-value-123' } });
    expect(value).toBe('s3cr3t-value-123');
    expect(scrubSecrets('token=s3cr3t-value-123;')).toBe('token=[REDACTED];');
  });

  it('throws a ConfigError naming the variable when missing, unless a default is given', () => {
    expect(() => env('CTI_MISSING_VAR', { source: {} })).toThrow(ConfigError);
    expect(() => env('CTI_MISSING_VAR', { source: { CTI_MISSING_VAR: '' } })).toThrow(
      /environment variable CTI_MISSING_VAR is not set: export CTI_MISSING_VAR=/,
    );
    expect(env('CTI_MISSING_VAR', { source: {}, default: 'fallback' })).toBe('fallback');
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cti-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a TypeScript config importing cti-runner and core, with types erased', async () => {
    const file = join(dir, 'cti.config.ts');
    writeFileSync(
      file,
      `import { memoryAdapter } from '@cti-bridge/core';
       import { defineConfig } from 'cti-runner';
       const port: number = 0;
       export default defineConfig({
         store: { kind: 'memory' },
         adapters: { crm: memoryAdapter({ name: 'crm' }) },
         tokens: { T1: { adapters: ['crm'] } },
         http: { port, host: '127.0.0.1' },
       });`,
    );
    const { config, path } = await loadConfig(undefined, dir);
    expect(path).toBe(file);
    expect(config.http).toEqual({ port: 0, host: '127.0.0.1' });
    expect(Object.keys(config.adapters)).toEqual(['crm']);
  });

  it('loads JSON (adapters as factories cannot be JSON: the error says so)', async () => {
    const file = join(dir, 'cti.config.json');
    writeFileSync(
      file,
      JSON.stringify({ adapters: { crm: 'hubspot' }, tokens: { T1: { adapters: ['crm'] } } }),
    );
    await expect(loadConfig(file)).rejects.toThrow(/adapters\.crm: expected a CrmAdapter v1/);
  });

  it('surfaces an env() error thrown while the file loads, as a ConfigError', async () => {
    const file = join(dir, 'cti.config.mts');
    writeFileSync(
      file,
      `import { defineConfig, env } from 'cti-runner';
       export default defineConfig({ adapters: {}, tokens: { [env('CTI_NOT_SET_ANYWHERE')]: { adapters: ['x'] } } });`,
    );
    await expect(loadConfig(file)).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringContaining('CTI_NOT_SET_ANYWHERE is not set'),
    });
  });

  it('says where to start when no config exists', async () => {
    await expect(loadConfig(undefined, dir)).rejects.toThrow(
      /no config file: pass --config <file> or create cti\.config\.ts/,
    );
    await expect(loadConfig('nope.ts', dir)).rejects.toThrow(/config file not found/);
  });
});
