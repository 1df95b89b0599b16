export { CallTracker, type CallTrackerOptions, STRAY_END_REASON } from './call-tracker.js';
export type {
  Call,
  CallDirection,
  CallEvent,
  CallOutcome,
  CallQueueInfo,
  CallState,
  QueueOutcome,
  QueueSession,
} from './types.js';
