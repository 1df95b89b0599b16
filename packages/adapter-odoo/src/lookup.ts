import { type PhoneNumber, phoneSearchVariants } from '@cti-bridge/core';

/** What `fields_get` told us about a model's phone fields. */
export interface PhoneFields {
  /** `phone_mobile_search` is searchable (phone_validation/sms installed). */
  readonly phoneMobileSearch: boolean;
  /** `mobile` exists (gone from res.partner in Odoo 18.2+). */
  readonly mobile: boolean;
  /** `phone_sanitized` exists (stored E.164). */
  readonly phoneSanitized: boolean;
}

/** An Odoo domain: Polish-notation operators and `[field, operator, value]` leaves. */
export type Domain = Array<string | [string, string, string | number | boolean | number[]]>;

/** Joins leaves with `|` in Odoo's prefix notation. */
export function anyOf(leaves: Domain): Domain {
  if (leaves.length === 0) return [['id', '=', 0]];
  return [...Array.from({ length: leaves.length - 1 }, () => '|'), ...leaves];
}

/** Drops terms that contain another term: with a substring match, the shorter one finds them all. */
function minimalTerms(terms: readonly string[]): string[] {
  const unique = [...new Set(terms.filter((t) => t.length >= 3))];
  return unique.filter((term) => !unique.some((other) => other !== term && term.includes(other)));
}

/**
 * The text spellings to search with `ilike` when `phone_mobile_search` is missing: the national
 * significant number (a substring of `+33612345678`, `0033…`, `06…`), and the grouped forms
 * (`6 12 34 56 78`, `6.12.34.56.78`, `6-12-34-56-78`, `(415) 555-1212`). Digits, spaces, dots,
 * dashes and parentheses only: never a LIKE wildcard.
 */
export function textSearchTerms(phone: PhoneNumber): string[] {
  if (!phone.e164) return [];
  const terms: string[] = [];
  if (phone.nationalNumber) terms.push(phone.nationalNumber);
  for (const variant of phoneSearchVariants(phone)) {
    if (!/\s/.test(variant)) continue;
    // `+33 6 12 34 56 78` → `6 12 34 56 78`; national `06 12 34 56 78` is covered by it
    const grouped = variant.startsWith('+') ? variant.replace(/^\+\d+\s+/, '') : variant;
    terms.push(grouped, grouped.replace(/\s+/g, '.'), grouped.replace(/\s+/g, '-'));
  }
  return minimalTerms(terms.filter((t) => /^[\d\s.()-]+$/.test(t)));
}

/**
 * The search domain for a number, or undefined when the number cannot be searched (withheld,
 * not a possible phone number): then no request is sent at all.
 *
 * With `phone_mobile_search`, one leaf on the national significant number finds every stored
 * notation (separators stripped, substring); a leaf on the E.164 form would miss numbers stored
 * nationally (`06…`), as observed on Odoo 18. Without it, `ilike` on `phone`/`mobile` for each
 * spelling, plus `phone_sanitized = E.164` when present.
 */
export function phoneDomain(phone: PhoneNumber, fields: PhoneFields): Domain | undefined {
  if (phone.withheld || !phone.e164) return undefined;
  const national = phone.nationalNumber ?? '';
  if (fields.phoneMobileSearch) {
    const term = national.length >= 6 ? national : phone.e164;
    return [['phone_mobile_search', 'ilike', term]];
  }
  const leaves: Domain = [];
  if (fields.phoneSanitized) leaves.push(['phone_sanitized', '=', phone.e164]);
  const numberFields = fields.mobile ? ['phone', 'mobile'] : ['phone'];
  for (const term of textSearchTerms(phone)) {
    for (const field of numberFields) leaves.push([field, 'ilike', term]);
  }
  return anyOf(leaves);
}
