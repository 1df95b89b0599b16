import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import type { NewOutboxEntry } from '../store/types.js';
import { createOutboxWriter } from './outbox-writer.js';

const entry = (id: string): NewOutboxEntry => ({
  id,
  adapter: 'crm',
  kind: 'log-call',
  payload: '{}',
  createdAt: 0,
});

function setup(maxUnwritten = 10) {
  const written: string[] = [];
  const notified: string[] = [];
  const reports: string[] = [];
  let refuse = false;
  const writer = createOutboxWriter({
    outbox: {
      enqueue: async (e: NewOutboxEntry) => {
        if (refuse) throw new Error('disk full');
        written.push(e.id);
      },
    } as never,
    logger: silentLogger,
    clock: () => 0,
    maxUnwritten,
    onWritten: (e) => notified.push(e.id),
    report: (_error, context) => reports.push(context),
  });
  return { writer, written, notified, reports, refuse: (on: boolean) => (refuse = on) };
}

describe('outbox writer', () => {
  it('writes an entry to the store, then tells its worker', async () => {
    const { writer, written, notified } = setup();
    await writer.enqueue(entry('a'));
    expect(written).toEqual(['a']);
    expect(notified).toEqual(['a']);
  });

  it('keeps refused entries in memory, in order, and writes them first once the store accepts', async () => {
    const { writer, written, reports, refuse } = setup();
    refuse(true);
    await writer.enqueue(entry('a'));
    await writer.enqueue(entry('b'));
    expect(writer.unwritten().map((e) => e.id)).toEqual(['a', 'b']);
    expect(reports).toHaveLength(1);
    refuse(false);
    await writer.enqueue(entry('c'));
    expect(written).toEqual(['a', 'b', 'c']);
    expect(writer.unwritten()).toEqual([]);
  });

  it('gives up the oldest past its bound', async () => {
    const { writer, refuse } = setup(2);
    refuse(true);
    for (const id of ['a', 'b', 'c']) await writer.enqueue(entry(id));
    expect(writer.unwritten().map((e) => e.id)).toEqual(['b', 'c']);
    expect(writer.dropped()).toBe(1);
    await expect(writer.writeUnwritten()).rejects.toThrow('disk full');
  });
});
