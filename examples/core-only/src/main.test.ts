import { describe, expect, it } from 'vitest';
import { runDemo } from './main.js';

describe('core-only example', () => {
  it('prints every call and queue session of the scripted morning, hunting as one call', async () => {
    const lines: string[] = [];
    await runDemo((line) => lines.push(line));
    const calls = lines.filter((l) => l.startsWith('call '));
    const queues = lines.filter((l) => l.startsWith('queue '));
    expect(calls).toHaveLength(5);
    expect(calls[0]).toMatch(
      /inbound answered from \+33 6 12 34 56 78 on Poste 0972101010: rang 8 s, talked 215 s \(hold 30 s\)$/,
    );
    expect(calls[1]).toMatch(/inbound missed from \+33 6 98 76 54 32 .*rang 22 s, talked 0 s$/);
    expect(calls[2]).toMatch(/outbound answered to \+33 1 44 55 66 77 .*rang 0 s, talked 246 s$/);
    expect(calls[3]).toMatch(
      /inbound answered from \+33 6 11 22 33 44 on Poste 0972101011: rang 5 s, talked 95 s$/,
    );
    expect(calls[4]).toMatch(/via queue 0033972101020 after 42 s$/);
    expect(queues).toEqual([
      expect.stringMatching(
        /answered \+33 6 55 44 33 22 \(Chloé Durand\): waited 42 s, talked 300 s, offered to 2 agent\(s\), answered by agent_0033972101010_id$/,
      ),
      expect.stringMatching(
        /abandoned \+33 7 12 12 12 12: waited 75 s, talked 0 s, offered to 1 agent\(s\)$/,
      ),
    ]);
  });
});
