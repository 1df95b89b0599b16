import { DEFAULT_COUNTRY } from '../config/defaults.js';
import { DEFAULT_POLICIES } from '../config/schemas.js';
import { agentNumberOf } from '../ovh/normalize.js';
import { parsePhone } from '../phone/index.js';
import type { Policies, Route, RouteAdapter } from './types.js';

/** The default {@link Policies} (defined with their schema in `config/schemas.ts`). */
export { DEFAULT_POLICIES };

/** Which adapters a token's calls go to, with which policies, owners and line labels. */
export interface Routing {
  /** Every adapter of every route, by name: one name, one adapter instance (one delivery worker). */
  readonly targets: ReadonlyMap<string, RouteAdapter>;
  /** The route of a token: its own, else the `*` route, else none (its calls are not routed). */
  routeOf(token: string): Route | undefined;
  /** The policies of a route's adapter: defaults < connector's < route's < adapter's own. */
  policiesOf(route: Route | undefined, target?: RouteAdapter): Policies;
  /** The unknown-caller policy of an adapter for one token (the adapter as configured in its route). */
  unknownCallerPolicy(token: string, target: RouteAdapter): Policies['unknownCaller'];
  /** The CRM owner (user id) of the first key the adapter's owner map knows (raw or E.164). */
  ownerOf(target: RouteAdapter, route: Route, keys: readonly (string | undefined)[]): string | undefined;
  /** The keys an owner map may know a queue agent by: as given, its number, its E.164 form. */
  agentKeys(agent: string | undefined, route: Route): Array<string | undefined>;
  /** The route's line labels, also under the E.164 form of each line. */
  lineLabelsOf(route: Route): Record<string, string>;
}

/**
 * Every adapter name of the routes with its adapter. Throws when one name is used for two
 * different adapters (each name is one delivery worker and one outbox).
 */
export function collectTargets(routes: Readonly<Record<string, Route>>): Map<string, RouteAdapter> {
  const targets = new Map<string, RouteAdapter>();
  for (const [token, route] of Object.entries(routes)) {
    for (const target of route.adapters) {
      const known = targets.get(target.name);
      if (known && known.adapter !== target.adapter) {
        throw new Error(
          `invalid connector routes: adapter name "${target.name}" (token ${token}) is used for two different adapters; give each its own name`,
        );
      }
      if (!known) targets.set(target.name, target);
    }
  }
  return targets;
}

/** The E.164 form of a configured number (a line, an agent), in the route's default country. */
function e164Of(key: string, route: Route): string | undefined {
  return parsePhone(key, { defaultCountry: route.defaultCountry ?? DEFAULT_COUNTRY }).e164;
}

/** Builds the {@link Routing} of validated routes; throws like {@link collectTargets}. */
export function createRouting(
  routes: Readonly<Record<string, Route>>,
  connectorPolicies?: Partial<Policies>,
): Routing {
  const targets = collectTargets(routes);
  const routeOf = (token: string): Route | undefined => routes[token] ?? routes['*'];
  const policiesOf = (route: Route | undefined, target?: RouteAdapter): Policies => ({
    ...DEFAULT_POLICIES,
    ...connectorPolicies,
    ...route?.policies,
    ...target?.policies,
  });
  const ownerMaps = new Map<string, Map<string, string>>();
  const ownerMapOf = (target: RouteAdapter, route: Route, entries: Readonly<Record<string, string>>) => {
    let map = ownerMaps.get(target.name);
    if (!map) {
      map = new Map();
      for (const [key, value] of Object.entries(entries)) {
        map.set(key, value);
        const e164 = e164Of(key, route);
        if (e164) map.set(e164, value);
      }
      ownerMaps.set(target.name, map);
    }
    return map;
  };
  const labelMaps = new Map<Route, Record<string, string>>();
  return {
    targets,
    routeOf,
    policiesOf,
    unknownCallerPolicy(token, target) {
      const route = routeOf(token);
      const own = route?.adapters.find((a) => a.name === target.name);
      return policiesOf(route, own ?? target).unknownCaller;
    },
    ownerOf(target, route, keys) {
      if (!target.ownerMap) return undefined;
      const map = ownerMapOf(target, route, target.ownerMap);
      for (const key of keys) {
        if (key === undefined) continue;
        const owner = map.get(key);
        if (owner !== undefined) return owner;
      }
      return undefined;
    },
    agentKeys(agent, route) {
      if (agent === undefined) return [];
      const number = agentNumberOf(agent);
      return [agent, number, number ? e164Of(number, route) : undefined];
    },
    lineLabelsOf(route) {
      let labels = labelMaps.get(route);
      if (!labels) {
        labels = {};
        for (const [key, value] of Object.entries(route.lineLabels ?? {})) {
          labels[key] = value;
          const e164 = e164Of(key, route);
          if (e164) labels[e164] = value;
        }
        labelMaps.set(route, labels);
      }
      return labels;
    },
  };
}
