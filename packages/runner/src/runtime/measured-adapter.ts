import type { BatchItemResult, CrmAdapter } from '@cti-bridge/core';
import type { RunnerMetrics } from '../ops/metrics.js';
import { type AdapterHealth, newAdapterHealth, recordFailure, recordSuccess } from './adapter-health.js';

/**
 * Wraps an adapter to measure it: lookup latency, and failed writes (each one is a retry or a
 * dead letter for the pipeline). Everything else passes through untouched.
 */
export function measuredAdapter(
  name: string,
  adapter: CrmAdapter,
  metrics: RunnerMetrics,
  health: AdapterHealth = newAdapterHealth(),
): CrmAdapter {
  const failed = (error: unknown): never => {
    metrics.retries.inc({ adapter: name, error: recordFailure(health, error, false) });
    throw error;
  };
  const succeeded = <T>(value: T): T => {
    recordSuccess(health, false);
    return value;
  };
  // A batch answers per item: one where every item failed is a failed write, not a success.
  const batchOutcome = (results: BatchItemResult[]): BatchItemResult[] => {
    const failures = results.filter((r): r is Extract<BatchItemResult, { ok: false }> => !r.ok);
    if (results.length > 0 && failures.length === results.length) {
      for (const failure of failures) {
        metrics.retries.inc({ adapter: name, error: recordFailure(health, failure.error, false) });
      }
    } else recordSuccess(health, false);
    return results;
  };
  const wrapped: CrmAdapter = {
    specificationVersion: adapter.specificationVersion,
    name: adapter.name,
    capabilities: adapter.capabilities,
    async findContacts(query, ctx) {
      const end = metrics.lookupSeconds.startTimer({ adapter: name });
      try {
        const matches = await adapter.findContacts(query, ctx);
        recordSuccess(health, true);
        return matches;
      } catch (error) {
        recordFailure(health, error, true);
        throw error;
      } finally {
        end();
      }
    },
    logCall: (call, ctx) => adapter.logCall(call, ctx).then(succeeded, failed),
  };
  const optional: Partial<CrmAdapter> = {
    ...(adapter.logCalls
      ? { logCalls: (items, ctx) => adapter.logCalls!(items, ctx).then(batchOutcome, failed) }
      : {}),
    ...(adapter.createContact
      ? { createContact: (input, ctx) => adapter.createContact!(input, ctx).then(succeeded, failed) }
      : {}),
    ...(adapter.createFollowUpTask
      ? { createFollowUpTask: (call, ctx) => adapter.createFollowUpTask!(call, ctx).then(succeeded, failed) }
      : {}),
    ...(adapter.logQueueSession
      ? { logQueueSession: (session, ctx) => adapter.logQueueSession!(session, ctx).then(succeeded, failed) }
      : {}),
    ...(adapter.check ? { check: (ctx) => adapter.check!(ctx) } : {}),
    ...(adapter.close ? { close: () => adapter.close!() } : {}),
  };
  return { ...wrapped, ...optional };
}
