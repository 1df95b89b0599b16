import { keyAgent, keyName, keySubject, keyTime } from './dedupe-key.js';
import type { OvhEvent } from './types.js';

const PRIME_A = 0x01000193; // FNV-1a's 32-bit prime
const PRIME_B = 0x5bd1e995; // murmur2's multiplier
const SEED_A = 0x811c9dc5 | 0;
const SEED_B = 0x2166136b;

// A double's bytes, read as two 32-bit words.
const DOUBLE = new Float64Array(1);
const WORDS = new Uint32Array(DOUBLE.buffer);
/** Ends a numeric part. A string part ends with its length plus a constant, which reaches this only for strings of over 10^9 characters (V8 allows 2^29). */
const NUMBER_MARK = 0xfffffff1 | 0;

/** murmur3's 32-bit finaliser: spreads the bits of a hash. */
function mix(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}

/**
 * Reduces an event's {@link dedupeKey} parts to a 64-bit fingerprint, never [0, 0]: two 32-bit hash
 * lanes with different multipliers (FNV-1a's and murmur2's), fed together in one pass over the
 * key's parts and finalised by murmur3's mixer. The token's lanes are computed once per token
 * (only the last token string is kept). No array is allocated per event: the result is left in
 * {@link EventFingerprinter.a} and {@link EventFingerprinter.b}.
 */
export class EventFingerprinter {
  /** Lane A of the last fingerprint (while fingerprinting, of the key being fed). */
  a = 0;
  /** Lane B of the last fingerprint (while fingerprinting, of the key being fed). */
  b = 0;
  // The token rarely changes from one event to the next: its lanes are computed once per token.
  private lastToken: string | undefined;
  private tokenA = 0;
  private tokenB = 0;

  /** Sets `a`/`b` to the fingerprint of the event's {@link dedupeKey} parts. */
  fingerprint(event: OvhEvent): void {
    const token = event.token;
    if (token !== this.lastToken) {
      this.a = SEED_B;
      this.b = SEED_A;
      this.feed(token);
      this.lastToken = token;
      this.tokenA = this.a;
      this.tokenB = this.b;
    }
    this.a = SEED_A;
    this.b = SEED_B;
    const stamp = event.raw.Timestamp;
    if (typeof stamp === 'number') this.feedNumber(stamp);
    else this.feed(keyTime(event));
    this.feed(keySubject(event));
    this.feed(keyName(event));
    this.feed(keyAgent(event));
    this.a = mix(Math.imul(this.a ^ this.tokenA, PRIME_A));
    this.b = mix(Math.imul(this.b ^ this.tokenB, PRIME_B) ^ this.tokenA);
    if ((this.a | this.b) === 0) this.b = 1; // [0, 0] marks an empty slot
  }

  /**
   * Feeds a `Timestamp` sent as a JSON number: the two 32-bit halves of the double (no string is
   * made), then a separator no string part can produce (string parts feed their length).
   */
  private feedNumber(value: number): void {
    DOUBLE[0] = value;
    let a = this.a;
    let b = this.b;
    for (let i = 0; i < 2; i++) {
      const c = WORDS[i] as number;
      a = Math.imul(a ^ c, PRIME_A);
      a ^= a >>> 15;
      b = Math.imul(b ^ c, PRIME_B);
      b ^= b >>> 13;
    }
    this.a = Math.imul(a ^ NUMBER_MARK, PRIME_A);
    this.b = Math.imul(b ^ NUMBER_MARK, PRIME_B);
  }

  /**
   * Feeds one part of the key to both lanes in a single pass, two UTF-16 units at a time (each
   * step a bijection of the lane, so parts differing in one pair of units never collide), then its
   * length as a separator.
   */
  private feed(part: string): void {
    let a = this.a;
    let b = this.b;
    const length = part.length;
    let i = 0;
    for (; i + 1 < length; i += 2) {
      const c = part.charCodeAt(i) | (part.charCodeAt(i + 1) << 16);
      a = Math.imul(a ^ c, PRIME_A);
      a ^= a >>> 15;
      b = Math.imul(b ^ c, PRIME_B);
      b ^= b >>> 13;
    }
    if (i < length) {
      const c = part.charCodeAt(i);
      a = Math.imul(a ^ c, PRIME_A);
      b = Math.imul(b ^ c, PRIME_B);
    }
    this.a = Math.imul(a ^ (length + 0x9e3779b9), PRIME_A);
    this.b = Math.imul(b ^ (length + 0x7f4a7c15), PRIME_B);
  }
}
