/**
 * The source addresses a server may use beyond its bridge address, from the host's network desired state:
 * the floating and primary IPv4 addresses and the IPv6 /64s routed to it on this host. After every data
 * plane pass they go to the tenant isolation ruleset (isolation-rules.ts), which is rewritten when they
 * changed — a floating IP that moved to another server or host stops being a source of the old one at
 * the same pass that drops its route.
 */
import type { DesiredHostNetwork, DesiredPublicRoute, ObservedHostNetwork } from '../contract/index.ts';
import { silentLogger, type Logger } from '../core/log.ts';

export interface RoutedSources {
  ipv4: string[];
  ipv6: string[];
}

/** serverId → its routed addresses, each list sorted. Pure. */
export function routedSourcesOf(routes: readonly DesiredPublicRoute[]): Map<string, RoutedSources> {
  const sources = new Map<string, RoutedSources>();
  for (const route of routes) {
    const entry = sources.get(route.serverId) ?? { ipv4: [], ipv6: [] };
    (route.type === 'ipv4' ? entry.ipv4 : entry.ipv6).push(route.address);
    sources.set(route.serverId, entry);
  }
  for (const entry of sources.values()) {
    entry.ipv4 = [...new Set(entry.ipv4)].sort();
    entry.ipv6 = [...new Set(entry.ipv6)].sort();
  }
  return sources;
}

/** What takes the routed sources (the QEMU host's instance network, which owns the isolation ruleset). */
export interface RoutedSourcesSink {
  /** Rewrites the isolation ruleset when the sources changed; resolves to whether it did. */
  setRoutedSources(sources: ReadonlyMap<string, RoutedSources>): Promise<boolean>;
}

/**
 * A host data plane (structurally the agent's `HostDataPlane`) that hands the routed sources of each desired
 * state to `sink()` after converging (null: no instance network yet, e.g. before the host registered). A
 * failing ruleset write is logged and retried at the next pass; the report is unchanged.
 */
export function withIsolationSources(
  base: { converge(desired: DesiredHostNetwork): Promise<ObservedHostNetwork> },
  sink: () => RoutedSourcesSink | null,
  log: Logger = silentLogger,
): { converge(desired: DesiredHostNetwork): Promise<ObservedHostNetwork> } {
  return {
    async converge(desired) {
      const observed = await base.converge(desired);
      const target = sink();
      if (target)
        await target
          .setRoutedSources(routedSourcesOf(desired.publicRoutes))
          .catch((error: unknown) =>
            log.warn(
              { err: error instanceof Error ? error.message : String(error) },
              'isolation ruleset update failed: routed addresses not applied',
            ),
          );
      return observed;
    },
  };
}
