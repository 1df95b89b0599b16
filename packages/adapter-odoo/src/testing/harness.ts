import type { CrmAdapter } from '@cti-bridge/core';
import type {
  ConformanceHarness,
  InjectedFault,
  LoggedCallView,
  SeedContactInput,
} from '@cti-bridge/core/testing';
import { odoo } from '../adapter.js';
import type { OdooOptions } from '../options.js';
import type { FakeOdoo, FakeOdooFault, FakeOdooOptions } from './fake/server.js';
import { startFakeOdoo } from './fake/server.js';

/** Options of {@link createConformanceHarness}. */
export interface OdooHarnessOptions {
  /** Options of the fake Odoo. */
  readonly fake?: FakeOdooOptions;
  /** Adapter options overriding the connection the harness fills in. */
  readonly adapter?: Partial<OdooOptions>;
}

/** The conformance harness plus direct access to the fake. */
export interface OdooConformanceHarness extends ConformanceHarness {
  readonly fake: FakeOdoo;
}

/** Reads the plain text of an Odoo HTML body (tags dropped, entities decoded). */
export function htmlToText(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div)>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
}

function parseDuration(text: string): number | undefined {
  const match = /Duration: ((?:\d+ h ?)?(?:\d+ min ?)?(?:\d+ s)?)/.exec(text);
  if (!match?.[1]) return /: (missed|busy|cancelled)/.test(text) ? 0 : undefined;
  let seconds = 0;
  for (const [, value, unit] of match[1].matchAll(/(\d+) (h|min|s)/g)) {
    seconds += Number(value) * (unit === 'h' ? 3600 : unit === 'min' ? 60 : 1);
  }
  return seconds;
}

/** How a conformance fault (an HTTP status) looks on Odoo's XML-RPC. */
export function odooFaultFor(fault: InjectedFault): FakeOdooFault {
  const base = { on: fault.on ?? 'any', times: fault.times ?? 1 } as const;
  switch (fault.status) {
    case 400:
      return {
        ...base,
        fault: {
          code: 2,
          message:
            'The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n\nModel: Contact (res.partner)\nField: Name (name)',
        },
      };
    case 401:
      // A revoked key: Access Denied on the call, and again on the call retried after the
      // adapter's one re-authentication.
      return { ...base, times: base.times * 2, fault: { code: 3, message: 'Access Denied' } };
    case 429:
      return {
        ...base,
        httpStatus: 429,
        retryAfterSeconds: fault.retryAfterSeconds,
      };
    case 500:
      return {
        ...base,
        fault: {
          code: 1,
          message:
            'Traceback (most recent call last):\n  File "/opt/odoo/odoo/service/model.py", line 156, in retrying\n' +
            'psycopg2.errors.SerializationFailure: could not serialize access due to concurrent update\n',
        },
      };
    default:
      return { ...base, httpStatus: fault.status };
  }
}

/**
 * Starts a fake Odoo and an `odoo()` adapter wired to it, as the conformance suite of
 * `@cti-bridge/core/testing` expects. Logged calls are the chatter messages carrying the call id.
 */
export async function createConformanceHarness(
  options: OdooHarnessOptions = {},
): Promise<OdooConformanceHarness> {
  const fake = await startFakeOdoo(options.fake);
  const adapter: CrmAdapter = odoo({
    url: fake.url,
    database: fake.database,
    login: fake.login,
    apiKey: fake.apiKey,
    timeZone: 'UTC',
    ...options.adapter,
  });
  return {
    fake,
    adapter,
    secrets: [fake.apiKey],
    async seedContact(input: SeedContactInput) {
      const id = fake.seedPartner({
        name: input.name,
        phone: input.phone,
        isCompany: input.kind === 'company',
        ...(input.lastActivityAt ? { writeDate: input.lastActivityAt } : {}),
      });
      return { id: String(id) };
    },
    async loggedCalls(callId: string): Promise<LoggedCallView[]> {
      const needle = `OVH call ${callId}`;
      return fake
        .messages()
        .map((message) => ({ message, text: htmlToText(String(message.body ?? '')) }))
        .filter(({ text }) => text.split('\n').some((line) => line.trim().endsWith(needle)))
        .map(({ message, text }) => {
          const direction = /^(Inbound|Outbound|Internal) call/m.exec(text)?.[1]?.toLowerCase();
          const durationSeconds = parseDuration(text);
          return {
            id: String(message.id),
            ...(typeof message.res_id === 'number' && message.res_id > 0
              ? { attachedTo: String(message.res_id) }
              : {}),
            ...(direction ? { direction } : {}),
            ...(durationSeconds !== undefined ? { durationSeconds } : {}),
            text,
          };
        });
    },
    injectFault(fault: InjectedFault) {
      fake.injectFault(odooFaultFor(fault));
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
