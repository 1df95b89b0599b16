import { DEFAULT_COUNTRY } from '../config/defaults.js';
import { type PhoneNumber, parsePhone } from './phone-number.js';

/**
 * A bounded memo of {@link parsePhone}: libphonenumber is by far the most expensive step of
 * normalising an OVH event, and a stream repeats the same few numbers all day long.
 *
 * Two generations per default country: hits are looked up in the recent one, then in the older one
 * (and copied into the recent one); when the recent one is full, the older one is dropped and the
 * recent one becomes the older. Numbers in use stay cached, the others age out, and at most `limit`
 * numbers are held per country, whatever the stream sends. Results are frozen and shared.
 */
export interface PhoneCache {
  /** `parsePhone(raw, { defaultCountry })`, from the cache when possible. */
  parse(raw: string | undefined | null, defaultCountry?: string): PhoneNumber;
  /** Numbers held now, all countries together (≤ `limit` × countries held). */
  readonly size: number;
  /** Forgets everything. */
  clear(): void;
}

/** Default number of parsed numbers a cache keeps per default country. */
export const PHONE_CACHE_LIMIT = 20_000;

/** At most this many default countries are cached at once (a deployment uses one or two). */
const MAX_COUNTRIES = 16;

interface Generations {
  recent: Map<string, PhoneNumber>;
  older: Map<string, PhoneNumber>;
}

/** Creates a {@link PhoneCache} keeping at most `limit` numbers per default country. */
export function createPhoneCache(limit = PHONE_CACHE_LIMIT): PhoneCache {
  const generation = Math.max(1, Math.floor(limit / 2));
  const countries = new Map<string, Generations>();
  // The country of the previous call: a stream asks for one country over and over.
  let lastCountry: string | undefined;
  let last: Generations | undefined;

  const generationsOf = (country: string): Generations => {
    if (country === lastCountry && last) return last;
    let found = countries.get(country);
    if (!found) {
      if (countries.size >= MAX_COUNTRIES) countries.clear();
      found = { recent: new Map(), older: new Map() };
      countries.set(country, found);
    }
    lastCountry = country;
    last = found;
    return found;
  };

  const remember = (cache: Generations, key: string, phone: PhoneNumber): void => {
    if (cache.recent.size >= generation) {
      cache.older = cache.recent;
      cache.recent = new Map();
    }
    cache.recent.set(key, phone);
  };

  // The previous answer: an event often names one number several times (Called, Dialed, Billing).
  let lastKey: string | undefined;
  let lastPhone: PhoneNumber | undefined;

  const lookup = (key: string, defaultCountry: string): PhoneNumber => {
    const cache = generationsOf(defaultCountry);
    const hit = cache.recent.get(key);
    if (hit !== undefined) return hit;
    const old = cache.older.get(key);
    if (old !== undefined) {
      remember(cache, key, old);
      return old;
    }
    const parsed = Object.freeze(parsePhone(key, { defaultCountry }));
    remember(cache, key, parsed);
    return parsed;
  };

  return {
    parse(raw, defaultCountry = DEFAULT_COUNTRY) {
      const key = raw ?? '';
      if (key === lastKey && defaultCountry === lastCountry && lastPhone !== undefined) return lastPhone;
      const phone = lookup(key, defaultCountry);
      lastKey = key;
      lastPhone = phone;
      return phone;
    },
    get size() {
      let n = 0;
      for (const cache of countries.values()) n += cache.recent.size + cache.older.size;
      return n;
    },
    clear() {
      countries.clear();
      lastCountry = undefined;
      last = undefined;
      lastKey = undefined;
      lastPhone = undefined;
    },
  };
}

const shared = createPhoneCache();

/**
 * {@link parsePhone} through a process-wide {@link PhoneCache} (at most {@link PHONE_CACHE_LIMIT}
 * numbers per default country). The result is frozen and may be shared with other callers.
 */
export function parsePhoneCached(
  raw: string | undefined | null,
  defaultCountry = DEFAULT_COUNTRY,
): PhoneNumber {
  return shared.parse(raw, defaultCountry);
}
