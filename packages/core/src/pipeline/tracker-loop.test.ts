import { describe, expect, it } from 'vitest';
import type { CallEvent } from '../calls/types.js';
import { createMemoryStore } from '../store/memory-store.js';
import { TrackerLoop } from './tracker-loop.js';

describe('TrackerLoop.handle', () => {
  it('handles one batch after another: a snapshot waits for every batch in flight, not the last only', async () => {
    const log: string[] = [];
    let releaseFirst: () => void = () => {};
    const firstHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    const store = createMemoryStore();
    const loop = new TrackerLoop({
      stream: (async function* () {})(),
      snapshots: store.snapshots,
      snapshotKey: 'tracker',
      snapshotDelayMs: 0,
      trackerOptions: {},
      handle: async (events) => {
        const name = (events[0] as unknown as { name: string }).name;
        log.push(`${name} start`);
        if (name === 'settled call') await firstHeld; // its outbox write is slow
        log.push(`${name} end`);
      },
      onEvent: () => {},
      report: (error) => {
        throw error;
      },
    });
    const batch = (name: string) => [{ name } as unknown as CallEvent];
    const first = loop.handle(batch('settled call'), 0); // from the settle timer
    const second = loop.handle(batch('next event'), 0); // from the stream, meanwhile
    const snapshot = loop.saveSnapshot().then(() => log.push('snapshot saved'));
    await Promise.resolve();
    releaseFirst();
    await Promise.all([first, second, snapshot]);
    expect(log).toEqual([
      'settled call start',
      'settled call end',
      'next event start',
      'next event end',
      'snapshot saved',
    ]);
  });
});
