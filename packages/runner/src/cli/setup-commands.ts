import { type Command, Option } from 'commander';
import { type CliAction, out } from './action.js';

/** Registers `demo`: a simulated OVH day against bundled fake CRMs (or `--serve` the fakes). */
export function registerDemo(program: Command, action: CliAction): void {
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
            const { runDemoServe } = await import('../demo/serve.js');
            return runDemoServe(
              {
                ...(options.dir === undefined ? {} : { dir: options.dir }),
                httpPort: Number(options.httpPort),
              },
              out,
            );
          }
          const { runDemo } = await import('../demo/demo.js');
          return runDemo(
            { ...(options.db === undefined ? {} : { db: options.db }), quiet: options.quiet === true },
            out,
          );
        },
      ),
    );
}

/** Registers `tokens create|list|delete`: manage OVH event tokens through the OVH API. */
export function registerTokens(program: Command, action: CliAction): void {
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
        const { runTokens } = await import('../commands/tokens.js');
        return runTokens('create', options, out);
      }),
    );
  tokenOptions(
    tokens.command('list').description('show the event token of a billing account or line'),
  ).action(
    action(async (options: Record<string, string | undefined>) => {
      const { runTokens } = await import('../commands/tokens.js');
      return runTokens('list', options, out);
    }),
  );
  tokenOptions(
    tokens.command('delete').description('delete the event token of a billing account or line'),
  ).action(
    action(async (options: Record<string, string | undefined>) => {
      const { runTokens } = await import('../commands/tokens.js');
      return runTokens('delete', options, out);
    }),
  );
}

/** Registers `init`: write a commented cti.config.ts to start from. */
export function registerInit(program: Command, action: CliAction): void {
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
        const { runInit } = await import('../commands/init.js');
        return runInit({ file, crm: options.crm, force: options.force === true }, out);
      }),
    );
}
