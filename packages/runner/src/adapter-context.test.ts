import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kvAdapterState, silentLogger } from '@cti-bridge/core';
import { afterEach, describe, expect, it } from 'vitest';
import { adapterContext } from './adapter-context.js';
import { createSqliteStore } from './store/sqlite-store.js';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('adapterContext (check and other one-off calls)', () => {
  it('shares the state the pipeline gives the same adapter: reads what run saved, saves where run reads', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cti-context-'));
    const store = createSqliteStore({ path: join(dir, 'state.db') });
    try {
      const pipelineState = kvAdapterState(store.kv, 'salesforce', Date.now);
      await pipelineState.set('session', 'rotated-by-run');
      const context = adapterContext(store, 'salesforce', silentLogger);
      expect(await context.state.get('session')).toBe('rotated-by-run');
      await context.state.set('session', 'rotated-by-check');
      expect(await pipelineState.get('session')).toBe('rotated-by-check');
      expect(await adapterContext(store, 'hubspot', silentLogger).state.get('session')).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
