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
