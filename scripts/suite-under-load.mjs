// `pnpm test:load`: the whole test suite, run again and again on a machine kept busy, to show that
// no test races the wall clock. Starts `--busy` processes that spin on the CPU (default: one per
// core), runs `vitest run` up to `--runs` times in a row (default 20), and stops at the first red
// run. Prints one line per run and a closing "N of M runs passed". Bounded: each run gets
// `--run-timeout` minutes (default 30), and the busy processes are killed on every exit path.
// Usage: node scripts/suite-under-load.mjs [--runs 20] [--busy 2] [--run-timeout 30] [-- <vitest args>]
import { fork, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { parseArgs, stripVTControlCharacters } from 'node:util';

if (process.argv[2] === '--busy-loop') {
  // A busy process: spin until the parent goes away.
  process.on('disconnect', () => process.exit(0));
  const spin = () => {
    const until = Date.now() + 50;
    while (Date.now() < until) {
      // busy on purpose
    }
    setImmediate(spin);
  };
  spin();
} else {
  const dashes = process.argv.indexOf('--');
  const own = dashes === -1 ? process.argv.slice(2) : process.argv.slice(2, dashes);
  const vitestArgs = dashes === -1 ? [] : process.argv.slice(dashes + 1);
  const { values } = parseArgs({
    args: own,
    options: {
      runs: { type: 'string', default: '20' },
      busy: { type: 'string', default: String(availableParallelism()) },
      'run-timeout': { type: 'string', default: '30' },
    },
  });
  const runs = Number(values.runs);
  const busy = Number(values.busy);
  const runTimeoutMs = Number(values['run-timeout']) * 60_000;
  if (!(runs >= 1 && busy >= 0 && runTimeoutMs > 0)) {
    console.error('suite-under-load: --runs ≥ 1, --busy ≥ 0 and --run-timeout > 0 (minutes), please');
    process.exit(2);
  }

  const spinners = Array.from({ length: busy }, () =>
    fork(new URL(import.meta.url), ['--busy-loop'], { stdio: 'ignore' }),
  );
  /** The `vitest run` going on, stopped with the spinners when this script ends early. */
  let suite;
  const stopChildren = () => {
    for (const child of spinners) child.kill('SIGKILL');
    suite?.kill('SIGTERM');
  };
  process.on('exit', stopChildren);
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

  /** One `vitest run`: resolves with its exit code (or the signal that ended it) and duration. */
  const runSuite = () =>
    new Promise((resolve) => {
      const started = Date.now();
      const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...vitestArgs], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: process.env,
      });
      suite = child;
      let tail = '';
      const keep = (chunk) => {
        tail = (tail + chunk.toString()).slice(-20_000);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      const timer = setTimeout(() => child.kill('SIGKILL'), runTimeoutMs);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        suite = undefined;
        resolve({ code: code ?? signal, seconds: Math.round((Date.now() - started) / 1000), tail });
      });
    });

  console.log(`suite-under-load: ${runs} runs, ${busy} busy processes on ${availableParallelism()} cores`);
  let passed = 0;
  for (let i = 1; i <= runs; i++) {
    const { code, seconds, tail } = await runSuite();
    const summary = stripVTControlCharacters(tail).match(/Tests\s+.*$/m)?.[0] ?? '';
    console.log(`run ${i}: ${code === 0 ? 'passed' : `FAILED (exit ${code})`} in ${seconds} s ${summary}`);
    if (code !== 0) {
      console.log(tail.slice(-6_000));
      break;
    }
    passed++;
  }
  console.log(`${passed} of ${runs} runs passed`);
  process.exit(passed === runs ? 0 : 1);
}
