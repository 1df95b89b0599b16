// Prints the plain closing line CI reads ("N passed, N failed") from vitest's JSON reports, and
// exits non-zero when tests failed, a test file could not run, or no test ran at all.
// Usage: node scripts/test-summary.mjs <report> <vitest exit status> [<report> <status> …]
// (one pair per run, e.g. one per Node version); the closing line sums every run.
import { existsSync, readFileSync } from 'node:fs';
import { stripVTControlCharacters } from 'node:util';

const args = process.argv.slice(2);
const MESSAGE_LINES = 24;
const runs = [];
for (let i = 0; i < Math.max(args.length, 1); i += 2)
  runs.push({ path: args[i], status: Number(args[i + 1] ?? 1) });

let passed = 0;
let failed = 0;
let skipped = 0;
let exitCode = 0;
for (const { path, status } of runs) {
  const label = runs.length > 1 ? `${path}: ` : '';
  if (!path || !existsSync(path)) {
    console.log(`${label}vitest wrote no report (exit ${status})`);
    failed += 1;
    exitCode = 1;
    continue;
  }
  const report = JSON.parse(readFileSync(path, 'utf8'));
  const runPassed = report.numPassedTests ?? 0;
  const runSkipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A file that fails to load has no failed assertion but must still count as a failure.
  const brokenFiles = (report.testResults ?? []).filter(
    (file) => file.status === 'failed' && (file.assertionResults ?? []).every((a) => a.status !== 'failed'),
  );
  for (const file of brokenFiles)
    console.log(`${label}could not run ${file.name}: ${String(file.message ?? '').split('\n')[0]}`);
  // Each failed test, with the first lines of its message: what CI shows of a red run is its end.
  for (const file of report.testResults ?? [])
    for (const test of file.assertionResults ?? []) {
      if (test.status !== 'failed') continue;
      console.log(`${label}FAILED ${test.fullName ?? test.title} (${file.name})`);
      const message = stripVTControlCharacters(String(test.failureMessages?.[0] ?? ''));
      for (const line of message.split('\n').slice(0, MESSAGE_LINES)) console.log(`    ${line}`);
    }
  const runFailed = (report.numFailedTests ?? 0) + brokenFiles.length;
  if (runs.length > 1)
    console.log(
      `${label}${runPassed} passed, ${runFailed} failed${runSkipped ? `, ${runSkipped} skipped` : ''}`,
    );
  passed += runPassed;
  failed += runFailed;
  skipped += runSkipped;
  if (status !== 0 || runFailed > 0 || runPassed === 0) exitCode = 1;
}
if (skipped) console.log(`${skipped} skipped`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(exitCode);
