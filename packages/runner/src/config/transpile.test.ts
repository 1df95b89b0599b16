import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importConfigFile } from './load.js';
import { configTranspiler, createConfigTranspiler } from './transpile.js';

/** Node strips types itself: jiti imports TypeScript natively, nothing is transpiled. */
const nodeStripsTypes = Boolean((process.features as { typescript?: unknown }).typescript);

const options = (filename: string, source: string) => ({
  babel: {},
  interopDefault: true,
  filename,
  source,
  ts: true,
  async: true,
  jsx: false,
});

/** True when jiti's Babel bundle was loaded into this process. */
const babelLoadedHere = () =>
  Object.keys(createRequire(import.meta.url).cache).some((path) => path.endsWith('babel.cjs'));

describe('config transpiler', () => {
  let dir: string;
  let previousTmp: string | undefined;
  beforeAll(() => {
    // A private temporary directory: the transpile cache starts empty.
    dir = mkdtempSync(join(tmpdir(), 'cti-transpile-'));
    previousTmp = process.env.TMPDIR;
    process.env.TMPDIR = dir;
  });
  afterAll(() => {
    if (previousTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmp;
    rmSync(dir, { recursive: true, force: true });
  });

  it('transpiles in a child process (prefetched), caches on disk, and never loads Babel here', async () => {
    const transpiler = createConfigTranspiler();
    if (transpiler === undefined) throw new Error("jiti's Babel transform not found");
    const source =
      'interface Port { port: number }\nconst http: Port = { port: 9464 };\nexport default http;';
    const input = options(join(dir, 'a.ts'), source);

    await transpiler.prefetch(input);
    const { code, error } = transpiler.transform(input);
    expect(error).toBeUndefined();
    expect(code).not.toMatch(/interface|: Port/);
    expect(code).toMatch(/9464/);
    expect(transpiler.stats).toMatchObject({ prefetched: 1, spawnedSync: 0, inProcess: 0 });

    // A restart: served from the cache, no child.
    const restarted = createConfigTranspiler();
    await restarted?.prefetch(input);
    expect(restarted?.transform(input).code).toBe(code);
    expect(restarted?.stats).toMatchObject({ cached: 1, prefetched: 0, spawnedSync: 0, inProcess: 0 });
    expect(babelLoadedHere()).toBe(false);
  });

  it('reports a syntax error as jiti expects (code that throws), and does not cache it', () => {
    const transpiler = createConfigTranspiler();
    const result = transpiler?.transform(options(join(dir, 'broken.ts'), 'export default {;'));
    expect(result?.error).toBeDefined();
    expect(result?.code).toMatch(/__JITI_ERROR__/);
    expect(transpiler?.transform(options(join(dir, 'broken.ts'), 'export default {;')).error).toBeDefined();
    expect(transpiler?.stats.cached).toBe(0);
  });

  it('spawns one synchronous child at most, then transpiles here (a config over several files)', () => {
    const transpiler = createConfigTranspiler();
    const first = transpiler?.transform(options(join(dir, 'one.ts'), 'export const one: number = 1;'));
    const second = transpiler?.transform(options(join(dir, 'two.ts'), 'export const two: number = 2;'));
    expect(first?.code).toMatch(/one = 1/);
    expect(second?.code).toMatch(/two = 2/);
    expect(transpiler?.stats).toMatchObject({ spawnedSync: 1, inProcess: 1 });
  });

  it.skipIf(nodeStripsTypes)(
    'loading a TypeScript config uses the prefetched result (jiti passes the options predicted)',
    async () => {
      const file = join(dir, 'cti.config.ts');
      writeFileSync(
        file,
        'const port: number = 9464;\nexport default { http: { port } as { port: number } };',
      );
      const transpiler = configTranspiler();
      const before = { ...transpiler?.stats };
      expect(await importConfigFile(file)).toEqual({ http: { port: 9464 } });
      expect(transpiler?.stats.prefetched).toBe((before.prefetched ?? 0) + 1);
      expect(transpiler?.stats.spawnedSync).toBe(before.spawnedSync);
      expect(transpiler?.stats.inProcess).toBe(before.inProcess);
      expect(
        readdirSync(join(dir, `cti-runner-${process.getuid?.() ?? 'user'}`, 'transpiled')).length,
      ).toBeGreaterThan(0);
    },
  );
});
