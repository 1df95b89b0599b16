import { describe, expect, it } from 'vitest';
import { maskToken, redactSecrets } from './redact.js';

describe('redactSecrets', () => {
  it('replaces every occurrence, longest secret first', () => {
    expect(redactSecrets('key=abcdef123 again abcdef123', ['abcdef123'])).toBe(
      'key=[REDACTED] again [REDACTED]',
    );
    expect(redactSecrets('tok abcdef-ghijkl', ['abcdef', 'abcdef-ghijkl'])).toBe('tok [REDACTED]');
  });

  it('ignores short, empty and missing secrets and takes a custom replacement', () => {
    expect(redactSecrets('the cat sat', ['cat', '', undefined, null])).toBe('the cat sat');
    expect(redactSecrets('pw=hunter22', ['hunter22'], { replacement: '***' })).toBe('pw=***');
    expect(redactSecrets('pw=abc', ['abc'], { minLength: 3 })).toBe('pw=[REDACTED]');
  });
});

describe('maskToken', () => {
  it('keeps the first 8 characters only', () => {
    expect(maskToken('1738D072-aaaa-bbbb')).toBe('1738D072…');
    expect(maskToken('short')).toBe('…');
    expect(maskToken('12345678')).toBe('…');
  });
});
