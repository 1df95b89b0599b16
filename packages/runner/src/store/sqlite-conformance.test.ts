import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStoreConformance } from '@cti-bridge/core/testing/vitest';
import { afterAll } from 'vitest';
import { createSqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'cti-sqlite-conformance-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeStoreConformance({
  name: 'sqlite (file, WAL)',
  create: async () => createSqliteStore({ path: join(dir, `store-${n++}.db`) }),
});
