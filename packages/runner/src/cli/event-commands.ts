import { type Command, Option } from 'commander';
import { type CliAction, out } from './action.js';

/** Registers `run` (the default command): poll the OVH tokens and deliver calls. */
export function registerRun(program: Command, action: CliAction): void {
  program
    .command('run', { isDefault: true })
    .description('poll the OVH tokens of the config and deliver calls to the CRMs (default command)')
    .option('-c, --config <file>', 'config file (default: ./cti.config.ts, .mts, .js, .mjs, .json)')
    .option('--shutdown-timeout <ms>', 'how long to wait for in-flight deliveries on SIGINT/SIGTERM', '10000')
    .action(
      action(async (options: { config?: string; shutdownTimeout: string }) => {
        // A TypeScript config is transpiled in a child process: start it before loading the engine.
        const { prefetchConfig } = await import('../config/transpile.js');
        void prefetchConfig(options.config);
        const { runCommand } = await import('../commands/run.js');
        return runCommand({ config: options.config, shutdownTimeoutMs: Number(options.shutdownTimeout) });
      }),
    );
}

/** Registers `check`: validate the config, the adapters and the OVH tokens. */
export function registerCheck(program: Command, action: CliAction): void {
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
        const { runCheck } = await import('../commands/check.js');
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
}

/** Registers `heal`: log the calls the event stream missed, from OVH call records. */
export function registerHeal(program: Command, action: CliAction): void {
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
          const { runHeal } = await import('../commands/heal.js');
          return runHeal({ ...options, dryRun: options.dryRun === true }, out);
        },
      ),
    );
}

/** Registers `replay`: feed recorded raw OVH events through the tracker and pipeline. */
export function registerReplay(program: Command, action: CliAction): void {
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
          const { runReplay } = await import('../commands/replay.js');
          return runReplay({ file, ...options, dryRun: options.dryRun === true }, out);
        },
      ),
    );
}

/** Registers `record`: append every raw OVH event of the tokens to a JSON lines file. */
export function registerRecord(program: Command, action: CliAction): void {
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
          const { runRecord } = await import('../commands/record.js');
          return runRecord({ file, ...options }, out);
        },
      ),
    );
}
