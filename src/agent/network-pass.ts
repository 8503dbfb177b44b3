/**
 * The agent's network step of a pass: read the host's network desired state, let the data plane converge
 * to it (level-triggered: it removes what should not exist and recreates what went missing), and report
 * what is in place when that changed (or on a forced, full pass). A failing data plane is logged and
 * retried at the next pass; it never stops the agent.
 */
import type { DesiredHostNetwork, ObservedHostNetwork } from '../contract/index.ts';
import type { Logger } from '../core/index.ts';
import type { ControlPlaneLink } from './link.ts';
import type { Driver, PrivateNicSpec } from '../compute/index.ts';
import { privateTapName } from '../network/index.ts';

export interface HostDataPlane {
  /** Converges the host to `desired` and returns what is in place afterwards. */
  converge(desired: DesiredHostNetwork): Promise<ObservedHostNetwork>;
}

export function createNetworkPass(deps: {
  hostId: string;
  link: ControlPlaneLink;
  dataPlane: HostDataPlane | undefined;
  /** The driver, when it plugs private NICs into running instances itself (QEMU). */
  driver?: Pick<Driver, 'list' | 'syncPrivateNics'>;
  log: Logger;
}): (force: boolean) => Promise<void> {
  const { hostId, link, dataPlane, log } = deps;
  let reported: string | null = null;
  let told = new Set<string>();

  /** Every instance of the host gets exactly the NICs of its ports in the desired segments. */
  async function syncNics(desired: DesiredHostNetwork) {
    const sync = deps.driver?.syncPrivateNics?.bind(deps.driver);
    if (!sync || !deps.driver) return;
    const wanted = new Map<string, PrivateNicSpec[]>();
    for (const segment of desired.segments)
      for (const port of segment.ports)
        wanted.set(port.serverId, [
          ...(wanted.get(port.serverId) ?? []),
          {
            networkId: segment.networkId,
            tap: privateTapName(port.serverId, segment.networkId),
            mac: port.mac,
            address: `${port.ip}/${segment.ipRange.split('/')[1]}`,
            mtu: segment.mtu,
            routes: segment.routes,
          },
        ]);
    // Instances of the host, and servers with ports not created here yet (they get their NICs at boot), and
    // those told of NICs at the previous pass (told now that they have none).
    const serverIds = new Set([...(await deps.driver.list()).map((i) => i.serverId), ...wanted.keys(), ...told]);
    told = new Set(wanted.keys());
    for (const serverId of serverIds)
      await sync(serverId, wanted.get(serverId) ?? []).catch((error: unknown) =>
        log.warn(
          {
            host_id: hostId,
            server_id: serverId,
            err: error instanceof Error ? error.message : String(error),
          },
          'private NIC sync failed',
        ),
      );
  }

  return async (force) => {
    if (!dataPlane || !link.desiredNetwork || !link.reportNetwork) return;
    try {
      const desired = await link.desiredNetwork(hostId);
      const observed = await dataPlane.converge(desired);
      await syncNics(desired);
      const text = JSON.stringify(observed);
      if (!force && text === reported) return;
      await link.reportNetwork(hostId, observed);
      reported = text;
    } catch (error) {
      log.warn({ host_id: hostId, err: error instanceof Error ? error.message : String(error) }, 'network pass failed');
    }
  };
}

/**
 * The data plane of a simulated host: it holds what it was told, port by port, as a real one would after
 * programming it — what the control plane sees is the same state machine (attaching → attached,
 * detaching → gone, a floating IP's move acknowledged by the new host).
 */
export function createSimDataPlane(): HostDataPlane & { current(): ObservedHostNetwork } {
  let state: ObservedHostNetwork = { ports: [], publicRoutes: [] };
  return {
    async converge(desired) {
      state = {
        ports: desired.segments.flatMap((segment) =>
          segment.ports.map((port) => ({ networkId: segment.networkId, serverId: port.serverId })),
        ),
        publicRoutes: desired.publicRoutes.map((route) => ({ address: route.address, serverId: route.serverId })),
        // Firewalls in place, their rules having let nothing through (no packets flow on a simulated host).
        ...(desired.firewalls && {
          firewalls: desired.firewalls.map((server) => ({
            serverId: server.serverId,
            firewalls: server.firewalls.map((f) => ({
              id: f.id,
              version: f.version,
              counters: f.rules.map(() => ({ packets: 0, bytes: 0 })),
            })),
          })),
        }),
      };
      return state;
    },
    current: () => state,
  };
}
