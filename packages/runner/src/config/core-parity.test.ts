import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_DELIVERY,
  DEFAULT_POLICIES,
  deliveryOptionsSchema,
  memoryAdapter,
  policiesSchema,
  routeFieldsSchema,
} from '@cti-bridge/core';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './env.js';
import { parseConfig } from './schema.js';

/**
 * The runner's config schema is built from core's schemas and defaults: these tests fail when the
 * two drift apart (a field, a bound or a default that one has and the other has not).
 */

const TOKEN = '1738D072-E7C8-4742-85C5-B22DA3D8BD8F';
const adapters = { hubspot: memoryAdapter({ name: 'hubspot' }) };

function parse(extra: Record<string, unknown>, route: Record<string, unknown> = {}) {
  return parseConfig({ adapters, tokens: { [TOKEN]: { adapters: ['hubspot'], ...route } }, ...extra });
}

function rejects(extra: Record<string, unknown>): boolean {
  try {
    parse(extra);
    return false;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return true;
  }
}

describe("the runner's config follows core's schemas and defaults", () => {
  it("applies core's default policies", () => {
    expect(parse({}).policies).toEqual(DEFAULT_POLICIES);
  });

  it('accepts every value of every core policy, globally and per adapter', () => {
    for (const [key, schema] of Object.entries(policiesSchema.shape)) {
      const values = 'options' in schema ? (schema.options as readonly unknown[]) : [true, false];
      for (const value of values) {
        const config = parse({ policies: { [key]: value, adapters: { hubspot: { [key]: value } } } });
        expect(config.policies).toMatchObject({ [key]: value, adapters: { hubspot: { [key]: value } } });
        expect(policiesSchema.shape[key as keyof typeof policiesSchema.shape].safeParse(value).success).toBe(
          true,
        );
      }
    }
  });

  it("accepts every core delivery field with core's defaults, globally and per adapter", () => {
    expect(deliveryOptionsSchema.parse(DEFAULT_DELIVERY)).toEqual(DEFAULT_DELIVERY);
    const config = parse({
      delivery: { ...DEFAULT_DELIVERY, adapters: { hubspot: { ...DEFAULT_DELIVERY } } },
    });
    expect(config.delivery).toEqual({ ...DEFAULT_DELIVERY, adapters: { hubspot: DEFAULT_DELIVERY } });
  });

  it("has core's bounds for delivery fields", () => {
    const cases: [keyof typeof DEFAULT_DELIVERY, number][] = [
      ['ratePerSecond', 0],
      ['concurrency', 0],
      ['concurrency', 65],
      ['maxAttempts', 0],
      ['maxAttempts', 101],
      ['batchSize', 201],
      ['timeoutMs', 50],
      ['timeoutMs', 0],
      ['baseDelayMs', 1.5],
    ];
    for (const [field, value] of cases) {
      const core = deliveryOptionsSchema.shape[field].safeParse(value).success;
      expect({ field, value, runnerRejects: rejects({ delivery: { [field]: value } }) }).toEqual({
        field,
        value,
        runnerRejects: !core,
      });
    }
  });

  it("reads a token's route fields as core's route schema does", () => {
    const fields = { defaultCountry: 'be', lineLabels: { '0972101010': 'Accueil' } };
    const core = routeFieldsSchema.parse(fields);
    const route = parse({}, fields).tokens[TOKEN];
    expect({ defaultCountry: route?.defaultCountry, lineLabels: route?.lineLabels }).toEqual(core);
    expect(routeFieldsSchema.safeParse({ defaultCountry: 'France' }).success).toBe(false);
    expect(() => parse({}, { defaultCountry: 'France' })).toThrow(ConfigError);
  });

  it("defines no default of its own for the country or the OVH events URL (core's DEFAULT_COUNTRY, DEFAULT_OVH_EVENTS_URL)", () => {
    const src = fileURLToPath(new URL('..', import.meta.url));
    const offenders: string[] = [];
    const visit = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) visit(path);
        else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
          const text = readFileSync(path, 'utf8');
          if (/'https:\/\/events\.voip\.ovh\.net'/.test(text) || /\?\? 'FR'/.test(text)) offenders.push(path);
        }
      }
    };
    visit(src);
    expect(offenders).toEqual([]);
  });
});
