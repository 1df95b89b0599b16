import { comparePhone, digitsOf, formatPhone } from '../phone/index.js';
import type { ActivityRef, ContactMatch, CreateContactInput, FindContactsQuery } from './contract.js';
import type { MemoryActivityFields } from './memory-activities.js';
import type { MemoryActivity, MemoryContact, MemoryContactInput } from './memory-adapter.js';
import type { MatchCandidate } from './rank.js';

/**
 * The data of the memory "CRM": contacts and activities (exposed as is: cleared in place), with
 * idempotent writes and record URLs under `baseUrl`.
 */
export class MemoryRecords {
  /** Contacts, in insertion order. */
  readonly contacts: MemoryContact[] = [];
  /** Activities written, in order. */
  readonly activities: MemoryActivity[] = [];
  private readonly byKey = new Map<string, MemoryActivity>();
  private readonly contactsByKey = new Map<string, MemoryContact>();
  private nextId = 1;

  constructor(private readonly baseUrl: string) {}

  /** A contact's record URL. */
  contactUrl(id: string): string {
    return `${this.baseUrl}/contacts/${encodeURIComponent(id)}`;
  }

  /** An activity's record URL. */
  activityUrl(id: string): string {
    return `${this.baseUrl}/activities/${encodeURIComponent(id)}`;
  }

  /** Adds a contact as if created in the CRM's UI. */
  addContact(input: MemoryContactInput): MemoryContact {
    const kind = input.kind ?? 'person';
    const contact: MemoryContact = {
      id: input.id ?? `c${this.nextId++}`,
      recordType: kind === 'person' ? 'Contact' : 'Company',
      kind,
      displayName: input.name,
      phones: typeof input.phone === 'string' ? [input.phone] : [...input.phone],
      ...(input.companyName === undefined ? {} : { companyName: input.companyName }),
      ...(input.owner === undefined ? {} : { owner: input.owner }),
      ...(input.lastActivityAt === undefined ? {} : { lastActivityAt: input.lastActivityAt }),
    };
    this.contacts.push(contact);
    return contact;
  }

  /** The contacts with a number matching `phone`, as candidates to rank. */
  candidatesFor(phone: FindContactsQuery['phone']): MatchCandidate[] {
    const candidates: MatchCandidate[] = [];
    // Any match (exact or suffix) shares the last six digits: a cheap filter before parsing.
    const tail = digitsOf(phone.e164 ?? phone.raw).slice(-6);
    for (const contact of this.contacts) {
      if (!contact.phones.some((stored) => digitsOf(stored).endsWith(tail))) continue;
      if (!contact.phones.some((stored) => comparePhone(stored, phone) !== undefined)) continue;
      candidates.push({
        recordType: contact.recordType,
        id: contact.id,
        displayName: contact.displayName,
        kind: contact.kind,
        url: this.contactUrl(contact.id),
        phones: contact.phones,
        ...(contact.companyName === undefined ? {} : { companyName: contact.companyName }),
        ...(contact.owner === undefined ? {} : { owner: contact.owner }),
        ...(contact.lastActivityAt === undefined ? {} : { lastActivityAt: contact.lastActivityAt }),
      });
    }
    return candidates;
  }

  /** Creates a contact once per idempotency key (the same contact again for a repeated key). */
  createContact(key: string, input: CreateContactInput): ContactMatch {
    const existing = this.contactsByKey.get(key);
    const contact =
      existing ??
      this.addContact({
        name: input.name ?? formatPhone(input.phone),
        phone: input.phone.e164 ?? input.phone.raw,
        ...(input.ownerId === undefined ? {} : { owner: { id: input.ownerId } }),
      });
    this.contactsByKey.set(key, contact);
    return this.toMatch(contact, contact.phones[0] ?? '');
  }

  /** Writes an activity once per idempotency key (a repeated key returns the first, not created). */
  write(type: MemoryActivity['type'], key: string, build: (id: string) => MemoryActivityFields): ActivityRef {
    const existing = this.byKey.get(key);
    if (existing) return this.refOf(existing, false);
    const id = `a${this.nextId++}`;
    const activity: MemoryActivity = { id, type, idempotencyKey: key, ...build(id) };
    this.activities.push(activity);
    this.byKey.set(key, activity);
    return this.refOf(activity, true);
  }

  /** Removes contacts and activities. */
  reset(): void {
    this.contacts.length = 0;
    this.activities.length = 0;
    this.byKey.clear();
    this.contactsByKey.clear();
  }

  private toMatch(contact: MemoryContact, matchedPhone: string): ContactMatch {
    return {
      recordType: contact.recordType,
      id: contact.id,
      displayName: contact.displayName,
      kind: contact.kind,
      url: this.contactUrl(contact.id),
      matchedPhone,
      quality: 'exact',
      ambiguous: false,
      ...(contact.companyName === undefined ? {} : { companyName: contact.companyName }),
      ...(contact.owner === undefined ? {} : { owner: contact.owner }),
    };
  }

  private refOf(activity: MemoryActivity, created: boolean): ActivityRef {
    return { id: activity.id, url: this.activityUrl(activity.id), created };
  }
}
