import { createHash } from 'node:crypto';
import type { OutboxKind } from '../store/types.js';

/**
 * Stable idempotency key (and outbox id) of one write: adapter, token, call id (or queue member
 * uuid), kind. The event token authenticates the OVH stream, so the key carries a short SHA-256
 * tag of it, never the token itself (keys end up in CRM records and logs):
 * `salesforce:3f9a1c0b7d2e:<CallId>:log-call`.
 */
export function idempotencyKey(adapter: string, token: string, id: string, kind: OutboxKind): string {
  return `${adapter}:${tokenTag(token)}:${id}:${kind}`;
}

const tokenTags = new Map<string, string>();

/** A short, stable, non-reversible tag of an event token (12 hex digits of its SHA-256). */
export function tokenTag(token: string): string {
  let tag = tokenTags.get(token);
  if (tag === undefined) {
    tag = createHash('sha256').update(token).digest('hex').slice(0, 12);
    if (tokenTags.size > 10_000) tokenTags.clear();
    tokenTags.set(token, tag);
  }
  return tag;
}
