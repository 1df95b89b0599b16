/** Phone numbers the way OVH writes them in events, read in the scenario's default country. */
import { parsePhone } from '../../phone/index.js';

/** The number notations events use, for numbers given to the builder in any notation. */
export interface ScenarioNumbers {
  /** `0612345678` / `+33612345678` → `0033612345678` (OVH notation); unparsable numbers as given. */
  ovh(number: string): string;
  /** E.164 (`+33612345678`); unparsable numbers as given. */
  e164(number: string): string;
  /** French numbers in national notation (`0612345678`), others in E.164. */
  national(number: string): string;
  /** A stable six-digit `Details.Id` for a line or queue number. */
  lineId(number: string): string;
}

/** The notations of numbers read with `defaultCountry`. */
export function scenarioNumbers(defaultCountry: string): ScenarioNumbers {
  const parse = (number: string) => parsePhone(number, { defaultCountry });
  const ovh = (number: string): string => {
    const parsed = parse(number);
    return parsed.e164 ? `00${parsed.e164.slice(1)}` : number;
  };
  return {
    ovh,
    e164: (number) => parse(number).e164 ?? number,
    national: (number) => {
      const parsed = parse(number);
      if (parsed.country === 'FR' && parsed.nationalNumber) return `0${parsed.nationalNumber}`;
      return parsed.e164 ?? number;
    },
    lineId: (number) => {
      let h = 0;
      for (const c of ovh(number)) h = (h * 31 + c.charCodeAt(0)) >>> 0;
      return String(100_000 + (h % 900_000));
    },
  };
}
