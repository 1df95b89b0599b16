import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Every source module the package's entry point reaches through its relative imports and exports. */
function publicModules(): Map<string, string> {
  const root = dirname(fileURLToPath(import.meta.url));
  const modules = new Map<string, string>();
  const todo = [join(root, 'index.ts')];
  while (todo.length > 0) {
    const file = todo.pop() as string;
    if (modules.has(file)) continue;
    const text = readFileSync(file, 'utf8');
    modules.set(file, text);
    for (const [, spec] of text.matchAll(/from '(\.[^']+)'/g)) {
      todo.push(normalize(join(dirname(file), (spec as string).replace(/\.js$/, '.ts'))));
    }
  }
  return modules;
}

describe("the runner's public types", () => {
  it('do not mention tsyringe: the container stays an implementation detail', () => {
    const modules = publicModules();
    expect(modules.size).toBeGreaterThan(3);
    const offenders = [...modules]
      .filter(([, text]) => /tsyringe|DependencyContainer/.test(text))
      .map(([file]) => file);
    expect(offenders).toEqual([]);
  });
});
