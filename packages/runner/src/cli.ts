#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
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

/** Writes one line to stdout. */
const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

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

  const action =
    <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
    async (...args: A): Promise<void> => {
      setExitCode(await fn(...args));
    };

  program
    .command('run', { isDefault: true })
    .description('poll the OVH tokens of the config and deliver calls to the CRMs (default command)')
    .option('-c, --config <file>', 'config file (default: ./cti.config.ts, .mts, .js, .json)')
    .option('--shutdown-timeout <ms>', 'how long to wait for in-flight deliveries on SIGINT/SIGTERM', '10000')
    .action(
      action(async (options: { config?: string; shutdownTimeout: string }) => {
        // A TypeScript config is transpiled in a child process: start it before loading the engine.
        const { prefetchConfig } = await import('./config/transpile.js');
        void prefetchConfig(options.config);
        const { runCommand } = await import('./commands/run.js');
        return runCommand({ config: options.config, shutdownTimeoutMs: Number(options.shutdownTimeout) });
      }),
    );

  program
    .command('check')
    .description(
      'validate the config, check every adapter (credentials, reachability) and probe every OVH token',
    )
    .option('-c, --config <file>', 'config file')
    .option('--skip-tokens', 'do not probe the OVH tokens (offline)')
    .option('--probe-timeout <ms>', 'how long to hold each OVH token probe', '3000')
    .action(
      action(async (options: { config?: string; skipTokens?: boolean; probeTimeout: string }) => {
        const { runCheck } = await import('./commands/check.js');
        return runCheck(
          {
            ...(options.config === undefined ? {} : { config: options.config }),
            skipTokens: options.skipTokens === true,
            probeTimeoutMs: Number(options.probeTimeout),
          },
          out,
        );
      }),
    );

  program
    .command('demo')
    .description(
      'a simulated OVH day against bundled fake CRMs, no credentials: screen pops, logged calls, a summary',
    )
    .option('--db <file>', 'SQLite file to keep the demo state in (default: a temporary directory)')
    .option('--quiet', 'print only the summary')
    .option('--serve', 'serve the fakes and write a config for the real `run` command (see the README)')
    .option('--dir <dir>', '--serve: where to write the config (default: a temporary directory)')
    .option('--http-port <port>', '--serve: http.port of the config written', '9464')
    .action(
      action(
        async (options: {
          db?: string;
          quiet?: boolean;
          serve?: boolean;
          dir?: string;
          httpPort: string;
        }) => {
          if (options.serve === true) {
            const { runDemoServe } = await import('./demo/serve.js');
            return runDemoServe(
              {
                ...(options.dir === undefined ? {} : { dir: options.dir }),
                httpPort: Number(options.httpPort),
              },
              out,
            );
          }
          const { runDemo } = await import('./demo/demo.js');
          return runDemo(
            { ...(options.db === undefined ? {} : { db: options.db }), quiet: options.quiet === true },
            out,
          );
        },
      ),
    );

  program
    .command('heal')
    .description('log the calls the event stream missed in a time window, from OVH call records')
    .option('-c, --config <file>', 'config file (default: cti.config.ts)')
    .requiredOption(
      '--since <time>',
      'start of the window: ISO time, or a duration back from now (90m, 6h, 2d)',
    )
    .option('--until <time>', 'end of the window (default: now)')
    .option('--dry-run', 'only list the missing calls: log nothing')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(
      action(
        async (options: {
          config?: string;
          since: string;
          until?: string;
          dryRun?: boolean;
          format: 'text' | 'json';
        }) => {
          const { runHeal } = await import('./commands/heal.js');
          return runHeal({ ...options, dryRun: options.dryRun === true }, out);
        },
      ),
    );

  program
    .command('replay')
    .description('feed recorded raw OVH events (JSON lines) through the tracker and pipeline')
    .argument('<file>', 'JSON lines file written by `cti-runner record` (one raw OVH event per line)')
    .option('-c, --config <file>', 'config file (required unless --dry-run)')
    .option('--dry-run', 'track calls only: no CRM lookup, no delivery')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--token <token>', 'token to attribute events without a Token field to', 'replay')
    .option('--default-country <cc>', 'default country for national numbers', 'FR')
    .action(
      action(
        async (
          file: string,
          options: {
            config?: string;
            dryRun?: boolean;
            format: 'text' | 'json';
            token: string;
            defaultCountry: string;
          },
        ) => {
          const { runReplay } = await import('./commands/replay.js');
          return runReplay({ file, ...options, dryRun: options.dryRun === true }, out);
        },
      ),
    );

  program
    .command('record')
    .description('poll the OVH tokens of the config and append every raw event to a JSON lines file')
    .argument('<file>', 'output file (appended to)')
    .option('-c, --config <file>', 'config file (for the tokens and ovh.baseUrl)')
    .option('--token <token...>', 'tokens to record (default: every token of the config)')
    .option('--base-url <url>', 'OVH events URL (default: config ovh.baseUrl or https://events.voip.ovh.net)')
    .option('--max-events <n>', 'stop after this many events')
    .option('--keep-tokens', 'write the OVH event tokens in full (default: masked, as in logs)')
    .action(
      action(
        async (
          file: string,
          options: {
            config?: string;
            token?: string[];
            baseUrl?: string;
            maxEvents?: string;
            keepTokens?: boolean;
          },
        ) => {
          const { runRecord } = await import('./commands/record.js');
          return runRecord({ file, ...options }, out);
        },
      ),
    );

  const tokens = program
    .command('tokens')
    .description(
      'manage OVH event tokens through the OVH API (env OVH_ENDPOINT, OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY)',
    );
  const tokenOptions = (command: Command) =>
    command
      .requiredOption('--billing-account <ba>', 'OVH billing account (ovhtel-…)')
      .option('--service <serviceName>', 'a line (number) instead of the whole billing account')
      .option('-c, --config <file>', 'config file with ovh.api credentials (else environment)');
  tokenOptions(tokens.command('create').description('create an event token'))
    .option('--expiration <expiration>', 'unlimited, 30 days, 1 day, 1 hour or 5 minutes', 'unlimited')
    .action(
      action(async (options: Record<string, string | undefined>) => {
        const { runTokens } = await import('./commands/tokens.js');
        return runTokens('create', options, out);
      }),
    );
  tokenOptions(
    tokens.command('list').description('show the event token of a billing account or line'),
  ).action(
    action(async (options: Record<string, string | undefined>) => {
      const { runTokens } = await import('./commands/tokens.js');
      return runTokens('list', options, out);
    }),
  );
  tokenOptions(
    tokens.command('delete').description('delete the event token of a billing account or line'),
  ).action(
    action(async (options: Record<string, string | undefined>) => {
      const { runTokens } = await import('./commands/tokens.js');
      return runTokens('delete', options, out);
    }),
  );

  const outbox = program
    .command('outbox')
    .description('inspect and act on the delivery outbox (dead letters)');
  const outboxOptions = (command: Command) =>
    command
      .option('-c, --config <file>', 'config file (for the store)')
      .option('--db <file>', 'SQLite file to open instead of the config store')
      .option('--adapter <name>', 'only entries of this adapter')
      .option('--id <id...>', 'only these entry ids');
  outboxOptions(outbox.command('list').description('list outbox entries (dead letters unless --status)'))
    .option('--status <status>', 'pending, delivered or dead', 'dead')
    .option('--limit <n>', 'at most this many')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(
      action(async (options: Record<string, never>) => {
        const { outboxList } = await import('./commands/outbox.js');
        return outboxList(options, out);
      }),
    );
  outboxOptions(outbox.command('retry').description('queue dead letters for delivery again')).action(
    action(async (options: Record<string, never>) => {
      const { outboxRetry } = await import('./commands/outbox.js');
      return outboxRetry(options, out);
    }),
  );
  outboxOptions(
    outbox
      .command('purge')
      .description('delete delivered and dead entries (pending only with --status pending)'),
  )
    .option('--status <status>', 'pending, delivered or dead')
    .option('--older-than <duration>', 'only entries last updated before this long ago (30m, 12h, 7d)')
    .action(
      action(async (options: Record<string, never>) => {
        const { outboxPurge } = await import('./commands/outbox.js');
        return outboxPurge(options, out);
      }),
    );

  program
    .command('init')
    .description('write a commented cti.config.ts to start from')
    .argument('[file]', 'where to write it', 'cti.config.ts')
    .addOption(
      new Option('--crm <crm>', 'CRM to configure')
        .choices(['hubspot', 'salesforce', 'odoo'])
        .default('hubspot'),
    )
    .option('--force', 'overwrite an existing file')
    .action(
      action(async (file: string, options: { crm: 'hubspot' | 'salesforce' | 'odoo'; force?: boolean }) => {
        const { runInit } = await import('./commands/init.js');
        return runInit({ file, crm: options.crm, force: options.force === true }, out);
      }),
    );

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
