/** Networks as the API shows them (the contract's `Network`). Pure. */
import type { Network, ServerNetwork } from '../contract/index.ts';
import { containsAddress, parseRange } from './cidr.ts';
import type { AttachmentRecord, NetworkRecord, RouteRecord, SubnetRecord } from './store.ts';

export function networkView(
  network: NetworkRecord,
  parts: { subnets: SubnetRecord[]; routes: RouteRecord[]; attachments: AttachmentRecord[] },
): Network {
  return {
    id: network.id,
    name: network.name,
    project_id: network.projectId,
    region: network.region,
    ip_range: network.ipRange,
    subnets: parts.subnets
      .filter((s) => s.networkId === network.id)
      .map((s) => ({ ip_range: s.ipRange, gateway: s.gateway })),
    routes: parts.routes
      .filter((r) => r.networkId === network.id)
      .map((r) => ({ destination: r.destination, gateway: r.gateway })),
    mtu: network.mtu,
    attachments: parts.attachments
      .filter((a) => a.networkId === network.id)
      .map((a) => ({ server_id: a.serverId, ip: a.ip, mac_address: a.mac, status: a.status })),
    labels: network.labels,
    created_at: network.createdAt,
    updated_at: network.updatedAt,
  };
}

/** A server's attachments with their networks and the subnet each address is in (the contract's `ServerNetwork`). */
export function serverNetworksView(
  attachments: readonly AttachmentRecord[],
  networks: readonly NetworkRecord[],
  subnets: readonly SubnetRecord[],
): ServerNetwork[] {
  const byId = new Map(networks.map((n) => [n.id, n]));
  return attachments.flatMap((a) => {
    const network = byId.get(a.networkId);
    if (!network) return [];
    const subnet = subnets.find((s) => {
      const range = s.networkId === a.networkId ? parseRange(s.ipRange) : null;
      return range !== null && typeof range !== 'string' && containsAddress(range, a.ip);
    });
    return [
      {
        network_id: network.id,
        network_name: network.name,
        region: network.region,
        ip_range: network.ipRange,
        subnet: subnet ? { ip_range: subnet.ipRange, gateway: subnet.gateway } : null,
        ip: a.ip,
        mac_address: a.mac,
        mtu: network.mtu,
        status: a.status,
        attached_at: a.createdAt,
        updated_at: a.updatedAt,
      },
    ];
  });
}
