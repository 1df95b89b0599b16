import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

/** Local imports of a module, followed transitively. */
function reachable(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(/from '([^']+)'/g)) {
    const spec = match[1] as string;
    if (!spec.startsWith('.')) {
      seen.add(spec);
      continue;
    }
    reachable(resolve(dirname(file), spec.replace(/\.js$/, '.ts')), seen);
  }
  return seen;
}

describe('@cti-bridge/core/adapter entry', () => {
  it('imports neither the OVH client nor vitest', () => {
    const files = [...reachable(join(here, 'index.ts'))];
    expect(files.filter((f) => f.includes('/ovh/'))).toEqual([]);
    expect(files.filter((f) => f === 'vitest' || f.startsWith('vitest/'))).toEqual([]);
    expect(readdirSync(here)).toContain('index.ts');
  });
});
