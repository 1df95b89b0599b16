/**
 * Exit codes of `cti-runner`:
 * - 0 `OK`: done (for `run`: stopped cleanly after SIGINT/SIGTERM);
 * - 1 `RUNTIME`: failed while running (store unreadable, a fatal error, demo calls not logged exactly once);
 * - 2 `USAGE`: bad command line or config (unknown option, invalid config, missing env variable);
 * - 3 `CHECK_FAILED`: `check` ran and something is not right (adapter check, OVH token probe).
 */
export const EXIT = {
  OK: 0,
  RUNTIME: 1,
  USAGE: 2,
  CHECK_FAILED: 3,
} as const;

/** An error that carries the exit code the CLI ends with. */
export class ExitError extends Error {
  override readonly name = 'ExitError';
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}
