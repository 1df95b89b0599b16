export { CallTracker, type CallTrackerOptions } from './call-tracker.js';
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
