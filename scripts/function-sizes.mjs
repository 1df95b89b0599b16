#!/usr/bin/env node
/**
 * Lists the functions, arrow functions and methods longer than a limit (default 80 lines) in
 * packages/*\/src, leaving out tests (*.test.ts) and fakes (testing/fake* files and folders).
 *
 * Usage: node scripts/function-sizes.mjs [--max=80] [--all]
 *   --max=N  report functions with more than N lines (default 80)
 *   --all    list every function with its size, not only the long ones
 * Exit code is always 0: this is a measuring tool, not a gate.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const maxArg = args.find((a) => a.startsWith('--max='));
const max = maxArg ? Number(maxArg.slice('--max='.length)) : 80;
const all = args.includes('--all');

/** True for files the measure leaves out: tests and fakes. */
function exempt(path) {
  const parts = path.split(sep);
  const name = parts[parts.length - 1];
  if (name.endsWith('.test.ts') || name.endsWith('.d.ts')) return true;
  // testing/fake*: a fake file, or every file under a fake* folder of testing/
  const testing = parts.indexOf('testing');
  return testing >= 0 && parts.slice(testing + 1).some((part) => part.startsWith('fake'));
}

function* sourceFiles(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      if (entry === 'node_modules' || entry === '__fixtures__') continue;
      yield* sourceFiles(path);
    } else if (entry.endsWith('.ts') && !exempt(path)) {
      yield path;
    }
  }
}

function nameOf(node, sourceFile) {
  if (node.name) return node.name.getText(sourceFile);
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText(sourceFile);
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText(sourceFile);
  if (parent && ts.isPropertyDeclaration(parent)) return parent.name.getText(sourceFile);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  return '<anonymous>';
}

const isFunction = (node) =>
  ts.isFunctionDeclaration(node) ||
  ts.isFunctionExpression(node) ||
  ts.isArrowFunction(node) ||
  ts.isMethodDeclaration(node) ||
  ts.isConstructorDeclaration(node) ||
  ts.isGetAccessorDeclaration(node) ||
  ts.isSetAccessorDeclaration(node);

const found = [];
const packagesDir = join(root, 'packages');
for (const pkg of readdirSync(packagesDir)) {
  const src = join(packagesDir, pkg, 'src');
  try {
    if (!statSync(src).isDirectory()) continue;
  } catch {
    continue;
  }
  for (const file of sourceFiles(src)) {
    const text = readFileSync(file, 'utf8');
    const sourceFile = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node) => {
      if (isFunction(node) && node.body) {
        const start = sourceFile.getLineAndCharacterOfPosition(node.getStart(sourceFile)).line;
        const end = sourceFile.getLineAndCharacterOfPosition(node.getEnd()).line;
        found.push({
          file: relative(root, file),
          line: start + 1,
          lines: end - start + 1,
          name: nameOf(node, sourceFile),
        });
      }
      ts.forEachChild(node, visit);
    };
    visit(sourceFile);
  }
}

const listed = found.filter((f) => all || f.lines > max).sort((a, b) => b.lines - a.lines);
for (const f of listed) console.log(`${String(f.lines).padStart(5)}  ${f.file}:${f.line}  ${f.name}`);
console.log(`${listed.length} function(s)${all ? '' : ` over ${max} lines`}`);
