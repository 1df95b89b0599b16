import type {
  ConformanceHarness,
  InjectedFault,
  LoggedCallView,
  SeedContactInput,
} from '@cti-bridge/core/testing';
import { salesforce } from '../adapter.js';
import type { SalesforceOptions } from '../options.js';
import { type FakeSalesforce, type FakeSalesforceOptions, startFakeSalesforce } from './fake/server.js';

/** Options of {@link createConformanceHarness}. */
export interface SalesforceHarnessOptions {
  /**
   * External ID field on Task: when set, the fake has it and the adapter upserts on it; otherwise
   * the adapter deduplicates with a query on CallObject. Default `Call_Id__c`; `null` for none.
   */
  readonly externalIdField?: string | null;
  /** Options passed to the fake (credentials, latency, …). */
  readonly fake?: FakeSalesforceOptions;
  /** Extra adapter options (auth defaults to the fake's access token). */
  readonly adapter?: Partial<SalesforceOptions>;
}

/** A {@link ConformanceHarness} that also exposes the fake, for tests that look at requests. */
export interface SalesforceConformanceHarness extends ConformanceHarness {
  readonly fake: FakeSalesforce;
}

/**
 * Starts a fake Salesforce and a `salesforce()` adapter wired to it with the fake's access token:
 * the harness the CrmAdapter conformance suite runs on, reusable by the runner's demo.
 */
export async function createConformanceHarness(
  options: SalesforceHarnessOptions = {},
): Promise<SalesforceConformanceHarness> {
  const externalIdField = options.externalIdField === undefined ? 'Call_Id__c' : options.externalIdField;
  const fake = await startFakeSalesforce({
    ...(externalIdField ? { taskExternalIdField: externalIdField } : {}),
    ...options.fake,
  });
  const adapter = salesforce({
    auth: { type: 'token', instanceUrl: fake.url, accessToken: fake.credentials.accessToken },
    ...(externalIdField ? { task: { externalIdField } } : {}),
    ...options.adapter,
  });
  const onFor = (on: InjectedFault['on']) => (on === 'lookup' ? 'search' : on === 'write' ? 'write' : 'data');
  return {
    adapter,
    fake,
    secrets: [
      fake.credentials.accessToken,
      fake.credentials.clientSecret,
      fake.credentials.refreshToken,
      fake.credentials.password,
    ],
    async seedContact(input: SeedContactInput) {
      const system = input.lastActivityAt !== undefined;
      const lastActivity = input.lastActivityAt
        ? { LastActivityDate: input.lastActivityAt.toISOString().slice(0, 10) }
        : {};
      if (input.kind === 'company') {
        return {
          id: fake.insert('Account', { Name: input.name, Phone: input.phone, ...lastActivity }, { system }),
        };
      }
      const space = input.name.lastIndexOf(' ');
      const names =
        space > 0
          ? { FirstName: input.name.slice(0, space), LastName: input.name.slice(space + 1) }
          : { LastName: input.name };
      return { id: fake.insert('Contact', { ...names, Phone: input.phone, ...lastActivity }, { system }) };
    },
    async loggedCalls(callId: string): Promise<LoggedCallView[]> {
      return fake
        .records('Task')
        .filter((task) => task.CallObject === callId && task.TaskSubtype === 'Call')
        .map((task) => {
          const attachedTo = (task.WhoId ?? task.WhatId) as string | undefined;
          return {
            id: task.Id,
            ...(attachedTo ? { attachedTo } : {}),
            ...(typeof task.CallType === 'string' ? { direction: task.CallType } : {}),
            ...(typeof task.CallDurationInSeconds === 'number'
              ? { durationSeconds: task.CallDurationInSeconds }
              : {}),
            text: `${String(task.Subject ?? '')}\n${String(task.Description ?? '')}`,
          };
        });
    },
    injectFault(fault: InjectedFault) {
      fake.inject({
        status: fault.status,
        on: onFor(fault.on),
        times: fault.times ?? 1,
        retryAfterSeconds: fault.retryAfterSeconds,
      });
    },
    async reset() {
      fake.reset();
    },
    async close() {
      await adapter.close?.();
      await fake.close();
    },
  };
}
