import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configTemplate, type InitCrm } from '../commands/init.js';
import { loadConfig } from './load.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cti-load-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const TEMPLATE_ENV: Record<InitCrm, string[]> = {
  hubspot: ['HUBSPOT_ACCESS_TOKEN', 'OVH_EVENT_TOKEN'],
  salesforce: ['SALESFORCE_CLIENT_ID', 'SALESFORCE_USERNAME', 'SALESFORCE_PRIVATE_KEY', 'OVH_EVENT_TOKEN'],
  odoo: ['ODOO_URL', 'ODOO_DATABASE', 'ODOO_LOGIN', 'ODOO_API_KEY', 'OVH_EVENT_TOKEN'],
};

/** Runs `fn` with these variables unset (restored after). */
async function withoutEnv<T>(names: readonly string[], fn: () => Promise<T>): Promise<T> {
  const saved = names.map((name) => [name, process.env[name]] as const);
  for (const name of names) delete process.env[name];
  try {
    return await fn();
  } finally {
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;
  }
}

describe('loading a config: every missing variable at once', () => {
  for (const crm of ['hubspot', 'salesforce', 'odoo'] as const) {
    it(`init's ${crm} config with nothing set names every variable, even those after a factory that refused a placeholder`, async () => {
      const file = join(dir, 'cti.config.ts');
      writeFileSync(file, configTemplate(crm, 'cti.config.ts'));
      const names = TEMPLATE_ENV[crm];
      const error = await withoutEnv(names, () =>
        loadConfig(file).then(
          () => undefined,
          (e: unknown) => e,
        ),
      );
      expect(error).toMatchObject({ name: 'ConfigError' });
      const message = (error as Error).message;
      for (const name of names) expect(message).toContain(name);
    });
  }

  it('a variable with a default is not reported', async () => {
    const file = join(dir, 'cti.config.mts');
    writeFileSync(
      file,
      `import { defineConfig, env } from 'cti-runner';
       const url = new URL(env('CTI_TEST_URL_UNSET')); // refuses the placeholder
       // const commented = env('CTI_TEST_COMMENTED_UNSET');
       /* env('CTI_TEST_BLOCK_UNSET') */
       export default defineConfig({
         adapters: {},
         tokens: { [env('CTI_TEST_TOKEN_UNSET')]: { adapters: [env('CTI_TEST_OPTIONAL_UNSET', { default: 'x' })] } },
         ovh: { baseUrl: url.href },
       });`,
    );
    const error = await withoutEnv(
      ['CTI_TEST_URL_UNSET', 'CTI_TEST_TOKEN_UNSET', 'CTI_TEST_OPTIONAL_UNSET', 'CTI_TEST_COMMENTED_UNSET'],
      () =>
        loadConfig(file).then(
          () => undefined,
          (e: unknown) => e as Error,
        ),
    );
    expect(error?.message).toContain('CTI_TEST_URL_UNSET, CTI_TEST_TOKEN_UNSET');
    expect(error?.message).not.toContain('CTI_TEST_OPTIONAL_UNSET');
    expect(error?.message).not.toContain('CTI_TEST_COMMENTED_UNSET');
    expect(error?.message).not.toContain('CTI_TEST_BLOCK_UNSET');
  });
});

describe('loading a config: a package that is not installed', () => {
  it('names the package to install', async () => {
    const file = join(dir, 'cti.config.mts');
    writeFileSync(
      file,
      `import { pipedrive } from '@cti-bridge/adapter-pipedrive-not-installed';
       import { defineConfig } from 'cti-runner';
       export default defineConfig({ adapters: { p: pipedrive({}) }, tokens: {} });`,
    );
    await expect(loadConfig(file)).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringContaining(
        'imports @cti-bridge/adapter-pipedrive-not-installed, which is not installed: npm install @cti-bridge/adapter-pipedrive-not-installed',
      ),
    });
  });
});

describe('loading a config: a .ts config in a "type": "commonjs" folder (npm init -y)', () => {
  it('loads init’s config without any warning from Node', async () => {
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'x', version: '1.0.0', type: 'commonjs' }),
    );
    const file = join(dir, 'cti.config.ts');
    writeFileSync(file, configTemplate('hubspot', 'cti.config.ts'));
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    const saved = {
      HUBSPOT_ACCESS_TOKEN: process.env.HUBSPOT_ACCESS_TOKEN,
      OVH_EVENT_TOKEN: process.env.OVH_EVENT_TOKEN,
    };
    process.env.HUBSPOT_ACCESS_TOKEN = 'pat-na1-00000000-0000-0000-0000-000000000000';
    process.env.OVH_EVENT_TOKEN = 'DE3A0000-C71B-4D6E-9F00-0000000D3E31';
    try {
      const { config } = await loadConfig(file);
      expect(Object.keys(config.adapters)).toEqual(['hubspot']);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      for (const [name, value] of Object.entries(saved))
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
    }
  });
});
