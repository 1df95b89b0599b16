import { AdapterError, type AdapterErrorKind, toAdapterError } from './errors.js';
import type { MemoryFault, MemoryOperation } from './memory-adapter.js';

const FAULT_MESSAGES: Record<AdapterErrorKind, string> = {
  auth: 'memory CRM rejected the credentials: fix the adapter configuration',
  'rate-limit': 'memory CRM rate limit reached: slow down and retry later',
  transient: 'memory CRM is temporarily unavailable: retry later',
  invalid: 'memory CRM rejected the data as invalid: fix the record and replay',
  conflict: 'memory CRM reported a conflicting record',
  'not-found': 'memory CRM could not find the record',
};

/** What a hook of {@link MemoryGate} is: may wait, or throw a scripted failure. */
export type MemoryOperationHook = (operation: MemoryOperation, detail: { readonly key?: string }) => unknown;

/**
 * The way into the memory "CRM": records every operation that reaches it, runs the hook, and
 * throws the scripted faults.
 */
export class MemoryGate {
  /** Every operation that reached the "CRM", in order (exposed as is: cleared in place). */
  readonly operations: { operation: MemoryOperation; key?: string }[] = [];
  private faults: Array<{ fault: MemoryFault; left: number }> = [];

  constructor(private readonly beforeOperation: MemoryOperationHook | undefined) {}

  /** Runs the hook and the scripted faults of one operation that reaches the CRM. */
  async reach(operation: MemoryOperation, key?: string): Promise<void> {
    this.operations.push(key === undefined ? { operation } : { operation, key });
    if (this.beforeOperation) {
      try {
        await this.beforeOperation(operation, key === undefined ? {} : { key });
      } catch (error) {
        throw toAdapterError(error, `memory CRM ${operation} failed`);
      }
    }
    const faults = this.faults;
    const index = faults.findIndex(({ fault }) => (fault.on ?? 'any') === 'any' || fault.on === operation);
    const slot = faults[index];
    if (!slot) return;
    slot.left -= 1;
    if (slot.left <= 0) faults.splice(index, 1);
    const { fault } = slot;
    throw new AdapterError(fault.kind, fault.message ?? FAULT_MESSAGES[fault.kind], {
      ...(fault.retryAfterMs === undefined ? {} : { retryAfterMs: fault.retryAfterMs }),
      ...(fault.status === undefined ? {} : { status: fault.status }),
    });
  }

  /** Scripts a failure of the next operation(s). */
  injectFault(fault: MemoryFault): void {
    this.faults.push({ fault, left: fault.times ?? 1 });
  }

  /** The next `times` operations (any family) fail with this kind. */
  failNext(kind: AdapterErrorKind, times: number, more: Omit<MemoryFault, 'kind' | 'times'>): void {
    this.faults.push({ fault: { ...more, kind, times }, left: times });
  }

  /** Removes scripted faults. */
  clearFaults(): void {
    this.faults = [];
  }

  /** Removes operations and faults. */
  reset(): void {
    this.operations.length = 0;
    this.faults = [];
  }
}
