import { describe, expect, it } from 'vitest';
import { parsePhone } from '../phone/index.js';
import { type MatchCandidate, rankMatches } from './rank.js';

const phone = parsePhone('+33612345678');
const candidate = (
  over: Partial<MatchCandidate> & Pick<MatchCandidate, 'id' | 'phones'>,
): MatchCandidate => ({
  recordType: 'Contact',
  displayName: over.id,
  kind: 'person',
  url: `https://crm.example/${over.id}`,
  ...over,
});

describe('rankMatches', () => {
  it('drops records whose stored numbers do not match', () => {
    const result = rankMatches([candidate({ id: 'a', phones: ['06 12 34 56 79'] })], phone);
    expect(result).toEqual([]);
  });

  it('ranks exact before suffix, then by record type priority, then by recent activity', () => {
    const result = rankMatches(
      [
        candidate({ id: 'suffix', phones: ['+44 612345678'] }),
        candidate({ id: 'lead', recordType: 'Lead', phones: ['0612345678'] }),
        candidate({ id: 'old', phones: ['+33 6 12 34 56 78'], lastActivityAt: new Date('2025-01-01') }),
        candidate({ id: 'recent', phones: [null, '06.12.34.56.78'], lastActivityAt: new Date('2026-01-01') }),
      ],
      phone,
      { recordTypePriority: ['Contact', 'Lead'] },
    );
    expect(result.map((m) => m.id)).toEqual(['recent', 'old', 'lead', 'suffix']);
    expect(result[0]).toMatchObject({ quality: 'exact', matchedPhone: '06.12.34.56.78', ambiguous: true });
    expect(result[1]?.ambiguous).toBe(true);
    expect(result[2]?.ambiguous).toBe(false);
    expect(result[3]).toMatchObject({ quality: 'suffix', ambiguous: false });
  });

  it('does not flag a single match as ambiguous and respects the limit', () => {
    const one = rankMatches([candidate({ id: 'x', phones: ['0612345678'] })], phone);
    expect(one[0]?.ambiguous).toBe(false);
    const many = rankMatches(
      Array.from({ length: 20 }, (_, i) => candidate({ id: `c${i}`, phones: ['0612345678'] })),
      phone,
      { limit: 3 },
    );
    expect(many).toHaveLength(3);
  });

  it('prefers a person to a company at equal quality and type', () => {
    const result = rankMatches(
      [
        candidate({ id: 'acme', kind: 'company', phones: ['0612345678'] }),
        candidate({ id: 'jane', phones: ['0612345678'] }),
      ],
      phone,
    );
    expect(result.map((m) => m.id)).toEqual(['jane', 'acme']);
    expect(result[0]?.ambiguous).toBe(false);
  });

  it('can rank record type before match quality', () => {
    const candidates = [
      candidate({ id: 'lead', recordType: 'Lead', phones: ['0612345678'] }),
      candidate({ id: 'contact', recordType: 'Contact', phones: ['+44 612345678'] }),
    ];
    const priority = { recordTypePriority: ['Contact', 'Lead'] };
    expect(rankMatches(candidates, phone, priority).map((m) => m.id)).toEqual(['lead', 'contact']);
    expect(
      rankMatches(candidates, phone, { ...priority, rankFirstBy: 'recordType' }).map((m) => m.id),
    ).toEqual(['contact', 'lead']);
  });
});
