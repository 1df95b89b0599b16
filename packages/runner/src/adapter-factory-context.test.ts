import 'reflect-metadata';
import http from 'node:http';
import https from 'node:https';
import { type Logger, memoryAdapter, silentLogger } from '@cti-bridge/core';
import { describe, expect, it } from 'vitest';
import { adapterContext } from './adapter-context.js';
import type { AdapterFactoryContext, HttpAgents } from './adapter-factory-context.js';
import { parseConfig } from './config/schema.js';
import { buildBaseContainer, resolveAdapterFactoryContext } from './di.js';
import { createSqliteStore } from './store/sqlite-store.js';
import { buildAdapters } from './wiring.js';

/** A logger that records the bindings of its children. */
function recordingLogger(bindings: Record<string, unknown>[] = []): Logger & { bindings: typeof bindings } {
  const logger: Logger & { bindings: typeof bindings } = {
    ...silentLogger,
    bindings,
    child(b: Record<string, unknown>) {
      bindings.push(b);
      return logger;
    },
  } as Logger & { bindings: typeof bindings };
  return logger;
}

describe('the context an adapter factory receives', () => {
  const config = parseConfig({
    adapters: { crm: memoryAdapter({ name: 'crm' }) },
    tokens: { 'TOKEN-A-0000': { adapters: ['crm'] } },
  });

  it('holds exactly name, logger, state, clock and httpAgents — not the store', () => {
    const store = createSqliteStore({ path: ':memory:' });
    const base = buildBaseContainer({ config, logger: silentLogger, store, clock: () => 1 });
    const context = resolveAdapterFactoryContext(base, 'crm');
    expect(Object.keys(context).sort()).toEqual(['clock', 'httpAgents', 'logger', 'name', 'state']);
    expect(Object.values(context)).not.toContain(store);
    expect('store' in context).toBe(false);
    expect(Object.isFrozen(context)).toBe(true);
    store.close?.();
  });

  it("binds the logger to the adapter's name and hands out the container's clock and HTTP agents", () => {
    const store = createSqliteStore({ path: ':memory:' });
    const logger = recordingLogger();
    const agents: HttpAgents = { http: new http.Agent(), https: new https.Agent() };
    const clock = () => 42;
    const base = buildBaseContainer({ config, logger, store, clock, httpAgents: agents });
    const context = resolveAdapterFactoryContext(base, 'crm');
    expect(context.name).toBe('crm');
    expect(logger.bindings).toEqual([{ adapter: 'crm' }]);
    expect(context.clock).toBe(clock);
    expect(context.httpAgents).toBe(agents);
    agents.http.destroy();
    agents.https.destroy();
    store.close?.();
  });

  it('defaults the HTTP agents to the global ones', () => {
    const store = createSqliteStore({ path: ':memory:' });
    const base = buildBaseContainer({ config, logger: silentLogger, store, clock: Date.now });
    const context = resolveAdapterFactoryContext(base, 'crm');
    expect(context.httpAgents).toEqual({ http: http.globalAgent, https: https.globalAgent });
    store.close?.();
  });

  it('gives the adapter its own state, the one the pipeline and one-off commands use', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    const base = buildBaseContainer({ config, logger: silentLogger, store, clock: Date.now });
    await resolveAdapterFactoryContext(base, 'crm').state.set('refresh', 'r1');
    expect(await adapterContext(store, 'crm', silentLogger).state.get('refresh')).toBe('r1');
    expect(await resolveAdapterFactoryContext(base, 'other').state.get('refresh')).toBeUndefined();
    store.close?.();
  });

  it('is what buildAdapters passes to each factory', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    const seen: AdapterFactoryContext[] = [];
    const factoryConfig = parseConfig({
      adapters: {
        crm: (context: AdapterFactoryContext) => {
          seen.push(context);
          return memoryAdapter({ name: 'crm' });
        },
      },
      tokens: { 'TOKEN-A-0000': { adapters: ['crm'] } },
    });
    const base = buildBaseContainer({ config: factoryConfig, logger: silentLogger, store, clock: () => 7 });
    await buildAdapters(factoryConfig, (name) => resolveAdapterFactoryContext(base, name));
    expect(seen.map((c) => [c.name, c.clock()])).toEqual([['crm', 7]]);
    store.close?.();
  });
});
