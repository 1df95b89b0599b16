/**
 * vitest, loaded only when running under vitest. `@cti-bridge/core/testing` also serves programs
 * (the runner's demo uses the fake OVH server and the scenario builder), where vitest is not
 * installed: a static `import 'vitest'` would make the whole entry point fail to load there.
 */
type Vitest = typeof import('vitest');

let loaded: Vitest | undefined;
let failure: unknown;
if (process.env.VITEST) {
  try {
    loaded = await import('vitest');
  } catch (error) {
    failure = error;
  }
}

/** The vitest API, or a clear error when the suites are used outside vitest. */
export function vitestApi(): Vitest {
  if (loaded) return loaded;
  throw new Error(
    'The cti-bridge conformance suites run under vitest: call them at the top level of a test file run by vitest (vitest is an optional peer dependency of @cti-bridge/core).',
    failure === undefined ? undefined : { cause: failure },
  );
}
