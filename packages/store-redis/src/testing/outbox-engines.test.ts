import { describe, expect, it } from 'vitest';
import { outboxEnginesUnderTest } from './index.js';

describe('outboxEnginesUnderTest', () => {
  it('runs both engines unless CTI_TEST_OUTBOXES names some', () => {
    expect(outboxEnginesUnderTest({})).toEqual(['lua', 'bullmq']);
    expect(outboxEnginesUnderTest({ CTI_TEST_OUTBOXES: ' bullmq ' })).toEqual(['bullmq']);
    expect(outboxEnginesUnderTest({ CTI_TEST_OUTBOXES: 'lua,bullmq,lua' })).toEqual(['lua', 'bullmq']);
  });

  it('refuses a name it does not know, rather than testing nothing', () => {
    expect(() => outboxEnginesUnderTest({ CTI_TEST_OUTBOXES: 'lua,bulmq' })).toThrow(
      'CTI_TEST_OUTBOXES: unknown outbox engine bulmq',
    );
  });
});
