/**
 * The logging surface core and adapters write to. pino loggers satisfy it as they are; so does
 * {@link consoleLogger}. Pass structured data first, the message second.
 */
export interface Logger {
  debug(data: Record<string, unknown>, message?: string): void;
  info(data: Record<string, unknown>, message?: string): void;
  warn(data: Record<string, unknown>, message?: string): void;
  error(data: Record<string, unknown>, message?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** A logger that drops everything. The default when none is given. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/** A minimal logger on `console`, one JSON line per record, for scripts and examples. */
export function consoleLogger(bindings: Record<string, unknown> = {}): Logger {
  const write = (level: string) => (data: Record<string, unknown>, message?: string) => {
    console.error(
      JSON.stringify({ level, time: new Date().toISOString(), ...bindings, ...data, msg: message }),
    );
  };
  return {
    debug: () => {},
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (more) => consoleLogger({ ...bindings, ...more }),
  };
}
