import { getHeapSpaceStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { settleMemory } from './settle-memory.js';

const youngGeneration = () =>
  getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.physical_space_size ?? 0;

describe('settleMemory', () => {
  it('runs a memory-reducing collection: the young generation is handed back', async () => {
    // Grow the young generation the way module loading does: many objects that survive a while.
    let keep: object[] = [];
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 50_000; i++) keep.push({ i, text: `entry ${i}` });
      await new Promise((resolve) => setImmediate(resolve));
    }
    const grown = youngGeneration();
    keep = [];
    expect(keep).toHaveLength(0);

    expect(await settleMemory()).toBe(true);

    const settled = youngGeneration();
    expect(grown).toBeGreaterThan(2 * 1_048_576);
    expect(settled).toBeLessThan(grown / 2);
  });
});
