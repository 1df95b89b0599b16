import { describe, expect, it } from 'vitest';
import { formatCallSummary, formatDuration } from './duration.js';

describe('formatDuration', () => {
  it('drops zero parts', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(60)).toBe('1 min');
    expect(formatDuration(192)).toBe('3 min 12 s');
    expect(formatDuration(3600)).toBe('1 h');
    expect(formatDuration(3725)).toBe('1 h 2 min 5 s');
    expect(formatDuration(-3)).toBe('0 s');
    expect(formatDuration(Number.NaN)).toBe('0 s');
    expect(formatDuration(59.6)).toBe('1 min');
  });
});

describe('formatCallSummary', () => {
  it('names direction, number, outcome and talk time', () => {
    expect(
      formatCallSummary({
        direction: 'inbound',
        outcome: 'answered',
        number: '+33123456789',
        talkSeconds: 192,
      }),
    ).toBe('Inbound call from +33123456789, answered (3 min 12 s)');
    expect(
      formatCallSummary({ direction: 'outbound', outcome: 'missed', number: '+331', talkSeconds: 0 }),
    ).toBe('Outbound call to +331, missed');
    expect(formatCallSummary({ direction: 'inbound', outcome: 'voicemail', talkSeconds: 0 })).toBe(
      'Inbound call, voicemail',
    );
  });
});
