import { digitsOf, type PhoneNumber, phoneSearchVariants } from '@cti-bridge/core';

/** Characters SOSL reserves in a search term; each must be preceded by a backslash. */
const SOSL_RESERVED = /[&|!(){}[\]^"~*?:\\'+-]/g;

/**
 * Escapes a SOSL search term: every reserved character (`& | ! ( ) { } [ ] ^ " ~ * ? : \ ' + -`)
 * gets a backslash, so the term is searched literally and cannot close the braces or add wildcards;
 * the words AND, OR and NOT are quoted so they are searched, not obeyed. Line breaks become spaces.
 */
export function escapeSosl(term: string): string {
  return term
    .replace(/[\r\n\t]+/g, ' ')
    .replace(SOSL_RESERVED, (c) => `\\${c}`)
    .replace(/(^|\s)(and|or|not)(?=\s|$)/gi, (_, space: string, word: string) => `${space}"${word}"`);
}

/**
 * A SOQL string literal: quotes, backslashes and control characters escaped the way SOQL reads
 * them, so a value can never end the literal and add a condition.
 */
export function soqlString(value: string): string {
  const escaped = value.replace(/[\\'"\n\r\t\b\f]/g, (c) => {
    switch (c) {
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      case '\b':
        return '\\b';
      case '\f':
        return '\\f';
      default:
        return `\\${c}`;
    }
  });
  // Other control characters have no SOQL escape: drop them.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters on purpose
  return `'${escaped.replace(/[\u0000-\u001f\u007f]/g, '')}'`;
}

/** Minimum digits a search variant needs; shorter numbers would match far too widely. */
export const MIN_SEARCH_DIGITS = 6;

/**
 * Digit-only spellings under which Salesforce may hold a number (`33612345678`, `0033612345678`,
 * `0612345678`, `612345678`). Empty for withheld or unreadable numbers.
 */
export function phoneSearchTerms(phone: PhoneNumber): string[] {
  // Without an E.164 form the post-filter can match nothing: do not spend a request.
  if (phone.withheld || !phone.e164) return [];
  const terms = new Set<string>();
  for (const variant of phoneSearchVariants(phone)) {
    const digits = digitsOf(variant);
    if (digits.length >= MIN_SEARCH_DIGITS) terms.add(digits);
  }
  return [...terms];
}

/**
 * The spaced spellings of a number (`06 12 34 56 78`, `+33 6 12 34 56 78`), searched as phrases
 * beside the digit-only terms: whether Salesforce's phone search matches a digit-only term against
 * a number stored with spaces is not documented, and a phrase of the same tokens matches either way.
 */
export function phoneSearchPhrases(phone: PhoneNumber): string[] {
  if (phone.withheld || !phone.e164) return [];
  return phoneSearchVariants(phone).filter((variant) => /\s/.test(variant.trim()));
}

/** Fields asked for each searchable object. */
export const LOOKUP_FIELDS: Readonly<Record<'Contact' | 'Lead' | 'Account', readonly string[]>> = {
  Contact: [
    'Id',
    'Name',
    'Phone',
    'MobilePhone',
    'HomePhone',
    'OtherPhone',
    'AssistantPhone',
    'AccountId',
    'Account.Name',
    'OwnerId',
    'Owner.Name',
    'LastActivityDate',
  ],
  Lead: ['Id', 'Name', 'Company', 'Phone', 'MobilePhone', 'OwnerId', 'Owner.Name', 'LastActivityDate'],
  Account: ['Id', 'Name', 'Phone', 'OwnerId', 'Owner.Name', 'LastActivityDate'],
};

/** Phone fields of each searchable object, read for the post-filter. */
export const PHONE_FIELDS: Readonly<Record<'Contact' | 'Lead' | 'Account', readonly string[]>> = {
  Contact: ['Phone', 'MobilePhone', 'HomePhone', 'OtherPhone', 'AssistantPhone'],
  Lead: ['Phone', 'MobilePhone'],
  Account: ['Phone'],
};

/** Builds the SOSL of a phone lookup: `FIND {t1 OR t2} IN PHONE FIELDS RETURNING Contact(…), …`. */
export function buildPhoneSearch(
  terms: readonly string[],
  objects: readonly ('Contact' | 'Lead' | 'Account')[],
  perObjectLimit: number,
  phrases: readonly string[] = [],
): string {
  const find = [...terms.map(escapeSosl), ...phrases.map((phrase) => `"${escapeSosl(phrase)}"`)].join(' OR ');
  const returning = objects.map((object) => {
    const where = object === 'Lead' ? ' WHERE IsConverted = false' : '';
    return `${object}(${LOOKUP_FIELDS[object].join(', ')}${where} LIMIT ${perObjectLimit})`;
  });
  return `FIND {${find}} IN PHONE FIELDS RETURNING ${returning.join(', ')}`;
}
