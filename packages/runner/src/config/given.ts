/** Settings as a config gives them: each one may be absent or `undefined` (not set). */
export type MaybeSettings<T> = { readonly [K in keyof T]?: T[K] | undefined };

/**
 * The settings actually given: `obj` without its keys whose value is `undefined`. A TypeScript
 * config may write `maxAttempts: undefined` (the schema accepts it as "not set"); spread over
 * defaults as is, that `undefined` would replace the default instead of leaving it.
 */
export function givenSettings<T extends object>(obj: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(obj).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
