// `@cti-bridge/core/testing` serves programs without vitest (the runner's demo) and CommonJS
// callers: nothing it loads may import a test framework or await at the top level. The suites
// live in `@cti-bridge/core/testing/vitest`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC_ENTRY = fileURLToPath(new URL('./index.ts', import.meta.url));
const VITEST_ENTRY = fileURLToPath(new URL('./vitest/index.ts', import.meta.url));
const DIST_ENTRY = fileURLToPath(new URL('../../dist/testing/index.js', import.meta.url));

/** Bare specifiers a framework-free module must never import: test frameworks and their parts. */
const TEST_FRAMEWORK_IMPORT = /^(?:vitest|@vitest\/|vite$|jest$|@jest\/|mocha$|node:test$)/;

/** What {@link scanModuleGraph} found in the modules an entry file reaches. */
interface ModuleGraphReport {
  /** Every module file reached (absolute paths), the entry first. */
  readonly files: readonly string[];
  /** Imports of a test framework, as `file: specifier` (type-only imports included). */
  readonly frameworkImports: readonly string[];
  /** Top-level `await` / `for await`, as `file:line` (a module with one cannot be `require()`d). */
  readonly topLevelAwaits: readonly string[];
}

/**
 * Follows every relative import, export-from, `import()` and `require()` from `entry` (TypeScript
 * sources or built JavaScript), and reports the test framework imports and top-level awaits of the
 * modules reached. Used by tests that keep `@cti-bridge/core/testing` framework-free.
 */
function scanModuleGraph(entry: string): ModuleGraphReport {
  const files: string[] = [];
  const frameworkImports: string[] = [];
  const topLevelAwaits: string[] = [];
  const pending = [resolve(entry)];
  const seen = new Set<string>();
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    files.push(file);
    const found = scanModuleSource(file, readFileSync(file, 'utf8'));
    for (const specifier of found.specifiers) {
      if (TEST_FRAMEWORK_IMPORT.test(specifier)) frameworkImports.push(`${file}: ${specifier}`);
      if (specifier.startsWith('.')) pending.push(resolveRelative(file, specifier));
    }
    for (const line of found.topLevelAwaitLines) topLevelAwaits.push(`${file}:${line}`);
  }
  return { files, frameworkImports, topLevelAwaits };
}

/** The module specifiers of one module's source, and the lines of its top-level awaits. */
function scanModuleSource(
  fileName: string,
  text: string,
): { specifiers: string[]; topLevelAwaitLines: number[] } {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const specifiers: string[] = [];
  const topLevelAwaitLines: number[] = [];
  const visit = (node: ts.Node, inFunction: boolean): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expr = node.moduleReference.expression;
      if (ts.isStringLiteral(expr)) specifiers.push(expr.text);
    } else if (ts.isCallExpression(node)) {
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      const [first] = node.arguments;
      if ((isImport || isRequire) && first && ts.isStringLiteralLike(first)) specifiers.push(first.text);
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg) && ts.isStringLiteral(arg.literal)) specifiers.push(arg.literal.text);
    }
    const isTopLevelAwait =
      !inFunction &&
      (ts.isAwaitExpression(node) || (ts.isForOfStatement(node) && node.awaitModifier !== undefined));
    if (isTopLevelAwait) {
      topLevelAwaitLines.push(source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1);
    }
    const nested = inFunction || ts.isFunctionLike(node) || ts.isClassStaticBlockDeclaration(node);
    ts.forEachChild(node, (child) => visit(child, nested));
  };
  visit(source, false);
  return { specifiers, topLevelAwaitLines };
}

/** `./x.js` from a `.ts` source is `./x.ts`; a folder is its `index`. */
function resolveRelative(from: string, specifier: string): string {
  const base = resolve(dirname(from), specifier);
  const candidates = [
    base,
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.mjs$/, '.mts'),
    `${base}.ts`,
    `${base}.js`,
    `${base}/index.ts`,
    `${base}/index.js`,
  ];
  const found = candidates.find((candidate) => statSync(candidate, { throwIfNoEntry: false })?.isFile());
  if (!found) throw new Error(`${from}: cannot resolve '${specifier}'`);
  return found;
}

describe('@cti-bridge/core/testing is framework-free', () => {
  it('no module the entry reaches imports a test framework or awaits at the top level', () => {
    const report = scanModuleGraph(SRC_ENTRY);
    expect(report.files.length, 'the scan must follow the imports of the entry').toBeGreaterThan(10);
    expect(
      report.frameworkImports,
      'a test framework import is reachable from @cti-bridge/core/testing: move the module to testing/vitest/',
    ).toEqual([]);
    expect(
      report.topLevelAwaits,
      'a top-level await is reachable from @cti-bridge/core/testing (require() of the entry would fail)',
    ).toEqual([]);
  });

  it('the scan sees what it guards against (the vitest entry imports vitest)', () => {
    expect(scanModuleGraph(VITEST_ENTRY).frameworkImports).toContainEqual(expect.stringMatching(/: vitest$/));
    const probe = scanModuleSource(
      'probe.ts',
      [
        "import type { Mock } from 'vitest';",
        "export { x } from '@vitest/expect';",
        'const lazy = () => import("node:test");',
        'await lazy();',
        'for await (const x of []) {}',
        'export async function fine() { await lazy(); for await (const y of []) {} }',
        'class C { static { const f = async () => { await lazy(); }; } }',
      ].join('\n'),
    );
    expect(probe.specifiers).toEqual(['vitest', '@vitest/expect', 'node:test']);
    expect(probe.topLevelAwaitLines).toEqual([4, 5]);
  });

  // The built entry, as a CommonJS caller loads it (CI builds before it tests; a checkout that
  // was never built has no dist to load).
  it.skipIf(!existsSync(DIST_ENTRY))('the built entry loads through require() and reaches no vitest', () => {
    const report = scanModuleGraph(DIST_ENTRY);
    expect(report.frameworkImports, 'the built entry imports a test framework').toEqual([]);
    expect(report.topLevelAwaits, 'the built entry awaits at the top level').toEqual([]);
    const script = [
      "const { createRequire } = require('node:module');",
      `const entry = createRequire(${JSON.stringify(DIST_ENTRY)})(${JSON.stringify(DIST_ENTRY)});`,
      'process.stdout.write(JSON.stringify(Object.keys(entry).sort()));',
    ].join('\n');
    const env = { ...process.env };
    delete env.VITEST;
    delete env.NODE_OPTIONS;
    const child = spawnSync(process.execPath, ['--no-warnings', '-e', script], { encoding: 'utf8', env });
    expect(child.stderr, 'require() of the built @cti-bridge/core/testing failed').toBe('');
    expect(child.status).toBe(0);
    const names = JSON.parse(child.stdout) as string[];
    expect(names).toEqual(
      expect.arrayContaining(['createScenario', 'startFakeOvhEventsServer', 'startFakeOvhApi']),
    );
    expect(names).not.toContain('describeCrmAdapterConformance');
  });
});
