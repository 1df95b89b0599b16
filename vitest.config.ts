import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * One vitest project per workspace package. Workspace imports resolve to TypeScript sources
 * through the `source` export condition, so tests never need a prior build.
 */
const projectDirs = ['packages', 'examples'].flatMap((group) =>
  existsSync(group)
    ? readdirSync(group, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && existsSync(`${group}/${entry.name}/package.json`))
        .map((entry) => `${group}/${entry.name}`)
    : [],
);

const conditions = ['source', 'node', 'import', 'module', 'default'];

/** CI asks for a JSON report next to the console output (see .ci/run). */
const jsonReport = process.env.CTI_TEST_REPORT;

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['node'] } },
  test: {
    // Most tests wait on sockets, child processes and timers rather than on the CPU: one worker per
    // core (vitest's default is one fewer: a single worker on 2 cores) more than halves the suite's
    // time there; one more than the cores made timing-sensitive process tests flaky under load.
    maxWorkers: Math.max(2, availableParallelism()),
    reporters: jsonReport ? ['default', 'json'] : ['default'],
    ...(jsonReport ? { outputFile: { json: jsonReport } } : {}),
    projects: projectDirs.map((dir) => ({
      extends: true,
      test: {
        name: dir.split('/')[1],
        root: dir,
        include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
        environment: 'node',
        testTimeout: 20_000,
        hookTimeout: 20_000,
      },
    })),
  },
});
