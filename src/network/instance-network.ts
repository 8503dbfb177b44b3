/**
 * The QEMU driver's network hook (structurally its `InstanceNetwork`): attach creates the server's tap and
 * re-applies the isolation ruleset for every server on the host; detach removes both. The ports are kept
 * in a JSON file so that a restarted agent re-applies the same rules.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { HostNetwork } from './host-network.ts';
import type { IsolationPort } from './isolation-rules.ts';

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
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(body: () => Promise<T>): Promise<T> => {
    const next = queue.then(body, body);
    queue = next.catch(() => {});
    return next;
  };

  return {
    attach: (server: S) =>
      serialized(async () => {
        await options.host.ensureBridge();
        const tap = await options.host.ensureTap(server.serverId);
        const ports = (await load()).filter((port) => port.serverId !== server.serverId);
        ports.push({ serverId: server.serverId, ifname: tap.tapName, tenant: options.tenantOf(server), mac: tap.mac, ipv4: server.ipv4 });
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
    /** Re-applies the recorded ruleset (agent start). */
    resync: () => serialized(async () => options.host.applyIsolation(await load())),
  };
}
