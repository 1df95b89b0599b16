import { DEFAULT_COUNTRY, parsePhone } from '@cti-bridge/core';

/** Labels of our numbers per token, as the config gives them (`tokens.<t>.lineLabels`). */
export interface LabelSource {
  readonly lineLabels?: Readonly<Record<string, string>> | undefined;
  readonly defaultCountry?: string | undefined;
}

/** Finds the configured label of one of our numbers (line or queue), in any notation. */
export type Labeller = (token: string, number: string) => string | undefined;

/**
 * A {@link Labeller} over the configured labels: keys and looked-up numbers are both read as phone
 * numbers (E.164), so `0033972101010`, `+33 9 72 10 10 10` and `0972101010` find one label.
 */
export function labeller(tokens: Readonly<Record<string, LabelSource>>): Labeller {
  const maps = new Map<string, Map<string, string>>();
  const countryOf = new Map<string, string>();
  for (const [token, source] of Object.entries(tokens)) {
    const country = source.defaultCountry ?? DEFAULT_COUNTRY;
    countryOf.set(token, country);
    const map = new Map<string, string>();
    for (const [key, label] of Object.entries(source.lineLabels ?? {})) {
      map.set(key, label);
      const e164 = parsePhone(key, { defaultCountry: country }).e164;
      if (e164) map.set(e164, label);
    }
    maps.set(token, map);
  }
  return (token, number) => {
    const map = maps.get(token) ?? maps.get('*');
    if (!map || map.size === 0) return undefined;
    const direct = map.get(number);
    if (direct !== undefined) return direct;
    const e164 = parsePhone(number, { defaultCountry: countryOf.get(token) ?? DEFAULT_COUNTRY }).e164;
    return e164 ? map.get(e164) : undefined;
  };
}
