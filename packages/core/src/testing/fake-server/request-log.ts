/**
 * The requests a fake received, in order of arrival. Entries are kept as recorded (a fake may
 * complete one later, e.g. with its outcome); reads return a new array.
 */
export class RequestLog<T> {
  #entries: T[] = [];

  /** Appends an entry and returns it. */
  record(entry: T): T {
    this.#entries.push(entry);
    return entry;
  }

  /** Every entry so far, oldest first (a new array; the entries themselves are shared). */
  list(): T[] {
    return [...this.#entries];
  }

  /** How many requests were recorded. */
  get size(): number {
    return this.#entries.length;
  }

  /** Forgets every entry. */
  clear(): void {
    this.#entries = [];
  }
}
