/**
 * Healing benchmark (run by `node scripts/bench.mjs healing` from the repo root): what reconciling
 * a gap with OVH's call records costs in OVH API requests, per healed hour and line, for a quiet
 * line (10 calls an hour) and a busy one (600 an hour: more than one page of records), and the time
 * per healed call (loopback fake API: for comparisons between runs of the same machine only).
 */
import {
  createHealer,
  createMemoryStore,
  createOvhApiClient,
  createSeenCallJournal,
  tokenTag,
} from '@cti-bridge/core';
import { startFakeOvhApi } from '@cti-bridge/core/testing';
import { benchReporter } from '../../../scripts/bench-kit.js';

const print = benchReporter('core/healing');
const LINE = { billingAccount: 'ab12345-ovh-1', serviceName: '0033972101010' };
const HOUR = 3_600_000;

async function measure(callsPerHour: number, hours: number): Promise<void> {
  const api = await startFakeOvhApi({ recordDelayMs: 0 });
  const client = createOvhApiClient({
    endpoint: api.url,
    applicationKey: api.applicationKey,
    applicationSecret: api.applicationSecret,
    consumerKey: api.consumerKey,
  });
  const from = Math.floor(Date.now() / 1000) * 1000 - (hours + 1) * HOUR;
  const total = callsPerHour * hours;
  for (let i = 0; i < total; i++) {
    api.addCallRecord(LINE, {
      calling: `00336${String(10_000_000 + i).slice(-8)}`,
      called: LINE.serviceName,
      startedAt: new Date(from + Math.floor((i * hours * HOUR) / total)),
      durationSeconds: i % 3 === 0 ? 0 : 60,
      wayType: 'incoming',
    });
  }
  const store = createMemoryStore();
  let ingested = 0;
  const healer = createHealer({
    api: client,
    kv: store.kv,
    journal: createSeenCallJournal(store.kv, tokenTag),
    lines: { BENCH: [LINE] },
    ingest: async () => {
      ingested++;
    },
  });
  await client.timeDelta();
  const before = api.requests().length;
  const started = performance.now();
  const report = await healer.heal({
    from: new Date(from),
    to: new Date(from + hours * HOUR),
    dryRun: false,
  });
  const healMs = performance.now() - started;
  const requests = api.requests().length - before;
  if (report.healed.length !== total || ingested !== total)
    throw new Error(`healed ${report.healed.length} of ${total}`);
  print(
    `OVH API requests per healed hour per line (${callsPerHour} calls/h)`,
    requests / hours,
    'requests',
    '≤ 2',
    requests / hours <= 2,
  );
  print(`reconcile time per healed call (${callsPerHour} calls/h)`, healMs / total, 'ms');
  await api.close();
}

await measure(10, 6);
await measure(600, 1);
