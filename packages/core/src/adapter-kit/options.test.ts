import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isAdapterError } from '../adapter/errors.js';
import { parseAdapterOptions } from './options.js';

const schema = z.object({ accessToken: z.string().min(10), portal: z.object({ id: z.number() }) });

describe('parseAdapterOptions', () => {
  it('returns the parsed options', () => {
    expect(
      parseAdapterOptions(schema, { accessToken: 'x'.repeat(10), portal: { id: 1 } }, 'hubspot'),
    ).toEqual({
      accessToken: 'x'.repeat(10),
      portal: { id: 1 },
    });
  });

  it('throws an invalid AdapterError naming the adapter and each option key', () => {
    let caught: unknown;
    try {
      parseAdapterOptions(schema, { accessToken: 'short', portal: { id: 'a' } }, 'hubspot');
    } catch (error) {
      caught = error;
    }
    expect(isAdapterError(caught)).toBe(true);
    const error = caught as Error & { kind: string };
    expect(error.kind).toBe('invalid');
    expect(error.message).toMatch(/^hubspot options are invalid: /);
    expect(error.message).toContain('accessToken: ');
    expect(error.message).toContain('portal.id: ');
  });

  it('names the whole options object when the input is not an object', () => {
    expect(() => parseAdapterOptions(schema, 42, 'odoo')).toThrow(/^odoo options are invalid: \(options\): /);
  });

  it('names unknown keys of a strict schema, and never echoes a value', () => {
    const strict = z.strictObject({ apiKey: z.string() });
    expect(() =>
      parseAdapterOptions(strict, { apiKey: 's3cret-value', apikey: 'other-s3cret' }, 'acme'),
    ).toThrow('acme options are invalid: (options): unknown key(s) apikey');
    expect(() => parseAdapterOptions(strict, { apiKey: 42 }, 'acme')).not.toThrow(/42/);
  });
});
