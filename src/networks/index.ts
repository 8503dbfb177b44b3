/**
 * The networks domain: private networks of a project (tables `networks`, `network_subnets`,
 * `network_routes`), the attachments of servers to them (`network_attachments`), and IPAM for every
 * address pool (`address_allocations`, also used by the addresses domain for public addresses).
 */
export type {
  AddressAllocationsTable,
  HostNetworkReportsTable,
  NetworkAttachmentsTable,
  NetworkRoutesTable,
  NetworkSubnetsTable,
  NetworksTable,
} from './tables.ts';
export { createNetworkService, type NetworkService, type NetworksDeps, type NetworkServers } from './service.ts';
export { createNetworkSync, type NetworkSync, type HostPlace } from './sync.ts';
export { createIpam, publicPool, retryOnAddressRace, AddressRace, type Ipam } from './ipam.ts';
export * from './cidr.ts';
export * from './ipv6.ts';
export {
  createHostNetworkSync,
  vtepOfAddress,
  type HostNetworkSync,
  type HostFirewallSync,
  type PublicRouteSync,
} from './host-network-sync.ts';
