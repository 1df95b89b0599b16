import { createOvhApiClient, type EventTokenExpiration } from '@cti-bridge/core';
import { ConfigError, env } from '../config/env.js';
import { loadConfig } from '../config/load.js';
import { EXIT, ExitError } from '../exit-codes.js';

const EXPIRATIONS: readonly EventTokenExpiration[] = ['5 minutes', '1 hour', '1 day', '30 days', 'unlimited'];

/** The OVH API credentials `tokens` uses: config `ovh.api`, else the environment. */
export async function ovhCredentials(configPath: string | undefined): Promise<{
  endpoint: string;
  applicationKey: string;
  applicationSecret: string;
  consumerKey: string;
}> {
  if (configPath !== undefined) {
    const { config } = await loadConfig(configPath);
    if (config.ovh.api) return config.ovh.api;
  }
  try {
    return {
      endpoint: env('OVH_ENDPOINT', { default: 'ovh-eu', secret: false }),
      applicationKey: env('OVH_APPLICATION_KEY'),
      applicationSecret: env('OVH_APPLICATION_SECRET'),
      consumerKey: env('OVH_CONSUMER_KEY'),
    };
  } catch (error) {
    throw new ConfigError(
      `${(error as Error).message}\n  OVH API credentials: create them at https://eu.api.ovh.com/createToken/ with GET/POST/DELETE on /telephony/*/eventToken and /telephony/*/service/*/eventToken`,
    );
  }
}

/** `cti-runner tokens create|list|delete`: OVH event tokens of a billing account or a line. */
export async function runTokens(
  action: 'create' | 'list' | 'delete',
  options: Record<string, string | undefined>,
  out: (line: string) => void,
): Promise<number> {
  const client = createOvhApiClient(await ovhCredentials(options.config));
  const target = {
    billingAccount: options.billingAccount as string,
    ...(options.service === undefined ? {} : { serviceName: options.service }),
  };
  const where = `${target.billingAccount}${options.service ? ` / ${options.service}` : ''}`;
  if (action === 'create') {
    const expiration = (options.expiration ?? 'unlimited') as EventTokenExpiration;
    if (!EXPIRATIONS.includes(expiration)) {
      throw new ExitError(EXIT.USAGE, `--expiration: expected one of ${EXPIRATIONS.join(', ')}`);
    }
    const token = await client.eventTokens.create({ ...target, expiration });
    out(`Event token created for ${where}:`);
    out(token);
    out("Put it in your config: tokens: { [env('OVH_EVENT_TOKEN')]: { adapters: [...] } }");
  } else if (action === 'list') {
    const token = await client.eventTokens.get(target);
    out(token === undefined ? `No event token for ${where}.` : token);
  } else {
    await client.eventTokens.delete(target);
    out(`Event token of ${where} deleted.`);
  }
  return EXIT.OK;
}
