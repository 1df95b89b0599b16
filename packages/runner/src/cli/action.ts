/** Wraps a command action resolving to an exit code into a commander action. */
export type CliAction = <A extends unknown[]>(
  fn: (...args: A) => Promise<number>,
) => (...args: A) => Promise<void>;

/** A {@link CliAction} that hands each action's exit code to `setExitCode`. */
export function exitCodeAction(setExitCode: (code: number) => void): CliAction {
  return (fn) =>
    async (...args) => {
      setExitCode(await fn(...args));
    };
}

/** Writes one line to stdout. */
export const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
