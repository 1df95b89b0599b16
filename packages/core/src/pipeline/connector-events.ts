import { AdapterError } from '../adapter/errors.js';
import type { Logger } from '../logger.js';
import type { ConnectorEvents } from './types.js';

/** The connector's listeners: subscribe, emit, and report an error (logged and emitted). */
export interface ConnectorEmitter {
  on<K extends keyof ConnectorEvents>(event: K, listener: (payload: ConnectorEvents[K]) => void): () => void;
  /** Calls every listener of `event`; a listener that throws is reported as an `error` event. */
  emit<K extends keyof ConnectorEvents>(event: K, payload: ConnectorEvents[K]): void;
  /** Logs a warning and emits an `error` event. */
  report(error: unknown, context: string, adapter?: string): void;
}

/** Creates the listeners of a connector; errors are logged on `logger`. */
export function createConnectorEmitter(logger: Logger): ConnectorEmitter {
  const listeners: { [K in keyof ConnectorEvents]?: Array<(payload: ConnectorEvents[K]) => void> } = {};
  const emit = <K extends keyof ConnectorEvents>(event: K, payload: ConnectorEvents[K]) => {
    for (const listener of listeners[event] ?? []) {
      try {
        listener(payload);
      } catch (error) {
        if (event !== 'error') emit('error', { error, context: `a "${event}" listener threw` });
      }
    }
  };
  return {
    on(event, listener) {
      let list = listeners[event] as Array<typeof listener> | undefined;
      if (!list) {
        list = [];
        (listeners as Record<string, unknown>)[event] = list;
      }
      list.push(listener);
      return () => {
        const index = list.indexOf(listener);
        if (index >= 0) list.splice(index, 1);
      };
    },
    emit,
    report(error, context, adapter) {
      logger.warn({ err: errorSummary(error), adapter, context }, context);
      emit('error', { error, context, ...(adapter !== undefined ? { adapter } : {}) });
    },
  };
}

/** What a log line says of an error: an AdapterError's JSON, else its name and message. */
export function errorSummary(error: unknown): Record<string, unknown> {
  if (error instanceof AdapterError) return error.toJSON();
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { message: String(error) };
}
