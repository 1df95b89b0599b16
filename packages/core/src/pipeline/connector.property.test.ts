import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AdapterError } from '../adapter/errors.js';
import { memoryAdapter } from '../adapter/memory-adapter.js';
import { normalizeEvent } from '../ovh/index.js';
import type { OvhEvent } from '../ovh/types.js';
import { createMemoryStore } from '../store/memory-store.js';
import { createScenario } from '../testing/scenario/index.js';
import { createConnector } from './connector.js';

const TOKEN = 'tok-prop';

async function* replay(events: readonly OvhEvent[]): AsyncGenerator<OvhEvent> {
  for (const event of events) yield event;
}

describe('createConnector property (fast-check)', () => {
  it('whatever the CRM answers along the way (429, 5xx, errors), every call is logged exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          calls: fc.integer({ min: 1, max: 6 }),
          script: fc.array(fc.constantFrom('ok', '429', '503', '500', 'reset'), { maxLength: 25 }),
          batch: fc.boolean(),
          concurrency: fc.integer({ min: 1, max: 3 }),
          seed: fc.nat(),
        }),
        async ({ calls, script, batch, concurrency, seed }) => {
          let now = Date.UTC(2026, 0, 5, 12);
          let step = 0;
          const adapter = memoryAdapter({
            contacts: [{ id: 'x', name: 'X', phone: '0612345678' }],
            capabilities: { batchLogCall: batch },
            beforeOperation: (operation) => {
              if (operation !== 'write') return;
              const next = script[step++] ?? 'ok';
              if (next === '429') throw new AdapterError('rate-limit', 'slow down', { retryAfterMs: 2_000 });
              if (next === '503' || next === '500') throw new AdapterError('transient', `answered ${next}`);
              if (next === 'reset') throw new Error('socket hang up');
            },
          });
          const scenario = createScenario({ token: TOKEN, seed: seed + 1 });
          for (let i = 0; i < calls; i++) {
            scenario.inboundAnswered({
              from: '0612345678',
              to: '0972101010',
              ringSeconds: 2,
              talkSeconds: 10 + i,
            });
          }
          const events = scenario.events().map((raw) => {
            const result = normalizeEvent(raw, { token: TOKEN });
            if (!result.ok) throw new Error(result.error);
            return result.event;
          });
          const connector = createConnector({
            stream: replay(events),
            store: createMemoryStore({ clock: () => now }),
            routes: { [TOKEN]: { adapters: [{ name: 'memory', adapter }] } },
            clock: () => now,
            sleep: async (ms) => {
              now += ms;
            },
            random: () => 0.5,
            housekeepingIntervalMs: 0,
            delivery: { maxAttempts: 60, baseDelayMs: 100, concurrency, timeoutMs: 5_000 },
          });
          await connector.start();
          await connector.drain();
          await connector.stop();
          const ids = adapter.activities.map((a) => a.externalId);
          expect(ids).toHaveLength(calls);
          expect(new Set(ids).size).toBe(calls);
          expect(await connector.outbox.counts()).toEqual({ pending: 0, delivered: calls, dead: 0 });
        },
      ),
      { numRuns: 40 },
    );
  });
});
