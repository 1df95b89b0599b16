import { type Command, Option } from 'commander';
import { type CliAction, out } from './action.js';

/** Registers `outbox list|retry|purge`: inspect and act on the delivery outbox. */
export function registerOutbox(program: Command, action: CliAction): void {
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
        const { outboxList } = await import('../commands/outbox.js');
        return outboxList(options, out);
      }),
    );
  outboxOptions(outbox.command('retry').description('queue dead letters for delivery again')).action(
    action(async (options: Record<string, never>) => {
      const { outboxRetry } = await import('../commands/outbox.js');
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
        const { outboxPurge } = await import('../commands/outbox.js');
        return outboxPurge(options, out);
      }),
    );
}
