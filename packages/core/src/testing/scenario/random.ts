/** The scenario's deterministic randomness: a seeded generator and the call ids and uuids drawn from it. */

/** A source of numbers in [0, 1), like `Math.random`. */
export type Random = () => number;

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): Random {
  let a = seed >>> 0 || 1;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `length` random characters among `a-z0-9`. */
export function alnum(random: Random, length: number): string {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < length; i++) out += chars[Math.floor(random() * chars.length)];
  return out;
}

/** `length` random lowercase hex digits. */
export function hex(random: Random, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += Math.floor(random() * 16).toString(16);
  return out;
}

/** An OVH-looking SIP CallId: `was98-kw-zp9qrfo-ifrco1k_sip4.ovh.fr`. */
export function newCallId(random: Random): string {
  return `${alnum(random, 5)}-${alnum(random, 2)}-${alnum(random, 7)}-${alnum(random, 7)}_sip4.ovh.fr`;
}

/** A v4 uuid. */
export function newUuid(random: Random): string {
  const h = (length: number) => hex(random, length);
  return `${h(8)}-${h(4)}-4${h(3)}-${'89ab'[Math.floor(random() * 4)]}${h(3)}-${h(12)}`;
}
