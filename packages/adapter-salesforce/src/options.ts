import { createPrivateKey } from 'node:crypto';
import type { CallRecord, ContactMatch } from '@cti-bridge/core';
import { parseAdapterOptions } from '@cti-bridge/core/adapter';
import { z } from 'zod';

const httpUrl = z
  .string()
  .url()
  .refine((value) => /^https?:\/\//.test(value), 'must be an http(s) URL')
  .transform((value) => value.replace(/\/+$/, ''))
  .refine((value) => !/\.lightning\.force\.com$/i.test(new URL(value).hostname), {
    message: 'must be the My Domain URL (https://<domain>.my.salesforce.com), not a lightning.force.com URL',
  });

const nonEmpty = z.string().min(1, 'must not be empty');

/** Where Salesforce's token endpoint and SOAP login live. */
const loginUrl = httpUrl.default('https://login.salesforce.com');

const apiName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'must be a field API name such as Call_Id__c');

const tokenAuth = z
  .object({
    type: z.literal('token'),
    /** `https://<domain>.my.salesforce.com`. */
    instanceUrl: httpUrl,
    accessToken: nonEmpty,
  })
  .strict();

const refreshTokenAuth = z
  .object({
    type: z.literal('refresh-token'),
    clientId: nonEmpty,
    clientSecret: nonEmpty.optional(),
    refreshToken: nonEmpty,
    /** Optional: a current access token, used until it expires. */
    accessToken: nonEmpty.optional(),
    instanceUrl: httpUrl.optional(),
    loginUrl,
  })
  .strict();

const jwtAuth = z
  .object({
    type: z.literal('jwt'),
    /** Consumer key of the connected app. */
    clientId: nonEmpty,
    /** Salesforce username the integration acts as. */
    username: nonEmpty,
    /** PEM private key whose certificate is uploaded to the connected app. */
    privateKey: nonEmpty.refine((pem) => {
      try {
        createPrivateKey(pem);
        return true;
      } catch {
        return false;
      }
    }, 'must be a PEM private key (-----BEGIN PRIVATE KEY----- …)'),
    loginUrl,
    /** `aud` claim; default derived from loginUrl (login.salesforce.com or test.salesforce.com). */
    audience: z.string().min(1).optional(),
  })
  .strict();

const passwordAuth = z
  .object({
    type: z.literal('password'),
    username: nonEmpty,
    password: nonEmpty,
    /** Appended to the password, as Salesforce requires from unknown IP ranges. */
    securityToken: z.string().default(''),
    /** With clientId + clientSecret: OAuth username-password flow; without: SOAP login (retired in Summer '27). */
    clientId: nonEmpty.optional(),
    clientSecret: nonEmpty.optional(),
    loginUrl,
  })
  .strict();

const templateFn = <T>() =>
  z.custom<T>((value) => typeof value === 'function', { message: 'must be a function' }).optional();

/** Zod schema of {@link SalesforceOptions}. */
export const salesforceOptionsSchema = z
  .object({
    /** Adapter name in logs and keys (default `salesforce`). */
    name: z.string().min(1).default('salesforce'),
    auth: z.discriminatedUnion('type', [tokenAuth, refreshTokenAuth, jwtAuth, passwordAuth]),
    /** REST API version; jsforce's default (50.0) is too old. */
    apiVersion: z
      .string()
      .regex(/^\d{2,3}\.0$/, 'must look like "62.0"')
      .default('62.0'),
    lookup: z
      .object({
        /** Objects searched, best first (ranking priority). */
        objects: z
          .array(z.enum(['Contact', 'Lead', 'Account']))
          .min(1)
          .default(['Contact', 'Lead', 'Account']),
        /** Records asked per object before post-filtering. */
        perObjectLimit: z.number().int().min(1).max(200).default(25),
      })
      .strict()
      .default({ objects: ['Contact', 'Lead', 'Account'], perObjectLimit: 25 }),
    task: z
      .object({
        /**
         * API name of an External ID + Unique text field on Task (e.g. `Call_Id__c`). When set,
         * calls are upserted on it (one request); otherwise a SOQL query on CallObject runs before
         * each insert.
         */
        externalIdField: apiName.optional(),
        completedStatus: z.string().min(1).default('Completed'),
        openStatus: z.string().min(1).default('Not Started'),
        followUpPriority: z.string().min(1).default('High'),
        /** Time zone of ActivityDate and times in descriptions (default: the process's). */
        timeZone: z
          .string()
          .refine((zone) => {
            try {
              new Intl.DateTimeFormat('en', { timeZone: zone });
              return true;
            } catch {
              return false;
            }
          }, 'must be an IANA time zone such as Europe/Paris')
          .optional(),
        subject: templateFn<(call: CallRecord, match?: ContactMatch) => string>(),
        description: templateFn<(call: CallRecord, match?: ContactMatch) => string>(),
      })
      .strict()
      .default({ completedStatus: 'Completed', openStatus: 'Not Started', followUpPriority: 'High' }),
    lead: z
      .object({
        /** Lead.Company is required by Salesforce; used when the caller's company is unknown. */
        company: z.string().min(1).default('[not provided]'),
        leadSource: z.string().min(1).optional().default('Phone Inquiry'),
      })
      .strict()
      .default({ company: '[not provided]', leadSource: 'Phone Inquiry' }),
    /**
     * Deadline of one adapter operation (lookup, write), in ms. jsforce's own fetch timeout is 30
     * minutes; past this deadline the operation fails as `transient` (writes are idempotent, so a
     * late success is harmless). Default 20000.
     */
    timeoutMs: z.number().int().min(100).max(600_000).default(20_000),
    /** Base of record links (`https://<domain>.lightning.force.com`); default derived from the instance URL. */
    lightningBaseUrl: z
      .string()
      .url()
      .transform((value) => value.replace(/\/+$/, ''))
      .optional(),
  })
  .strict();

/** Options of {@link salesforce}, as written by the user. */
export type SalesforceOptions = z.input<typeof salesforceOptionsSchema>;
/** Options after validation and defaults. */
export type ResolvedSalesforceOptions = z.output<typeof salesforceOptionsSchema>;
/** The `auth` option: one of the four ways to connect. */
export type SalesforceAuthOptions = SalesforceOptions['auth'];

/** Validates options; throws an `invalid` AdapterError naming each bad key (values are never echoed). */
export function parseSalesforceOptions(input: unknown): ResolvedSalesforceOptions {
  return parseAdapterOptions(salesforceOptionsSchema, input, 'salesforce()');
}
