/**
 * Private networks: an IPv4 range (RFC 1918, /8–/28) of a project in a region, split into subnets, with
 * optional static routes. Servers of the region attach to a network (a second NIC, hot-plugged into a
 * running server) and get an address from its subnets (IPAM: never handed out twice). Across hosts a
 * network is one VXLAN segment (its VNI) whose forwarding entries the agents program (docs/networking.md).
 */
import { Type, type Static } from 'typebox';
import {
  CursorQuery,
  IdParams,
  Labels,
  LimitQuery,
  Literals,
  NextCursor,
  Nullable,
  RegionCode,
  Timestamp,
} from './common.ts';
import { ActionAccepted } from './actions.ts';
import { defineOperation } from './operation.ts';
import { hostnamePattern } from './servers.ts';

export const ipv4CidrPattern = '^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$';
export const ipv4Pattern = '^[0-9]{1,3}(\\.[0-9]{1,3}){3}$';
export const Ipv4Cidr = Type.String({
  minLength: 9,
  maxLength: 18,
  pattern: ipv4CidrPattern,
  description: 'IPv4 CIDR, e.g. 10.20.0.0/16',
});
export const Ipv4Address = Type.String({
  minLength: 7,
  maxLength: 15,
  pattern: ipv4Pattern,
  description: 'IPv4 address',
});

export const NetworkName = Type.String({
  minLength: 1,
  maxLength: 63,
  pattern: hostnamePattern,
  description: '1–63 letters, digits and hyphens, not starting or ending with a hyphen',
});

export const attachmentStatuses = ['attaching', 'attached', 'detaching'] as const;
export const AttachmentStatus = Literals(attachmentStatuses);
export type AttachmentStatus = (typeof attachmentStatuses)[number];

export const Subnet = Type.Object({
  ip_range: Type.String(),
  /** The first address of the subnet: the gateway servers route the network's routes through. */
  gateway: Type.String(),
});
export type Subnet = Static<typeof Subnet>;

export const NetworkRoute = Type.Object(
  { destination: Ipv4Cidr, gateway: Ipv4Address },
  { additionalProperties: false },
);
export type NetworkRoute = Static<typeof NetworkRoute>;

export const NetworkAttachment = Type.Object({
  server_id: Type.String(),
  ip: Type.String(),
  mac_address: Type.String(),
  status: AttachmentStatus,
});
export type NetworkAttachment = Static<typeof NetworkAttachment>;

