import { describe, expect, it } from 'vitest';
import type { RawOvhEvent } from '../../ovh/types.js';
import { ScenarioState } from './state.js';

const event = (name: string) => ({ Event: name }) as unknown as RawOvhEvent;

describe('ScenarioState', () => {
  it('resolves the default options', () => {
    const state = new ScenarioState({});
    expect(state.token).toBe('B3C0A1E2-7F4D-4C1B-9A8E-5D6F7A8B9C0D');
    expect(new Date(state.clock).toISOString()).toBe('2026-01-05T09:00:00.000Z');
    expect(state.billingAccount).toBe('59415');
  });

  it('delivers events by time, then generation order', () => {
    const state = new ScenarioState({});
    state.push(2000, event('b'));
    state.push(1000, event('a'));
    state.push(2000, event('c'));
    expect(state.events().map((e) => e.Event)).toEqual(['a', 'b', 'c']);
    expect(state.seq).toBe(3);
  });

  it('a call on the clock moves it past its end; a call at startAt leaves it', () => {
    const state = new ScenarioState({ start: new Date(0) });
    const atClock = state.begin({});
    expect(atClock.t0).toBe(0);
    atClock.finish(5000);
    expect(state.clock).toBe(6000);
    const overlapping = state.begin({ startAt: 2 });
    expect(overlapping.t0).toBe(2000);
    overlapping.finish(60_000);
    expect(state.clock).toBe(6000);
  });

  it('records calls with their event count, and hands out copies', () => {
    const state = new ScenarioState({});
    state.push(0, event('a'));
    state.record({ kind: 'outbound', callIds: ['x'], startedAt: new Date(0), endedAt: new Date(1) }, 0);
    const calls = state.calls();
    expect(calls).toMatchObject([{ kind: 'outbound', eventCount: 1 }]);
    expect(state.calls()).not.toBe(calls);
  });
});
