import type { ConformanceHarness } from '@cti-bridge/core/testing';

/** The part of core's ConformanceHarness the demo relies on. */
export type ConformanceHarnessLike = Pick<
  ConformanceHarness,
  'adapter' | 'seedContact' | 'loggedCalls' | 'injectFault' | 'reset' | 'close'
>;
