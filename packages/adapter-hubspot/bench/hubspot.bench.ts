/**
 * HubSpot adapter benchmark (run by `node scripts/bench.mjs hubspot` from the repo root).
 *
 * A burst of 1,000 ended calls delivered concurrently through `logCall` (as a pipeline with many
 * workers would), against the fake HubSpot enforcing the default per-app limit (190 requests per
 * 10 s, 5 searches/s), through the real @hubspot/api-client. Reports logged calls/s and HubSpot
 * requests per logged call (target ≤ 0.05). Baseline measured in the same run: the same adapter
 * with batching off (one search + one create per call) on 200 calls with the limits lifted, for
 * requests/call and calls/s.
 */
import type { AdapterState, CallRecord, CrmAdapter } from '@cti-bridge/core';
import { parsePhone, silentLogger } from '@cti-bridge/core';
import { benchReporter } from '../../../scripts/bench-kit.js';
import { hubspot } from '../src/index.js';
import { startFakeHubSpot } from '../src/testing/index.js';

const BENCH = 'adapter-hubspot/hubspot';

const print = benchReporter(BENCH);

function state(): AdapterState {
  const map = new Map<string, string>();
  return {
    get: async (key) => map.get(key),
    set: async (key, value) => {
      map.set(key, value);
    },
    delete: async (key) => {
      map.delete(key);
    },
  };
}

function call(i: number, prefix: string): CallRecord {
  const startedAt = new Date(Date.UTC(2026, 2, 2, 9, 0, i % 60));
  return {
    callId: `${prefix}-${i}`,
    token: 'bench',
    direction: i % 3 === 0 ? 'outbound' : 'inbound',
    outcome: i % 4 === 0 ? 'missed' : 'answered',
    line: parsePhone('0033972101010'),
    remote: parsePhone(`00336${String(10_000_000 + i).slice(-8)}`),
    startedAt,
    endedAt: new Date(startedAt.getTime() + 60_000),
    ringSeconds: 10,
    talkSeconds: i % 4 === 0 ? 0 : 50,
    holdSeconds: 0,
    inferred: false,
  };
}

async function burst(adapter: CrmAdapter, count: number, prefix: string): Promise<number> {
  const ctx = { logger: silentLogger, state: state() };
  const started = performance.now();
  const refs = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      adapter.logCall(call(i, prefix), { ...ctx, idempotencyKey: `${prefix}-${i}` }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  if (refs.filter((ref) => ref.created).length !== count)
    throw new Error(`${prefix}: not every call was created`);
  return seconds;
}

let batched = { seconds: 0, requests: 0 };

// Batched, under the default limits.
{
  const fake = await startFakeHubSpot();
  const adapter = hubspot({ accessToken: fake.accessToken, basePath: fake.url, portalId: fake.portalId });
  const seconds = await burst(adapter, 1000, 'burst');
  const requests = fake.requests().length;
  const stats = fake.rateStats();
  const logged = new Set(fake.records('calls').map((r) => r.properties.hs_call_external_id)).size;
  const total = fake.records('calls').length;
  await adapter.close?.();
  await fake.close();
  print('logged calls/s (burst of 1,000, batched, 190 req/10 s)', 1000 / seconds, 'calls/s');
  print(
    'HubSpot requests per logged call (batched)',
    requests / 1000,
    'requests/call',
    '≤ 0.05',
    requests / 1000 <= 0.05,
  );
  print(
    'most requests in one 10 s window (fake)',
    stats.maxInWindow,
    'requests',
    '≤ 190',
    stats.maxInWindow <= 190,
  );
  print('429 answers from the fake', stats.rejected, 'responses', '= 0', stats.rejected === 0);
  print('calls logged exactly once', logged, 'calls', '= 1000', logged === 1000 && total === 1000);
  batched = { seconds, requests };
}

// Baseline: batching off, limits lifted (otherwise 2 requests per call at 19/s would take minutes).
{
  const fake = await startFakeHubSpot({ rateLimit: false });
  const adapter = hubspot({
    accessToken: fake.accessToken,
    basePath: fake.url,
    portalId: fake.portalId,
    batch: { windowMs: 0, maxSize: 1 },
    rateLimit: { max: 1_000_000, intervalMs: 10_000, searchPerSecond: 1_000_000 },
  });
  const count = 200;
  const seconds = await burst(adapter, count, 'single');
  const requests = fake.requests().length;
  await adapter.close?.();
  await fake.close();
  print('HubSpot requests per logged call (unbatched baseline)', requests / count, 'requests/call');
  print('request saving of batching vs baseline', requests / count / (batched.requests / 1000), 'x');
  print('logged calls/s (unbatched, no rate limit, baseline)', count / seconds, 'calls/s');
}
