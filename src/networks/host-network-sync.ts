/**
 * The whole network desired state of a host — private segments (this domain) and public routes (the
 * addresses domain's, passed in) — and the split of its agent's report back to both. The host's place
 * (region, the VTEP addresses of its region's hosts) comes from the inventory, passed in as a function.
 */
import type {
  DesiredHostNetwork,
  DesiredPublicRoute,
  DesiredServerFirewall,
  ObservedHostNetwork,
} from '../contract/index.ts';
import type { HostPlace, NetworkSync } from './sync.ts';
import type { Clock } from '../core/index.ts';
import type { Db } from '../db/index.ts';
import { createHostNetworkStore } from './host-network-store.ts';
import { hostNetworkView } from './host-network-view.ts';

export interface PublicRouteSync {
  desiredRoutes(hostId: string, region: string): Promise<DesiredPublicRoute[]>;
  applyReport(hostId: string, region: string, observed: ObservedHostNetwork['publicRoutes']): Promise<void>;
}

/** The firewalls of a host's servers and the counters reported back (the firewalls domain's). */
export interface HostFirewallSync {
  desiredFor(hostId: string): Promise<DesiredServerFirewall[]>;
  applyReport(hostId: string, observed: ObservedHostNetwork['firewalls']): Promise<void>;
}

export function createHostNetworkSync(deps: {
  networkSync: NetworkSync;
  publicRoutes: PublicRouteSync;
  firewalls?: HostFirewallSync;
  placeOf(hostId: string): Promise<HostPlace | null>;
  /** With both, each host's last report is kept (`host_network_reports`) for the operator's view. */
  db?: Db;
  clock?: Clock;
}) {
  const reports = deps.db && deps.clock ? createHostNetworkStore(deps.db) : null;
  return {
    async desiredFor(hostId: string): Promise<DesiredHostNetwork> {
      const place = await deps.placeOf(hostId);
      if (!place) return { vtep: null, segments: [], publicRoutes: [] };
      return {
        vtep: place.vteps.get(hostId) ?? null,
        segments: await deps.networkSync.desiredSegments(hostId, place),
        publicRoutes: await deps.publicRoutes.desiredRoutes(hostId, place.region),
        ...(deps.firewalls && { firewalls: await deps.firewalls.desiredFor(hostId) }),
      };
    },
    async applyReport(hostId: string, observed: ObservedHostNetwork): Promise<void> {
      const place = await deps.placeOf(hostId);
      if (!place) return;
      await deps.networkSync.applyReport(hostId, place.region, observed.ports);
      await deps.publicRoutes.applyReport(hostId, place.region, observed.publicRoutes);
      if (deps.firewalls && observed.firewalls) await deps.firewalls.applyReport(hostId, observed.firewalls);
      await reports?.save(hostId, observed, deps.clock!.nowIso());
    },
    /** The operator's view: the desired state beside the agent's last report, with the drift. */
    async view(hostId: string) {
      const desired = await this.desiredFor(hostId);
      return hostNetworkView(hostId, desired, reports ? await reports.get(hostId) : null);
    },
  };
}

export type HostNetworkSync = ReturnType<typeof createHostNetworkSync>;

/** The underlay address of a host from its host API URL (`https://192.0.2.7:8443` → `192.0.2.7`), if an IP. */
export function vtepOfAddress(address: string | null): string | null {
  if (!address) return null;
  try {
    const host = new URL(address).hostname.replace(/^\[|\]$/g, '');
    return /^[0-9.]+$/.test(host) || host.includes(':') ? host : null;
  } catch {
    return null;
  }
}
