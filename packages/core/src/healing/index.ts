export { fetchCallRecords, type OvhCallRecord, type OvhLineRef, parseCallRecord } from './call-records.js';
export {
  createHealer,
  type Gap,
  type Healer,
  type HealerOptions,
  type HealReport,
} from './healer.js';
export { createSeenCallJournal, JOURNAL_RETENTION_MS, type SeenCallJournal } from './journal.js';
export {
  HEALED_REASON,
  healedCall,
  type ReconcileOptions,
  type Reconciliation,
  reconcile,
  type SeenCall,
  seenCallOf,
} from './reconcile.js';
