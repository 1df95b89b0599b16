import { z } from 'zod';
import type { OvhApiClient } from '../ovh/api-client.js';

/**
 * One of OVH's call records (`telephony.VoiceConsumption`), as the API lists them for a line:
 * `GET /telephony/{billingAccount}/service/{serviceName}/voiceConsumption`. Records appear some
 * minutes after the call ended; they carry no SIP CallId.
 */
export interface OvhCallRecord {
  readonly consumptionId: number;
  /** When the call started. */
  readonly startedAt: Date;
  /** Numbers as OVH writes them (`0033…`); empty when withheld. */
  readonly calling: string;
  readonly called: string;
  readonly dialed?: string;
  readonly durationSeconds: number;
  readonly wayType: 'incoming' | 'outgoing' | 'transfer';
  /** Free text, e.g. `missed`; often empty. */
  readonly hangupNature?: string;
}

const recordSchema = z.object({
  consumptionId: z.number().int(),
  creationDatetime: z.string().refine((text) => !Number.isNaN(Date.parse(text)), 'not a date'),
  calling: z.string().nullable().optional(),
  called: z.string().nullable().optional(),
  dialed: z.string().nullable().optional(),
  duration: z.number().int().min(0),
  wayType: z.enum(['incoming', 'outgoing', 'transfer']),
  hangupNature: z.string().nullable().optional(),
});

/** Validates one record as the API returns it; undefined (and no throw) for anything else. */
export function parseCallRecord(value: unknown): OvhCallRecord | undefined {
  const parsed = recordSchema.safeParse(value);
  if (!parsed.success) return undefined;
  const r = parsed.data;
  return {
    consumptionId: r.consumptionId,
    startedAt: new Date(r.creationDatetime),
    calling: r.calling ?? '',
    called: r.called ?? '',
    ...(r.dialed ? { dialed: r.dialed } : {}),
    durationSeconds: r.duration,
    wayType: r.wayType,
    ...(r.hangupNature ? { hangupNature: r.hangupNature } : {}),
  };
}

/** One OVH line whose call records can be read: its billing account and service name (the number). */
export interface OvhLineRef {
  readonly billingAccount: string;
  /** The line's service name: its number as OVH writes it (`0033972101010`). */
  readonly serviceName: string;
}

/**
 * The call records of a line that started in `[from, to)`, in pages of whole objects (one request
 * per 500 records). Invalid records are skipped and counted.
 */
export async function fetchCallRecords(
  api: OvhApiClient,
  line: OvhLineRef,
  window: { readonly from: Date; readonly to: Date },
): Promise<{ records: OvhCallRecord[]; invalid: number }> {
  const query = new URLSearchParams({
    'creationDatetime.from': window.from.toISOString(),
    'creationDatetime.to': window.to.toISOString(),
  });
  const path = `/telephony/${encodeURIComponent(line.billingAccount)}/service/${encodeURIComponent(
    line.serviceName,
  )}/voiceConsumption?${query.toString()}`;
  const objects = await api.listObjects(path);
  const records: OvhCallRecord[] = [];
  let invalid = 0;
  for (const object of objects) {
    const record = parseCallRecord(object);
    if (record) records.push(record);
    else invalid++;
  }
  return { records, invalid };
}
