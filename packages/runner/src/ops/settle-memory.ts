/**
 * One full, memory-reducing garbage collection, asked of V8 once start-up is over.
 *
 * Loading the runner's modules grows V8's young generation from 1 MB to 16 MB and leaves start-up
 * garbage in the old generation. A service that then mostly waits on long polls allocates too
 * little to trigger another collection, so V8 would keep that memory until its memory reducer
 * happens to run, which it may not do for a long time (measured: 70 MB resident after 30 s in some
 * runs, 82–88 MB in others). One collection after start-up makes the idle footprint the same on
 * every start.
 *
 * It goes through an in-process inspector session (`HeapProfiler.collectGarbage`, which V8 runs
 * as a low-memory notification): a public Node API that opens no port and needs no
 * `--expose-gc`. It pauses the process once, for some tens of milliseconds.
 *
 * @returns whether the collection ran (false when this Node has no inspector, or the permission
 * model forbids it; nothing else changes then).
 */
export async function settleMemory(): Promise<boolean> {
  try {
    const { Session } = await import('node:inspector/promises');
    const session = new Session();
    session.connect();
    try {
      await session.post('HeapProfiler.collectGarbage');
    } finally {
      session.disconnect();
    }
    return true;
  } catch {
    return false;
  }
}
