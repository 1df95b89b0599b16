import { describe, expect, it } from 'vitest';
import { memoryAdapter } from '../adapter/memory-adapter.js';
import { collectTargets, createRouting, DEFAULT_POLICIES } from './routing.js';
import type { Route } from './types.js';

const crm = memoryAdapter({ name: 'crm' });
const other = memoryAdapter({ name: 'other' });

describe('routing', () => {
  it('routes a token to its own route, else to the "*" route', () => {
    const own: Route = { adapters: [{ name: 'crm', adapter: crm }] };
    const fallback: Route = { adapters: [{ name: 'other', adapter: other }] };
    const routing = createRouting({ 'tok-a': own, '*': fallback });
    expect(routing.routeOf('tok-a')).toBe(own);
    expect(routing.routeOf('tok-b')).toBe(fallback);
    expect(createRouting({ 'tok-a': own }).routeOf('tok-b')).toBeUndefined();
    expect([...routing.targets.keys()]).toEqual(['crm', 'other']);
  });

  it('refuses one adapter name for two different adapters', () => {
    expect(() =>
      collectTargets({
        a: { adapters: [{ name: 'crm', adapter: crm }] },
        b: { adapters: [{ name: 'crm', adapter: other }] },
      }),
    ).toThrow('adapter name "crm" (token b) is used for two different adapters');
  });

  it('layers policies: defaults < connector < route < adapter', () => {
    const target = { name: 'crm', adapter: crm, policies: { missedCallFollowUp: true } };
    const route: Route = { adapters: [target], policies: { internalCalls: 'log' } };
    const routing = createRouting({ t: route }, { unknownCaller: 'skip' });
    expect(routing.policiesOf(route, target)).toEqual({
      ...DEFAULT_POLICIES,
      unknownCaller: 'skip',
      internalCalls: 'log',
      missedCallFollowUp: true,
    });
    expect(routing.unknownCallerPolicy('t', { name: 'crm', adapter: crm })).toBe('skip');
  });

  it('maps owners and line labels by the raw key and by its E.164 form', () => {
    const target = { name: 'crm', adapter: crm, ownerMap: { '0144556677': 'user-1', agent7: 'user-7' } };
    const route: Route = { adapters: [target], lineLabels: { '01 44 55 66 77': 'Support' } };
    const routing = createRouting({ t: route });
    expect(routing.ownerOf(target, route, [undefined, '+33144556677'])).toBe('user-1');
    expect(routing.ownerOf(target, route, ['agent7'])).toBe('user-7');
    expect(routing.ownerOf(target, route, ['nobody'])).toBeUndefined();
    expect(routing.lineLabelsOf(route)).toEqual({ '01 44 55 66 77': 'Support', '+33144556677': 'Support' });
    expect(routing.agentKeys(undefined, route)).toEqual([]);
  });
});
