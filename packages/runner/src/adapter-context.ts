import { type AdapterContext, kvAdapterState, type Logger, type Store } from '@cti-bridge/core';

/**
 * An AdapterContext for one-off calls (check, …). Its state is the one the pipeline gives the
 * adapter (core's {@link kvAdapterState}, same namespace), so that a one-off call sees what `run`
 * saved — a rotated Salesforce refresh token, for one — and saves where `run` will look.
 */
export function adapterContext(
  store: Store,
  name: string,
  logger: Logger,
  signal?: AbortSignal,
): AdapterContext {
  return {
    logger: logger.child({ adapter: name }),
    state: kvAdapterState(store.kv, name, Date.now),
    ...(signal === undefined ? {} : { signal }),
  };
}
