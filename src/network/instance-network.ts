/**
 * The QEMU driver's network hook (structurally its `InstanceNetwork`): attach creates the server's tap and
 * re-applies the isolation ruleset for every server on the host; detach removes both. The ports are kept
 * in a JSON file so that a restarted agent re-applies the same rules. `setRoutedSources` (called by the
 * data plane after each pass, isolation-sources.ts) gives every port the floating/primary addresses routed
 * to its server, rewriting the ruleset only when they changed.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { HostNetwork } from './host-network.ts';
import type { IsolationPort } from './isolation-rules.ts';
import type { RoutedSources } from './isolation-sources.ts';
import { tapName } from './names.ts';

/** What the network needs to know of a server (a subset of the driver's InstanceSpec). */
export interface NetworkedServer {
  serverId: string;
  ipv4: string | null;
}

export interface InstanceNetworkOptions<S extends NetworkedServer> {
  host: HostNetwork;
  /** JSON file holding the ports of this host. */
  stateFile: string;
  /** The tenant (project) of a server; the agent knows it from the control plane. */
  tenantOf: (server: S) => string;
}

interface PortRecord extends IsolationPort {
  serverId: string;
}

export function createInstanceNetwork<S extends NetworkedServer>(options: InstanceNetworkOptions<S>) {
  const load = async (): Promise<PortRecord[]> => {
    try {
      return JSON.parse(await readFile(options.stateFile, 'utf8')) as PortRecord[];
    } catch {
      return [];
    }
  };
  const save = async (ports: PortRecord[]) => {
    await writeFile(`${options.stateFile}.tmp`, JSON.stringify(ports, null, 2));
    await rename(`${options.stateFile}.tmp`, options.stateFile);
  };
  /** The routed sources of the last data plane pass (null: none yet; attach keeps what the file says). */
  let routed: ReadonlyMap<string, RoutedSources> | null = null;
  const withSources = (port: PortRecord, sources: RoutedSources | undefined): PortRecord => ({
    ...port,
    routedIpv4: sources?.ipv4 ?? [],
    ipv6Prefixes: sources?.ipv6 ?? [],
  });
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(body: () => Promise<T>): Promise<T> => {
    const next = queue.then(body, body);
    queue = next.catch(() => {});
    return next;
  };

  return {
    /** The server's tap: its counters are the server's network bytes (the agent's metrics). */
    tapOf: (serverId: string) => tapName(serverId),
    attach: (server: S) =>
      serialized(async () => {
        await options.host.ensureBridge();
        const tap = await options.host.ensureTap(server.serverId);
        const loaded = await load();
        const previous = loaded.find((port) => port.serverId === server.serverId);
        const ports = loaded.filter((port) => port.serverId !== server.serverId);
        ports.push({
          serverId: server.serverId,
          ifname: tap.tapName,
          tenant: options.tenantOf(server),
          mac: tap.mac,
          ipv4: server.ipv4,
          routedIpv4: routed ? (routed.get(server.serverId)?.ipv4 ?? []) : (previous?.routedIpv4 ?? []),
          ipv6Prefixes: routed ? (routed.get(server.serverId)?.ipv6 ?? []) : (previous?.ipv6Prefixes ?? []),
        });
        await options.host.applyIsolation(ports);
        await save(ports);
        return tap;
      }),
    detach: (serverId: string) =>
      serialized(async () => {
        const ports = (await load()).filter((port) => port.serverId !== serverId);
        await options.host.applyIsolation(ports);
        await save(ports);
        await options.host.removeTap(serverId);
      }),
    /** The routed addresses of every server (the host's desired public routes); rewrites the ruleset if they changed. */
    setRoutedSources: (sources: ReadonlyMap<string, RoutedSources>) =>
      serialized(async () => {
        const first = routed === null;
        routed = sources;
        const ports = await load();
        const next = ports.map((port) => withSources(port, sources.get(port.serverId)));
        if (!first && JSON.stringify(next) === JSON.stringify(ports)) return false;
        await options.host.applyIsolation(next);
        await save(next);
        return true;
      }),
    /** Re-applies the recorded ruleset (agent start). */
    resync: () => serialized(async () => options.host.applyIsolation(await load())),
  };
}
