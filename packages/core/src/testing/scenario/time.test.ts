import { describe, expect, it } from 'vitest';
import { prng } from './random.js';
import { epoch, parisWall, timeFields } from './time.js';

const monday10 = Date.UTC(2026, 0, 5, 9);

describe('scenario time fields', () => {
  it('parisWall gives the Paris wall time, CET in winter and CEST in summer', () => {
    expect(parisWall(monday10)).toEqual({ day: '2026-01-05', time: '10:00:00', label: 'CET' });
    expect(parisWall(Date.UTC(2026, 6, 1, 8))).toEqual({
      day: '2026-07-01',
      time: '10:00:00',
      label: 'CEST',
    });
  });

  it('timeFields: ns Timestamp after the event, TsGet before it, Ts string on even seq and number on odd', () => {
    const even = timeFields(prng(1), 0, monday10);
    expect(even).toEqual({
      Timestamp: 1767603600170002735n,
      TsGet: 1767603600151816560n,
      Date: '2026-01-05T10:00:00.000981 (CET)',
      Datetime: '2026-01-05 10:00:00',
      Ts: '1767603600.000',
    });
    const odd = timeFields(prng(1), 1, monday10, 1767603601000000000n);
    expect(odd.Timestamp).toBe(1767603601000000000n);
    expect(odd.Ts).toBe(1767603600);
  });

  it('epoch writes whole seconds', () => {
    expect(epoch(monday10 + 999)).toBe('1767603600');
  });
});
