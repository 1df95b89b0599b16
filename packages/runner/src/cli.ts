#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { exitCodeAction } from './cli/action.js';
import {
  registerCheck,
  registerHeal,
  registerRecord,
  registerReplay,
  registerRun,
} from './cli/event-commands.js';
import { registerOutbox } from './cli/outbox-command.js';
import { registerDemo, registerInit, registerTokens } from './cli/setup-commands.js';
import { isConfigError } from './config/env.js';
import { EXIT, ExitError } from './exit-codes.js';
import { scrubSecrets } from './ops/secrets.js';

/** This package's version, from its package.json. */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

const EXIT_CODES_HELP = `
Exit codes:
  0  done (run: stopped cleanly on SIGINT/SIGTERM)
  1  runtime failure (or: demo calls not all logged exactly once)
  2  usage or config error (the message names the key)
  3  check failed (an adapter or OVH token is not ready)`;

/** Builds the `cti-runner` command line. Each action resolves to an exit code. */
export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('cti-runner')
    .description('Bridge the OVH Telecom CTI event stream to your CRMs.')
    .version(packageVersion(), '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP)
    .exitOverride();

  const action = exitCodeAction(setExitCode);
  registerRun(program, action);
  registerCheck(program, action);
  registerDemo(program, action);
  registerHeal(program, action);
  registerReplay(program, action);
  registerRecord(program, action);
  registerTokens(program, action);
  registerOutbox(program, action);
  registerInit(program, action);

  for (const command of program.commands) {
    command.addHelpText('after', EXIT_CODES_HELP);
    command.exitOverride();
    for (const sub of command.commands) sub.exitOverride();
  }
  return program;
}

/** Runs the CLI with the given arguments; resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let code: number = EXIT.OK;
  const program = buildProgram((value) => {
    code = value;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      ) {
        return EXIT.OK;
      }
      return EXIT.USAGE;
    }
    // every message goes through the secret registry: env() values and tokens never reach stderr
    if (isConfigError(error)) {
      process.stderr.write(`cti-runner: ${scrubSecrets(error.message)}\n`);
      return EXIT.USAGE;
    }
    if (error instanceof ExitError) {
      process.stderr.write(`cti-runner: ${scrubSecrets(error.message)}\n`);
      return error.code;
    }
    process.stderr.write(
      `cti-runner: ${scrubSecrets(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`,
    );
    return EXIT.RUNTIME;
  }
}

function isEntry(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntry()) {
  // `cti-runner demo | head`: a closed stdout is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Leftover keep-alive sockets must not hold the process: exit once stdout had time to flush.
      setTimeout(() => process.exit(code), 1000).unref();
    },
    (error: unknown) => {
      process.stderr.write(`cti-runner: ${String(error)}\n`);
      process.exitCode = EXIT.RUNTIME;
    },
  );
}
