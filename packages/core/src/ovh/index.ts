export type {
  LineEventName,
  OvhEvent,
  OvhEventBase,
  OvhLineDetails,
  OvhLineEvent,
  OvhQueueEvent,
  OvhUnknownEvent,
  QueueEventName,
  RawOvhEvent,
} from './types.js';
