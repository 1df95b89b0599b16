import { describe, expect, it } from 'vitest';
import { memoryAdapter } from '../adapter/memory-adapter.js';
import { CallTracker } from '../calls/call-tracker.js';
import type { Call } from '../calls/types.js';
import { normalizeEvent } from '../ovh/index.js';
import type { OvhEvent } from '../ovh/types.js';
import { createScenario } from '../testing/scenario/index.js';
import { idempotencyKey } from './idempotency.js';
import { callEntries } from './outbox-entries.js';
import { decodePayload, toCallRecord } from './records.js';
import { createRouting } from './routing.js';
import type { Route } from './types.js';

const TOKEN = 'tok-entries';

function missedCall(): Call {
  const tracker = new CallTracker({ settleMs: 0 });
  const events = createScenario({ token: TOKEN })
    .inboundMissed({ from: '0612345678', to: '0972101010', ringSeconds: 10, callId: 'call-1' })
    .events()
    .flatMap((raw): OvhEvent[] => {
      const result = normalizeEvent(raw, { token: TOKEN });
      return result.ok ? [result.event] : [];
    });
  const out = [...events.flatMap((event) => tracker.push(event)), ...tracker.flush()];
  const ended = out.find((event) => event.type === 'call.ended');
  if (ended?.type !== 'call.ended') throw new Error('the scenario ended no call');
  return ended.call;
}

describe('outbox entries', () => {
  it('writes a log-call entry keyed by adapter, token, call and kind; a follow-up when the policy asks', () => {
    const call = missedCall();
    const target = {
      name: 'crm',
      adapter: memoryAdapter({ name: 'crm' }),
      ownerMap: { '0972101010': 'user-9' },
    };
    const route: Route = { adapters: [target], policies: { missedCallFollowUp: true } };
    const routing = createRouting({ [TOKEN]: route });
    const cache = { settledMatch: () => null };
    const entries = callEntries(call, toCallRecord(call), route, target, { routing, cache, createdAt: 42 });
    expect(entries.map((e) => [e.id, e.kind, e.createdAt])).toEqual([
      [idempotencyKey('crm', TOKEN, call.id, 'log-call'), 'log-call', 42],
      [idempotencyKey('crm', TOKEN, call.id, 'follow-up'), 'follow-up', 42],
    ]);
    const payload = decodePayload(entries[0]?.payload ?? '');
    expect(payload).toMatchObject({ match: null, ownerId: 'user-9' });
    expect(entries[0]?.id).not.toContain(TOKEN);
  });
});
