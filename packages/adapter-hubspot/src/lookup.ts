import { formatPhone, type MatchCandidate, type PhoneNumber, phoneSearchVariants } from '@cti-bridge/core';
import type { HubSpotRecord, SearchFilter, SearchRequest } from './client.js';

/** Contact properties read on lookup. */
export const CONTACT_PROPERTIES = [
  'firstname',
  'lastname',
  'email',
  'phone',
  'mobilephone',
  'company',
  'associatedcompanyid',
  'hubspot_owner_id',
  'notes_last_updated',
] as const;

/** Company properties read on lookup. */
export const COMPANY_PROPERTIES = ['name', 'phone', 'hubspot_owner_id', 'notes_last_updated'] as const;

/** HubSpot's maximum values per IN filter we use (well under the 3,000-character query limit). */
const MAX_IN_VALUES = 10;

function variantsOf(phone: PhoneNumber): string[] {
  return phoneSearchVariants(phone).slice(0, MAX_IN_VALUES);
}

/**
 * The contact search for a number, as OR'ed filter groups (within HubSpot's 5 groups × 6 filters):
 * the searchable calculated phone and mobile numbers (HubSpot keeps area code + local number only,
 * so they are compared with the national significant number), then `phone` / `mobilephone` IN the
 * usual spellings (E.164, `00…`, national, spaced) for portals where those were stored as typed.
 */
export function contactSearch(phone: PhoneNumber, limit: number): SearchRequest {
  const groups: Array<{ filters: SearchFilter[] }> = [];
  if (phone.nationalNumber) {
    groups.push({
      filters: [
        {
          propertyName: 'hs_searchable_calculated_phone_number',
          operator: 'EQ',
          value: phone.nationalNumber,
        },
      ],
    });
    groups.push({
      filters: [
        {
          propertyName: 'hs_searchable_calculated_mobile_number',
          operator: 'EQ',
          value: phone.nationalNumber,
        },
      ],
    });
  }
  const values = variantsOf(phone);
  groups.push({ filters: [{ propertyName: 'phone', operator: 'IN', values }] });
  groups.push({ filters: [{ propertyName: 'mobilephone', operator: 'IN', values }] });
  return { filterGroups: groups, properties: [...CONTACT_PROPERTIES], limit };
}

/**
 * The company search for a number: `phone` IN the spellings, and the searchable calculated phone
 * only when the portal's companies have that property (it is documented for contacts; HubSpot
 * refuses a filter on a property that does not exist).
 */
export function companySearch(phone: PhoneNumber, limit: number, calculatedPhone = false): SearchRequest {
  const groups: Array<{ filters: SearchFilter[] }> = [];
  if (phone.nationalNumber && calculatedPhone) {
    groups.push({
      filters: [
        {
          propertyName: 'hs_searchable_calculated_phone_number',
          operator: 'EQ',
          value: phone.nationalNumber,
        },
      ],
    });
  }
  groups.push({ filters: [{ propertyName: 'phone', operator: 'IN', values: variantsOf(phone) }] });
  return { filterGroups: groups, properties: [...COMPANY_PROPERTIES], limit };
}

function date(value: string | null | undefined): Date | undefined {
  if (!value) return undefined;
  const parsed = /^\d+$/.test(value) ? new Date(Number(value)) : new Date(value);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
}

/** Links and names the candidates need. */
export interface CandidateContext {
  /** Builds the record URL for an object type id (`0-1` contact, `0-2` company). */
  readonly recordUrl: (objectTypeId: '0-1' | '0-2', id: string) => string;
  readonly ownerName: (ownerId: string) => string | undefined;
  readonly phone: PhoneNumber;
}

/** A contact search result as a ranking candidate. */
export function contactCandidate(record: HubSpotRecord, context: CandidateContext): MatchCandidate {
  const p = record.properties;
  const name = [p.firstname, p.lastname].filter((part) => part && part.trim() !== '').join(' ');
  const ownerId = p.hubspot_owner_id ?? undefined;
  const lastActivityAt = date(p.notes_last_updated);
  const ownerName = ownerId ? context.ownerName(ownerId) : undefined;
  return {
    recordType: 'contact',
    id: record.id,
    displayName: name || p.email || formatPhone(context.phone),
    kind: 'person',
    url: context.recordUrl('0-1', record.id),
    ...(p.company ? { companyName: p.company } : {}),
    ...(ownerId ? { owner: ownerName ? { id: ownerId, name: ownerName } : { id: ownerId } } : {}),
    ...(lastActivityAt ? { lastActivityAt } : {}),
    phones: [p.phone, p.mobilephone],
  };
}

/** A company search result as a ranking candidate. */
export function companyCandidate(record: HubSpotRecord, context: CandidateContext): MatchCandidate {
  const p = record.properties;
  const ownerId = p.hubspot_owner_id ?? undefined;
  const lastActivityAt = date(p.notes_last_updated);
  const ownerName = ownerId ? context.ownerName(ownerId) : undefined;
  return {
    recordType: 'company',
    id: record.id,
    displayName: p.name || formatPhone(context.phone),
    kind: 'company',
    url: context.recordUrl('0-2', record.id),
    ...(ownerId ? { owner: ownerName ? { id: ownerId, name: ownerName } : { id: ownerId } } : {}),
    ...(lastActivityAt ? { lastActivityAt } : {}),
    phones: [p.phone],
  };
}
