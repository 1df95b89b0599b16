/**
 * The bookkeeping every event inbox needs, whatever stores the answers: which answer ids each
 * token has kept, which the consumer has wholly taken, and which a snapshot may release. Used by
 * core's {@link createStoreInbox} and by the fenced inbox of several runners (store-redis).
 */
export class InboxLedger {
  readonly #idsByToken = new Map<string, number[]>();
  readonly #tokenOf = new Map<number, string>();
  readonly #taken = new Set<number>();
  #lastId = 0;

  /** A new answer id: ids grow with time, also across restarts, so kept answers replay in order. */
  nextId(now: number): number {
    const id = Math.max(now * 1000, this.#lastId + 1);
    this.#lastId = id;
    return id;
  }

  /** The ids kept for `token` and not released (undefined: the token is not followed here). */
  ids(token: string): number[] | undefined {
    return this.#idsByToken.get(token);
  }

  /** `ids` are `token`'s now, to hand out and release (with `replace`, only they are). */
  own(token: string, ids: readonly number[], options: { readonly replace?: boolean } = {}): void {
    const list = options.replace ? [] : (this.#idsByToken.get(token) ?? []);
    this.#idsByToken.set(token, list);
    for (const id of ids) {
      if (!list.includes(id)) list.push(id);
      this.#tokenOf.set(id, token);
      this.#lastId = Math.max(this.#lastId, id);
    }
  }

  /** Takes back an id that could not be kept (no later write may list it). */
  disown(token: string, id: number): void {
    const list = this.#idsByToken.get(token);
    const at = list?.indexOf(id) ?? -1;
    if (at >= 0) list?.splice(at, 1);
    this.#tokenOf.delete(id);
  }

  /** The consumer has taken every event of answer `id`. */
  handedOut(id: number): void {
    if (this.#tokenOf.has(id)) this.#taken.add(id);
  }

  /** This process no longer follows `token`: its ids are forgotten, never released from here. */
  forget(token: string): void {
    for (const id of this.#idsByToken.get(token) ?? []) {
      this.#tokenOf.delete(id);
      this.#taken.delete(id);
    }
    this.#idsByToken.delete(token);
  }

  /**
   * Call when a snapshot is taken: the answers wholly taken so far are in it. Returns what to call
   * once it is saved: it drops those ids from the ledger and gives them back by token (tokens
   * forgotten meanwhile left out), for the store to delete.
   */
  checkpoint(): () => Map<string, number[]> {
    const ids = [...this.#taken];
    return () => {
      const released = new Map<string, number[]>();
      for (const id of ids) {
        this.#taken.delete(id);
        const token = this.#tokenOf.get(id);
        this.#tokenOf.delete(id);
        if (token === undefined) continue;
        const list = this.#idsByToken.get(token);
        if (list === undefined) continue;
        const at = list.indexOf(id);
        if (at >= 0) list.splice(at, 1);
        released.set(token, [...(released.get(token) ?? []), id]);
      }
      return released;
    };
  }

  /** Answers kept and not yet released, all tokens together. */
  get size(): number {
    let n = 0;
    for (const ids of this.#idsByToken.values()) n += ids.length;
    return n;
  }
}
