import { comparePhone, type PhoneNumber } from '../phone/index.js';
import type { ContactMatch } from './contract.js';

/** A record a CRM search returned, before post-filtering and ranking. */
export interface MatchCandidate extends Omit<ContactMatch, 'quality' | 'ambiguous' | 'matchedPhone'> {
  /** Every phone value stored on the record (phone, mobile, …), as stored. Empty values are ignored. */
  readonly phones: readonly (string | null | undefined)[];
}

/** Options of {@link rankMatches}. */
export interface RankOptions {
  /** Record types best first (`['Contact', 'Lead', 'Account']`); unlisted types rank last. */
  readonly recordTypePriority?: readonly string[];
  /** Maximum number of matches returned (default 10). */
  readonly limit?: number;
  /**
   * `quality` (default): exact matches first, then record type priority. `recordType`: record type
   * priority first, then exact before suffix (a Contact matched on a suffix outranks an exact Lead).
   */
  readonly rankFirstBy?: 'quality' | 'recordType';
}

/**
 * Post-filters CRM search results on the actual number and ranks them: exact before suffix
 * matches, then by record type priority (or the other way round, see `rankFirstBy`), then persons
 * before companies, then most recent activity first. Matches that rank equal to the best are flagged `ambiguous`, so a screen pop can
 * show "2 possible contacts" instead of silently picking one. Records whose stored numbers do not
 * match are dropped: CRM searches are often looser than they look.
 */
export function rankMatches(
  candidates: readonly MatchCandidate[],
  phone: PhoneNumber,
  options: RankOptions = {},
): ContactMatch[] {
  const priority = options.recordTypePriority ?? [];
  const typeRank = (type: string) => {
    const index = priority.indexOf(type);
    return index === -1 ? priority.length : index;
  };
  const typeFirst = options.rankFirstBy === 'recordType';
  const seen = new Set<string>();
  const matched: Array<ContactMatch & { readonly sortKey: readonly number[] }> = [];
  for (const candidate of candidates) {
    const key = `${candidate.recordType}:${candidate.id}`;
    if (seen.has(key)) continue;
    let best: { quality: 'exact' | 'suffix'; stored: string } | undefined;
    for (const stored of candidate.phones) {
      const quality = comparePhone(stored, phone);
      if (quality === 'exact') {
        best = { quality, stored: stored as string };
        break;
      }
      if (quality === 'suffix' && !best) best = { quality, stored: stored as string };
    }
    if (!best) continue;
    seen.add(key);
    const { phones: _phones, ...rest } = candidate;
    const qualityRank = best.quality === 'exact' ? 0 : 1;
    const personRank = candidate.kind === 'person' ? 0 : 1;
    matched.push({
      ...rest,
      matchedPhone: best.stored,
      quality: best.quality,
      ambiguous: false,
      sortKey: typeFirst
        ? [typeRank(candidate.recordType), qualityRank, personRank]
        : [qualityRank, typeRank(candidate.recordType), personRank],
    });
  }
  const compare = (a: readonly number[], b: readonly number[]) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
    return 0;
  };
  matched.sort(
    (a, b) =>
      compare(a.sortKey, b.sortKey) ||
      (b.lastActivityAt?.getTime() ?? 0) - (a.lastActivityAt?.getTime() ?? 0) ||
      a.id.localeCompare(b.id),
  );
  const top = matched[0];
  const tiedWithTop = top ? matched.filter((m) => compare(m.sortKey, top.sortKey) === 0).length : 0;
  return matched.slice(0, options.limit ?? 10).map(({ sortKey, ...match }) => ({
    ...match,
    ambiguous: top !== undefined && tiedWithTop > 1 && compare(sortKey, top.sortKey) === 0,
  }));
}
