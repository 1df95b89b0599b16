/**
 * Shared by the benchmarks that `pnpm bench` (scripts/bench.mjs) runs: each figure is one line of
 * JSON on stdout, `{"bench", "metric", "value", "unit", "target"?, "ok"?}`.
 */

/** Prints one figure; `target` and `ok` when the figure has a target. */
export type BenchReport = (
  metric: string,
  value: number,
  unit: string,
  target?: string,
  ok?: boolean,
) => void;

/** A {@link BenchReport} for the benchmark named `bench`, values rounded to `decimals`. */
export function benchReporter(bench: string, decimals = 3): BenchReport {
  return (metric, value, unit, target, ok) => {
    console.log(
      JSON.stringify({
        bench,
        metric,
        value: Number(value.toFixed(decimals)),
        unit,
        ...(target ? { target } : {}),
        ...(ok === undefined ? {} : { ok }),
      }),
    );
  };
}

/** Runs the garbage collector a few times when Node was started with `--expose-gc` (bench.mjs does). */
export function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; gc && i < 3; i++) gc();
}
