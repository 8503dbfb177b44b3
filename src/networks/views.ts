/** Networks as the API shows them (the contract's `Network`). Pure. */
import type { Network } from '../contract/index.ts';
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
