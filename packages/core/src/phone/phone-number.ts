import { type CountryCode, parsePhoneNumberFromString as parseWith } from 'libphonenumber-js/core';
import metadata from 'libphonenumber-js/min/metadata';
import { DEFAULT_COUNTRY } from '../config/defaults.js';

// libphonenumber-js's `core` entry with the same "min" metadata as its default entry: the default
// entry also loads AsYouType, the number finders and their helpers (40 modules, about 2 MB of
// resident memory) that this module never uses.
function parsePhoneNumberFromString(text: string, country?: CountryCode) {
  return country === undefined ? parseWith(text, metadata) : parseWith(text, country, metadata);
}

/**
 * A phone number as it came in, plus its E.164 form when it could be read as one.
 *
 * `raw` is always the original string (OVH sends `0033…`, queues may send a national `06…`,
 * CRMs store anything from `+33 6 12 34 56 78` to `06.12.34.56.78`).
 */
export interface PhoneNumber {
  /** The original string, untouched. */
  readonly raw: string;
  /** E.164 form (`+33612345678`) when the number is a possible phone number; absent otherwise. */
  readonly e164?: string;
  /** ISO 3166 country of the number when known (`FR`). */
  readonly country?: string;
  /** The national significant number (`612345678`), digits only, when known. */
  readonly nationalNumber?: string;
  /** True for withheld or empty caller ids (`anonymous`, `unknown`, empty). */
  readonly withheld: boolean;
}

/** Options for {@link parsePhone}. */
export interface ParsePhoneOptions {
  /** Country used to read national numbers such as `0612345678`. Default `FR` (OVH's home market). */
  readonly defaultCountry?: string;
}

const WITHHELD = /^(anonymous|unknown|unavailable|private|restricted|withheld|masqu[eé])$/i;

/**
 * Reads a phone number in any common notation (E.164, `00` international prefix, national with
 * trunk `0`, spaces, dots, dashes, parentheses) into a {@link PhoneNumber}. Never throws.
 */
export function parsePhone(raw: string | undefined | null, options: ParsePhoneOptions = {}): PhoneNumber {
  const text = (raw ?? '').trim();
  if (text === '' || WITHHELD.test(text)) return { raw: raw ?? '', withheld: true };
  const country = (options.defaultCountry ?? DEFAULT_COUNTRY).toUpperCase() as CountryCode;
  const parsed = parsePhoneNumberFromString(text, country);
  if (!parsed?.isPossible()) return { raw: text, withheld: false };
  const result: { -readonly [K in keyof PhoneNumber]: PhoneNumber[K] } = {
    raw: text,
    e164: parsed.number,
    nationalNumber: parsed.nationalNumber,
    withheld: false,
  };
  if (parsed.country) result.country = parsed.country;
  return result;
}

/** Digits only: `+33 (0)6.12` → `33012`. */
export function digitsOf(value: string): string {
  return value.replace(/\D+/g, '');
}

/** How a stored CRM number relates to the number we look for. */
export type PhoneMatchQuality = 'exact' | 'suffix';

/** Minimum number of trailing digits for a suffix match to count. */
const MIN_SUFFIX_DIGITS = 6;

/**
 * Compares a number as stored in a CRM (any notation) with a parsed number.
 *
 * - `exact`: both read as the same E.164 number (the stored one is read with the target's country,
 *   so `06 12 34 56 78` matches `+33612345678` and `(415) 555-1212` matches `+14155551212`);
 * - `suffix`: the stored digits end with the target's national number (or the reverse), at least
 *   six digits long — a number stored without its country or trunk prefix. Only for stored
 *   numbers that do not read as a valid number of their own: `+32 471 23 45 67` (Belgium) is not
 *   a suffix match of `+33 4 71 23 45 67`;
 * - `undefined`: no match. Used by adapters to post-filter what a CRM search returned.
 */
export function comparePhone(
  stored: string | undefined | null,
  target: PhoneNumber,
): PhoneMatchQuality | undefined {
  if (!stored || !target.e164) return undefined;
  const country = (target.country ?? DEFAULT_COUNTRY).toUpperCase() as CountryCode;
  const storedPhone = parsePhone(stored, { defaultCountry: country });
  if (storedPhone.e164 === target.e164) return 'exact';
  // A stored number that is a full, valid number of its own (a UK or Belgian number that shares
  // its last digits with a French caller) is another person's number, never a suffix match.
  if (storedPhone.e164 !== undefined && parsePhoneNumberFromString(stored.trim(), country)?.isValid()) {
    return undefined;
  }
  const storedDigits = digitsOf(stored);
  const national = target.nationalNumber ?? '';
  if (national.length >= MIN_SUFFIX_DIGITS && storedDigits.endsWith(national)) return 'suffix';
  if (storedDigits.length >= MIN_SUFFIX_DIGITS && digitsOf(target.e164).endsWith(storedDigits))
    return 'suffix';
  return undefined;
}

/**
 * The spellings under which a CRM may have stored a number, most specific first:
 * `+33612345678`, `0033612345678`, `33612345678`, `0612345678`, `612345678`, and the spaced
 * national and international formats. Adapters use these for CRMs that search on text.
 */
export function phoneSearchVariants(phone: PhoneNumber): string[] {
  if (!phone.e164) return phone.withheld ? [] : [phone.raw];
  const variants = new Set<string>();
  const e164Digits = phone.e164.slice(1);
  variants.add(phone.e164);
  variants.add(`00${e164Digits}`);
  variants.add(e164Digits);
  const parsed = parsePhoneNumberFromString(phone.e164);
  if (parsed) {
    variants.add(digitsOf(parsed.formatNational()));
    variants.add(parsed.formatNational());
    variants.add(parsed.formatInternational());
  }
  if (phone.nationalNumber) variants.add(phone.nationalNumber);
  return [...variants];
}

/** Formats a number for people: international format when known, raw otherwise. */
export function formatPhone(phone: PhoneNumber): string {
  if (phone.withheld) return 'withheld number';
  if (!phone.e164) return phone.raw;
  return parsePhoneNumberFromString(phone.e164)?.formatInternational() ?? phone.e164;
}
