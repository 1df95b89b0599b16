// `pnpm bench`: runs every benchmark file (packages/*/bench/*.bench.ts, examples too) in its own
// Node process, so memory figures are not polluted by another benchmark, and prints a summary.
// A benchmark prints lines of JSON: {"bench", "metric", "value", "unit", "target"?, "ok"?}.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const only = process.argv[2];
const files = ['packages', 'examples']
  .flatMap((group) =>
    existsSync(group)
      ? readdirSync(group).flatMap((pkg) => {
          const dir = join(group, pkg, 'bench');
          return existsSync(dir)
            ? readdirSync(dir)
                .filter((f) => f.endsWith('.bench.ts'))
                .map((f) => join(dir, f))
            : [];
        })
      : [],
  )
  .filter((file) => !only || file.includes(only));

const rows = [];
let failures = 0;
for (const file of files) {
  console.log(`\n▶ ${file}`);
  const run = spawnSync(process.execPath, ['--expose-gc', '--conditions=source', '--import', 'tsx', file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 10 * 60_000,
  });
  for (const line of (run.stdout ?? '').split('\n')) {
    if (!line.trim()) continue;
    try {
      const row = JSON.parse(line);
      if (row && typeof row === 'object' && 'metric' in row) {
        rows.push(row);
        continue;
      }
    } catch {}
    console.log(`  ${line}`);
  }
  if (run.status !== 0) {
    failures++;
    console.log(`  ✗ exited with ${run.status ?? run.signal}`);
  }
}

const fmt = (v) =>
  typeof v === 'number'
    ? Math.abs(v) >= 100
      ? Math.round(v).toLocaleString('en')
      : v.toFixed(3)
    : String(v);
console.log(
  '\nbenchmark                         metric                                              value          target',
);
for (const r of rows) {
  const mark = r.ok === undefined ? ' ' : r.ok ? '✓' : '✗';
  console.log(
    `${mark} ${String(r.bench).padEnd(32)} ${String(r.metric).padEnd(50)} ${`${fmt(r.value)} ${r.unit ?? ''}`.padEnd(14)} ${r.target ?? ''}`,
  );
}
const withTarget = rows.filter((r) => r.ok !== undefined);
const missed = withTarget.filter((r) => r.ok === false);
console.log(
  `\n${withTarget.length - missed.length} targets met, ${missed.length} missed${failures ? `, ${failures} benchmark(s) failed to run` : ''}`,
);
// A missed target fails the run as a crashed benchmark does, so that it cannot go unnoticed.
process.exit(failures || missed.length ? 1 : 0);
