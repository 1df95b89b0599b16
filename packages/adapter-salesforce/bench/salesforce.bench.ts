// Salesforce adapter benchmark: a burst of calls logged against the fake Salesforce through
// jsforce, with batching (sObject collections) and, as the baseline measured in the same run,
// one logCall per call. Prints one JSON line per figure.
import { type CrmAdapter, type LogCallItem, parsePhone } from '@cti-bridge/core';
import { createTestAdapterContext, sampleCallRecord } from '@cti-bridge/core/testing';
import { benchReporter } from '../../../scripts/bench-kit.js';
import { salesforce } from '../src/index.js';
import { type FakeSalesforce, startFakeSalesforce } from '../src/testing/index.js';

const BURST = 500;
const bench = 'adapter-salesforce/salesforce';

const print = benchReporter(bench);

async function run(externalIdField: string | undefined, batched: boolean, round: number) {
  const fake: FakeSalesforce = await startFakeSalesforce(
    externalIdField ? { taskExternalIdField: externalIdField } : {},
  );
  try {
    const contact = fake.insert('Contact', { LastName: 'Martin', Phone: '+33612345678' });
    const adapter: CrmAdapter = salesforce({
      auth: { type: 'token', instanceUrl: fake.url, accessToken: fake.credentials.accessToken },
      ...(externalIdField ? { task: { externalIdField } } : {}),
    });
    const ctx = createTestAdapterContext();
    const [match] = await adapter.findContacts({ phone: parsePhone('+33612345678') }, ctx);
    if (match?.id !== contact) throw new Error('lookup failed');
    const items: LogCallItem[] = Array.from({ length: BURST }, (_, i) => {
      const call = sampleCallRecord({ callId: `bench-${round}-${i}`, talkSeconds: 30 + (i % 300) });
      return { call, idempotencyKey: `bench:${call.callId}`, match };
    });
    fake.clearRequests();
    const started = performance.now();
    if (batched) {
      const results = (await adapter.logCalls?.(items, ctx)) ?? [];
      if (results.length !== BURST || !results.every((r) => r.ok)) throw new Error('batch failed');
    } else {
      // Ten deliveries in flight, as an outbox worker with concurrency 10 would do.
      let next = 0;
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          while (next < items.length) {
            const item = items[next++] as LogCallItem;
            await adapter.logCall(item.call, {
              ...ctx,
              idempotencyKey: item.idempotencyKey,
              ...(item.match ? { match: item.match } : {}),
            });
          }
        }),
      );
    }
    const seconds = (performance.now() - started) / 1000;
    const requests = fake.requests().length;
    if (fake.records('Task').length !== BURST) throw new Error('wrong number of Tasks');
    return { callsPerSecond: BURST / seconds, requestsPerCall: requests / BURST };
  } finally {
    await fake.close();
  }
}

// Warm-up (JIT, jsforce module init), then the measured runs.
await run('Call_Id__c', true, 0);
await run('Call_Id__c', false, 0);
const batchedExt = await run('Call_Id__c', true, 1);
const singleExt = await run('Call_Id__c', false, 1);
const batchedQuery = await run(undefined, true, 1);
const singleQuery = await run(undefined, false, 1);

print('logged calls/s, burst of 500, batching on (External ID upsert)', batchedExt.callsPerSecond, 'calls/s');
print('logged calls/s, burst of 500, one logCall per call (baseline)', singleExt.callsPerSecond, 'calls/s');
print(
  'batching speed-up vs one logCall per call',
  batchedExt.callsPerSecond / singleExt.callsPerSecond,
  'x',
  '≥ 2',
  batchedExt.callsPerSecond / singleExt.callsPerSecond >= 2,
);
print(
  'CRM requests per logged call, burst of 500, batching on (External ID)',
  batchedExt.requestsPerCall,
  'req/call',
  '≤ 1.1',
  batchedExt.requestsPerCall <= 1.1,
);
print(
  'CRM requests per logged call, burst of 500, batching on (CallObject query)',
  batchedQuery.requestsPerCall,
  'req/call',
  '≤ 1.1',
  batchedQuery.requestsPerCall <= 1.1,
);
print(
  'CRM requests per logged call, one logCall per call (External ID, baseline)',
  singleExt.requestsPerCall,
  'req/call',
);
print(
  'CRM requests per logged call, one logCall per call (CallObject query, baseline)',
  singleQuery.requestsPerCall,
  'req/call',
);
print('logged calls/s, burst of 500, batching on (CallObject query)', batchedQuery.callsPerSecond, 'calls/s');
