/**
 * The last `window` fingerprints seen, oldest forgotten first, in memory fixed at creation (typed
 * arrays). Fingerprints are pairs [a, b] side by side (one cache line for both): a ring holds them
 * in arrival order, an open-addressing table (linear probing, backward-shift deletion) by hash. A
 * table slot holding [0, 0] is empty: no fingerprint may be [0, 0]. Fingerprints must be already
 * mixed: their low bits index the table directly.
 */
export class FingerprintWindow {
  private readonly limit: number;
  private readonly mask: number;
  private readonly ring: Int32Array;
  private readonly table: Int32Array;
  private next = 0;
  private count = 0;

  constructor(window: number) {
    this.limit = Math.max(1, Math.floor(window));
    let capacity = 8;
    while (capacity < this.limit * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.ring = new Int32Array(2 * this.limit);
    this.table = new Int32Array(2 * capacity);
  }

  /** How many fingerprints are remembered now (≤ the window). */
  get size(): number {
    return this.count;
  }

  /** True when [a, b] is remembered; otherwise remembers it (forgetting the oldest when full), false. */
  seenOrAdd(a: number, b: number): boolean {
    const { ring, table, mask } = this;
    if (this.find(a, b) >= 0) return true;
    const next = this.next;
    if (this.count === this.limit) {
      // Forget the oldest: it sits in the ring slot about to be reused.
      const at = this.find(ring[2 * next] as number, ring[2 * next + 1] as number);
      if (at >= 0) this.remove(at);
      this.count--;
    }
    ring[2 * next] = a;
    ring[2 * next + 1] = b;
    let i = a & mask;
    while (((table[2 * i] as number) | (table[2 * i + 1] as number)) !== 0) i = (i + 1) & mask;
    table[2 * i] = a;
    table[2 * i + 1] = b;
    this.next = (next + 1) % this.limit;
    this.count++;
    return false;
  }

  /** Forgets everything. */
  clear(): void {
    this.table.fill(0);
    this.next = 0;
    this.count = 0;
  }

  /** Slot of fingerprint [a, b] in the table, or -1. */
  private find(a: number, b: number): number {
    const { table, mask } = this;
    for (let i = a & mask; ; i = (i + 1) & mask) {
      const ta = table[2 * i] as number;
      const tb = table[2 * i + 1] as number;
      if (ta === a && tb === b) return i;
      if ((ta | tb) === 0) return -1;
    }
  }

  /** Empties slot `at`; backward-shift deletion keeps every probe chain unbroken without tombstones. */
  private remove(at: number): void {
    const { table, mask } = this;
    let hole = at;
    table[2 * hole] = 0;
    table[2 * hole + 1] = 0;
    for (
      let i = (hole + 1) & mask;
      ((table[2 * i] as number) | (table[2 * i + 1] as number)) !== 0;
      i = (i + 1) & mask
    ) {
      const want = (table[2 * i] as number) & mask;
      // Move the entry into the hole when the hole lies on its probe path (cyclically).
      if (((i - want) & mask) >= ((i - hole) & mask)) {
        table[2 * hole] = table[2 * i] as number;
        table[2 * hole + 1] = table[2 * i + 1] as number;
        table[2 * i] = 0;
        table[2 * i + 1] = 0;
        hole = i;
      }
    }
  }
}
