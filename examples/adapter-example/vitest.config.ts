import { defineConfig } from 'vitest/config';

// `npx vitest run` in this folder, in the cti-bridge repository or copied out of it. In the
// repository, `source` resolves @cti-bridge/core to its TypeScript sources (no build needed);
// the published core has no such condition and its built files are used.
const conditions = ['source', 'node', 'import', 'module', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['node'] } },
  test: { include: ['src/**/*.test.ts'], environment: 'node', testTimeout: 20_000, hookTimeout: 20_000 },
});
