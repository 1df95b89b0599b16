import 'reflect-metadata';
import { type CrmAdapter, memoryAdapter, silentLogger } from '@cti-bridge/core';
import { describe, expect, it } from 'vitest';
import type { AdapterFactoryContext } from './adapter-factory-context.js';
import { parseConfig } from './config/schema.js';
import { buildBaseContainer, buildContainer, type Route, resolveAdapterFactoryContext } from './di.js';
import { adapterToken, TOKENS } from './di-tokens.js';
import { createMetrics } from './ops/metrics.js';
import { createSqliteStore } from './store/sqlite-store.js';
import { buildAdapters } from './wiring.js';

describe('DI container', () => {
  it('registers adapters, store and logger, and one child container per token with its route', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    const seen: Array<{ name: string; keys: string[] }> = [];
    const config = parseConfig({
      adapters: {
        hubspot: memoryAdapter({ name: 'hubspot' }),
        // An adapter given as a factory receives its context from the container (not the store).
        odoo: (context: AdapterFactoryContext) => {
          seen.push({ name: context.name, keys: Object.keys(context).sort() });
          return memoryAdapter({ name: 'odoo' });
        },
      },
      tokens: {
        'TOKEN-A-0000': {
          adapters: ['hubspot', 'odoo'],
          lookup: ['odoo'],
          ownerMap: { hubspot: { '0033972': '42' } },
        },
        'TOKEN-B-0000': { adapters: ['odoo'], defaultCountry: 'BE' },
      },
      delivery: { maxAttempts: 5, adapters: { hubspot: { concurrency: 1 } } },
      policies: { adapters: { hubspot: { queueSessions: false } } },
    });
    const metrics = createMetrics();
    const base = buildBaseContainer({ config, logger: silentLogger, store, clock: () => 1, metrics });
    const adapters = await buildAdapters(config, (name) => resolveAdapterFactoryContext(base, name));
    expect(seen).toEqual([{ name: 'odoo', keys: ['clock', 'httpAgents', 'logger', 'name', 'state'] }]);
    const { container, tokens } = buildContainer({
      config,
      logger: silentLogger,
      store,
      clock: () => 1,
      metrics,
      adapters,
      base,
    });
    expect(container.resolve(TOKENS.Store)).toBe(store);
    expect(container.resolve<CrmAdapter>(adapterToken('hubspot')).name).toBe('hubspot');

    const a = tokens.get('TOKEN-A-0000')!;
    expect(a.resolve(TOKENS.EventToken)).toBe('TOKEN-A-0000');
    const route = a.resolve<Route>(TOKENS.Route);
    // lookup order first (odoo), then the log-only adapter (hubspot), with its owner map
    expect(route.adapters.map((r) => [r.name, r.lookup, r.ownerMap])).toEqual([
      ['odoo', true, undefined],
      ['hubspot', false, { '0033972': '42' }],
    ]);
    // per-adapter overrides travel with the route
    expect(route.adapters[1]?.delivery).toEqual({ concurrency: 1 });
    expect(route.adapters[1]?.policies).toEqual({ queueSessions: false });
    expect(route.adapters[0]?.policies).toBeUndefined();
    expect(route.adapters[0]?.adapter).toBe(adapters.get('odoo'));
    // the factory registration is resolved once per token container
    expect(a.resolve(TOKENS.Route)).toBe(route);

    const b = tokens.get('TOKEN-B-0000')!;
    expect(b.resolve<Route>(TOKENS.Route).defaultCountry).toBe('BE');
    expect(b.resolve(TOKENS.EventToken)).toBe('TOKEN-B-0000');
    // child containers see the parent's registrations, not each other's
    expect(b.resolve(TOKENS.Store)).toBe(store);
    await store.close();
  });
});