export const Network = Type.Object({
  id: Type.String({ description: 'net_…' }),
  name: Type.String(),
  project_id: Type.String(),
  region: Type.String(),
  ip_range: Type.String(),
  subnets: Type.Array(Subnet),
  routes: Type.Array(NetworkRoute),
  /** The MTU of the network's interfaces (the underlay's minus the VXLAN overhead). */
  mtu: Type.Integer(),
  attachments: Type.Array(NetworkAttachment),
  labels: Labels,
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Network = Static<typeof Network>;

export const CreateNetworkBody = Type.Object(
  {
    name: NetworkName,
    region: RegionCode,
    ip_range: Ipv4Cidr,
    subnets: Type.Optional(
      Type.Array(Type.Object({ ip_range: Ipv4Cidr }, { additionalProperties: false }), { maxItems: 50 }),
    ),
    routes: Type.Optional(Type.Array(NetworkRoute, { maxItems: 100 })),
    labels: Type.Optional(Labels),
  },
  { additionalProperties: false },
);
export type CreateNetworkBody = Static<typeof CreateNetworkBody>;

export const UpdateNetworkBody = Type.Object(
  { name: Type.Optional(NetworkName), labels: Type.Optional(Labels) },
  { additionalProperties: false },
);
export type UpdateNetworkBody = Static<typeof UpdateNetworkBody>;

export const AddSubnetBody = Type.Object({ ip_range: Ipv4Cidr }, { additionalProperties: false });
export type AddSubnetBody = Static<typeof AddSubnetBody>;

export const ListNetworksQuery = Type.Object(
  {
    limit: Type.Optional(LimitQuery),
    cursor: Type.Optional(CursorQuery),
    label_selector: Type.Optional(Type.String({ maxLength: 2000 })),
    name: Type.Optional(Type.String({ maxLength: 63 })),
    region: Type.Optional(Type.String({ maxLength: 16 })),
  },
  { additionalProperties: false },
);
export type ListNetworksQuery = Static<typeof ListNetworksQuery>;

export const NetworkList = Type.Object({ networks: Type.Array(Network), next_cursor: NextCursor });
export type NetworkList = Static<typeof NetworkList>;
export const NetworkEnvelope = Type.Object({ network: Network });
export type NetworkEnvelope = Static<typeof NetworkEnvelope>;

export const AttachNetworkBody = Type.Object(
  {
    network: Type.String({ minLength: 1, maxLength: 100, description: 'network id or name' }),
    ip: Type.Optional(Ipv4Address),
  },
  { additionalProperties: false },
);
export type AttachNetworkBody = Static<typeof AttachNetworkBody>;

export const DetachNetworkBody = Type.Object(
  { network: Type.String({ minLength: 1, maxLength: 100, description: 'network id or name' }) },
  { additionalProperties: false },
);
export type DetachNetworkBody = Static<typeof DetachNetworkBody>;

/** One private network attachment of a server, as `GET /v1/servers/{id}/networks` shows it. */
export const ServerNetwork = Type.Object({
  network_id: Type.String({ description: 'net_…' }),
  network_name: Type.String(),
  region: Type.String(),
  /** The network's whole range; `subnet` is the one the address is in. */
  ip_range: Type.String(),
  subnet: Nullable(Subnet),
  ip: Type.String({ description: 'the server’s address on the network' }),
  mac_address: Type.String(),
  mtu: Type.Integer(),
  status: AttachmentStatus,
  attached_at: Timestamp,
  updated_at: Timestamp,
});
export type ServerNetwork = Static<typeof ServerNetwork>;

export const ServerNetworkList = Type.Object({ networks: Type.Array(ServerNetwork) });
export type ServerNetworkList = Static<typeof ServerNetworkList>;

const tags = ['networks'];

export const createNetwork = defineOperation({
  operationId: 'createNetwork',
  method: 'POST',
  path: '/v1/networks',
  tags,
  summary: 'Create a private network',
  description:
    'The range is RFC 1918, /8 to /28, and overlaps neither another network of the project nor a public pool (409 `ip_range_overlap`). Without `subnets`, the whole range is one subnet.',
  auth: 'project',
  body: CreateNetworkBody,
  status: 201,
  response: NetworkEnvelope,
  resource: 'network',
});

export const listNetworks = defineOperation({
  operationId: 'listNetworks',
  method: 'GET',
  path: '/v1/networks',
  tags,
  summary: 'List private networks',
  auth: 'project',
  query: ListNetworksQuery,
  status: 200,
  response: NetworkList,
});

export const getNetwork = defineOperation({
  operationId: 'getNetwork',
  method: 'GET',
  path: '/v1/networks/:id',
  tags,
  summary: 'Show a private network',
  auth: 'project',
  params: IdParams,
  status: 200,
  response: NetworkEnvelope,
});

export const updateNetwork = defineOperation({
  operationId: 'updateNetwork',
  method: 'PATCH',
  path: '/v1/networks/:id',
  tags,
  summary: 'Rename a network or replace its labels',
  auth: 'project',
  params: IdParams,
  body: UpdateNetworkBody,
  status: 200,
  response: NetworkEnvelope,
  resource: 'network',
});

export const deleteNetwork = defineOperation({
  operationId: 'deleteNetwork',
  method: 'DELETE',
  path: '/v1/networks/:id',
  tags,
  summary: 'Delete a private network',
  description: 'Refused with 409 `network_in_use` while servers are attached: detach them first.',
  auth: 'project',
  params: IdParams,
  status: 204,
  resource: 'network',
});

export const addNetworkSubnet = defineOperation({
  operationId: 'addNetworkSubnet',
  method: 'POST',
  path: '/v1/networks/:id/actions/add-subnet',
  tags,
  summary: 'Add a subnet inside the network range',
  auth: 'project',
  params: IdParams,
  body: AddSubnetBody,
  status: 200,
  response: NetworkEnvelope,
  resource: 'network',
});

export const addNetworkRoute = defineOperation({
  operationId: 'addNetworkRoute',
  method: 'POST',
  path: '/v1/networks/:id/actions/add-route',
  tags,
  summary: 'Add a static route (its gateway inside a subnet)',
  auth: 'project',
  params: IdParams,
  body: NetworkRoute,
  status: 200,
  response: NetworkEnvelope,
  resource: 'network',
});

export const deleteNetworkRoute = defineOperation({
  operationId: 'deleteNetworkRoute',
  method: 'POST',
  path: '/v1/networks/:id/actions/delete-route',
  tags,
  summary: 'Delete a static route',
  auth: 'project',
  params: IdParams,
  body: NetworkRoute,
  status: 200,
  response: NetworkEnvelope,
  resource: 'network',
});

export const attachServerToNetwork = defineOperation({
  operationId: 'attachServerToNetwork',
  method: 'POST',
  path: '/v1/servers/:id/actions/attach-network',
  tags,
  summary: 'Attach a server to a private network',
  description:
    'An address from the network (or `ip`, which must be inside a subnet and free) on a second NIC, hot-plugged into a running server. The action finishes when the server’s host has programmed the port.',
  auth: 'project',
  params: IdParams,
  body: AttachNetworkBody,
  status: 202,
  response: ActionAccepted,
  resource: 'server',
});

export const detachServerFromNetwork = defineOperation({
  operationId: 'detachServerFromNetwork',
  method: 'POST',
  path: '/v1/servers/:id/actions/detach-network',
  tags,
  summary: 'Detach a server from a private network',
  description: 'The NIC is unplugged, the forwarding entries removed on every host, and the address released.',
  auth: 'project',
  params: IdParams,
  body: DetachNetworkBody,
  status: 202,
  response: ActionAccepted,
  resource: 'server',
});

export const listServerNetworks = defineOperation({
  operationId: 'listServerNetworks',
  method: 'GET',
  path: '/v1/servers/:id/networks',
  tags,
  summary: 'The private networks a server is attached to',
  description:
    'Each attachment (attaching, attached or detaching) with its network, the subnet its address is in, the address and MAC, ordered by network id. `id` is the server’s id or name; another project’s server is 404.',
  auth: 'project',
  params: IdParams,
  status: 200,
  response: ServerNetworkList,
});

export const networkOperations = {
  listServerNetworks,
  createNetwork,
  listNetworks,
  getNetwork,
  updateNetwork,
  deleteNetwork,
  addNetworkSubnet,
  addNetworkRoute,
  deleteNetworkRoute,
  attachServerToNetwork,
  detachServerFromNetwork,
};
