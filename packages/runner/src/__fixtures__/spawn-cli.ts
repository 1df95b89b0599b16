import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WaitForOptions } from '@cti-bridge/core/testing';

/** The CLI entry, run from TypeScript sources. */
export const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** A CLI child process with its output collected. */
export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | NodeJS.Signals>;
}

/** Spawns `cti-runner <args>` from sources (`node --conditions=source --import tsx src/cli.ts`). */
export function spawnCli(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string | undefined> } = {},
): CliProcess {
  const child = spawn(process.execPath, ['--conditions=source', '--import', TSX, CLI, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const exited = new Promise<number | NodeJS.Signals>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal as NodeJS.Signals)));
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/**
 * Options of core's `waitFor` for a condition the CLI process `proc` brings about: gives up at once
 * when the process has exited (it will not bring the condition about any more), and shows its
 * output when giving up.
 */
export function whileRunning(proc: CliProcess, options: WaitForOptions = {}): WaitForOptions {
  return {
    ...options,
    stopWhen: () => proc.child.exitCode !== null || proc.child.signalCode !== null,
    context: () => `--- stdout:\n${proc.stdout()}\n--- stderr:\n${proc.stderr()}`,
  };
}

/** Runs the CLI to completion (bounded: killed after `timeoutMs`). */
export async function runCli(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<{ code: number | NodeJS.Signals; stdout: string; stderr: string }> {
  const proc = spawnCli(args, options);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, stdout: proc.stdout(), stderr: proc.stderr() };
}
