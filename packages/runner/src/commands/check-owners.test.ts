import { describe, expect, it } from 'vitest';
import type { CtiConfig } from '../config/schema.js';
import { ownerIdsOf } from './check.js';

describe('check: the owners handed to an adapter', () => {
  it('collects every ownerMap value of that adapter across tokens, once each', () => {
    const config = {
      tokens: {
        a: { ownerMap: { odoo: { '0033972101010': 'jane@acme.com', agent_1: '7' }, hubspot: { x: '51' } } },
        b: { ownerMap: { odoo: { '0033972101011': '7' } } },
        c: {},
      },
    } as unknown as CtiConfig;
    expect(ownerIdsOf(config, 'odoo').sort()).toEqual(['7', 'jane@acme.com']);
    expect(ownerIdsOf(config, 'hubspot')).toEqual(['51']);
    expect(ownerIdsOf(config, 'salesforce')).toEqual([]);
  });
});
