import 'reflect-metadata';
import http from 'node:http';
import https from 'node:https';
import {
  type CrmAdapter,
  type DeliveryOptions,
  kvAdapterState,
  type Logger,
  type Policies,
  type Store,
} from '@cti-bridge/core';
import { type DependencyContainer, instanceCachingFactory, container as rootContainer } from 'tsyringe';
import type { AdapterFactoryContext, HttpAgents } from './adapter-factory-context.js';
import { givenSettings, type MaybeSettings } from './config/given.js';
import type { CtiConfig, TokenRoute } from './config/schema.js';
import { adapterToken, TOKENS } from './di-tokens.js';
import type { RunnerMetrics } from './ops/metrics.js';
import { maskToken } from './ops/secrets.js';

/** One adapter of a token's route, as core's connector takes it. */
export interface RouteAdapter {
  readonly name: string;
  readonly adapter: CrmAdapter;
  /** Asked for the screen pop (in route order). */
  readonly lookup: boolean;
  /** OVH line / queue agent -> CRM user id. */
  readonly ownerMap?: Record<string, string>;
  /** Delivery overrides for this adapter. */
  readonly delivery?: Partial<DeliveryOptions>;
  /** Policy overrides for this adapter. */
  readonly policies?: Partial<Policies>;
}

/** A token's route, as core's connector takes it. */
export interface Route {
  readonly adapters: RouteAdapter[];
  readonly defaultCountry?: string;
  readonly lineLabels?: Record<string, string>;
}

/** What the base container (everything but the adapters and tokens) is built from. */
export interface BaseContainerInput {
  readonly config: CtiConfig;
  readonly logger: Logger;
  readonly store: Store;
  readonly clock: () => number;
  /** The runner's metrics (not registered when absent: one-off commands have none). */
  readonly metrics?: RunnerMetrics;
  /** The runner's HTTP(S) agents (default: Node's global agents at the time of the call). */
  readonly httpAgents?: HttpAgents;
}

/** What the root container is built from. */
export interface ContainerInput extends BaseContainerInput {
  readonly metrics: RunnerMetrics;
  readonly adapters: ReadonlyMap<string, CrmAdapter>;
  /** Add to this base container (from {@link buildBaseContainer}) instead of a new one. */
  readonly base?: DependencyContainer;
}

/**
 * The runner's container before adapters exist: value registrations for the config, logger,
 * store, clock, metrics and HTTP agents — what adapter factories are given their context from.
 */
export function buildBaseContainer(input: BaseContainerInput): DependencyContainer {
  const container = rootContainer.createChildContainer();
  container.register(TOKENS.Config, { useValue: input.config });
  container.register(TOKENS.Logger, { useValue: input.logger });
  container.register(TOKENS.Store, { useValue: input.store });
  container.register(TOKENS.Clock, { useValue: input.clock });
  if (input.metrics !== undefined) container.register(TOKENS.Metrics, { useValue: input.metrics });
  container.register(TOKENS.HttpAgents, {
    useValue: input.httpAgents ?? { http: http.globalAgent, https: https.globalAgent },
  });
  return container;
}

/**
 * The {@link AdapterFactoryContext} of adapter `name`, resolved from the container: its logger
 * (bound to the name), its own state in the store's kv (core's `kvAdapterState`, the namespace the
 * pipeline uses), the clock and the HTTP agents. The store itself is not handed out.
 */
export function resolveAdapterFactoryContext(
  container: DependencyContainer,
  name: string,
): AdapterFactoryContext {
  const clock = container.resolve<() => number>(TOKENS.Clock);
  const store = container.resolve<Store>(TOKENS.Store);
  return Object.freeze({
    name,
    logger: container.resolve<Logger>(TOKENS.Logger).child({ adapter: name }),
    state: kvAdapterState(store.kv, name, clock),
    clock,
    httpAgents: container.resolve<HttpAgents>(TOKENS.HttpAgents),
  });
}

/**
 * Orders a token's adapters for the connector: the `lookup` list first (screen pop fallback
 * order), then the others, which get calls logged but are not asked who is calling.
 */
export function routeOf(
  route: TokenRoute,
  adapters: ReadonlyMap<string, CrmAdapter>,
  delivery: Readonly<Record<string, MaybeSettings<DeliveryOptions>>> = {},
  policies: Readonly<Record<string, MaybeSettings<Policies>>> = {},
): Route {
  const lookup = route.lookup ?? route.adapters;
  const ordered = [...lookup, ...route.adapters.filter((name) => !lookup.includes(name))];
  return {
    adapters: ordered.map((name) => {
      const adapter = adapters.get(name);
      if (adapter === undefined) throw new Error(`adapter '${name}' is not registered`);
      const ownerMap = route.ownerMap?.[name];
      const deliveryOverrides = delivery[name];
      const policyOverrides = policies[name];
      return {
        name,
        adapter,
        lookup: lookup.includes(name),
        ...(ownerMap === undefined ? {} : { ownerMap }),
        ...(deliveryOverrides === undefined ? {} : { delivery: givenSettings(deliveryOverrides) }),
        ...(policyOverrides === undefined ? {} : { policies: givenSettings(policyOverrides) }),
      };
    }),
    ...(route.defaultCountry === undefined ? {} : { defaultCountry: route.defaultCountry }),
    ...(route.lineLabels === undefined ? {} : { lineLabels: route.lineLabels }),
  };
}

/**
 * Builds the runner's tsyringe container: value registrations for the config, logger, store,
 * clock, metrics, HTTP agents ({@link buildBaseContainer}) and each adapter (under {@link adapterToken}), and one child container per OVH
 * token holding that token's route and logger (factory registrations, resolved once). Explicit
 * symbol tokens only: nothing relies on decorator metadata.
 */
export function buildContainer(input: ContainerInput): {
  readonly container: DependencyContainer;
  readonly tokens: ReadonlyMap<string, DependencyContainer>;
} {
  const container = input.base ?? buildBaseContainer(input);
  container.register(TOKENS.Adapters, { useValue: input.adapters });
  for (const [name, adapter] of input.adapters) container.register(adapterToken(name), { useValue: adapter });

  const tokens = new Map<string, DependencyContainer>();
  for (const [token, route] of Object.entries(input.config.tokens)) {
    const child = container.createChildContainer();
    child.register(TOKENS.EventToken, { useValue: token });
    child.register(TOKENS.TokenLogger, {
      useFactory: instanceCachingFactory((c) =>
        c
          .resolve<Logger>(TOKENS.Logger)
          .child({ token: maskToken(token), ...(route.label ? { line: route.label } : {}) }),
      ),
    });
    child.register(TOKENS.Route, {
      useFactory: instanceCachingFactory((c) => {
        const registered = new Map<string, CrmAdapter>();
        for (const name of route.adapters) registered.set(name, c.resolve<CrmAdapter>(adapterToken(name)));
        return routeOf(
          route,
          registered,
          input.config.delivery.adapters ?? {},
          input.config.policies.adapters ?? {},
        );
      }),
    });
    tokens.set(token, child);
  }
  return { container, tokens };
}
