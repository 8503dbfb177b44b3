/**
 * Primary IPs: the public addresses of servers. Every server gets an IPv6 /64 from its region's /48 as a
 * primary IP (`auto_delete: true`); a project also allocates IPv4 or IPv6 primary IPs itself and gives them
 * to servers. A primary IP with `auto_delete: false` survives its server and can be given to a new one —
 * the address is kept across rebuilds and moves. Reverse DNS names (`dns_ptr`) are stored per address.
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

export const ipTypes = ['ipv4', 'ipv6'] as const;
export const IpType = Literals(ipTypes);
export type IpType = (typeof ipTypes)[number];

/** A reverse DNS name of one address (an IPv6 prefix has one per address inside it). */
export const DnsPtr = Type.Object({ ip: Type.String(), dns_ptr: Type.String() });
export type DnsPtr = Static<typeof DnsPtr>;

export const ChangeDnsPtrBody = Type.Object(
  {
    ip: Type.String({ minLength: 2, maxLength: 45, description: 'the address (inside the IPv6 prefix for a /64)' }),
    dns_ptr: Nullable(
      Type.String({
        minLength: 1,
        maxLength: 253,
        pattern: '^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\\.)*[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\\.?$',
        description: 'a host name; null removes it',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ChangeDnsPtrBody = Static<typeof ChangeDnsPtrBody>;

export const AddressName = Type.String({
  minLength: 1,
  maxLength: 63,
  pattern: hostnamePattern,
  description: '1–63 letters, digits and hyphens',
});

export const PrimaryIp = Type.Object({
  id: Type.String({ description: 'pip_…' }),
  name: Type.String(),
  project_id: Type.String(),
  region: Type.String(),
  type: IpType,
  /** An IPv4 address, or an IPv6 /64 prefix (`2001:db8:0:5::/64`). */
  ip: Type.String(),
  assignee_id: Nullable(Type.String({ description: 'the server it is assigned to' })),
  auto_delete: Type.Boolean(),
  dns_ptr: Type.Array(DnsPtr),
  labels: Labels,
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type PrimaryIp = Static<typeof PrimaryIp>;

export const CreatePrimaryIpBody = Type.Object(
  {
    name: AddressName,
    region: RegionCode,
    type: IpType,
    server: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'assign at once: server id or name' }),
    ),
    auto_delete: Type.Optional(Type.Boolean({ description: 'delete it with its server (default false)' })),
    labels: Type.Optional(Labels),
  },
  { additionalProperties: false },
);
export type CreatePrimaryIpBody = Static<typeof CreatePrimaryIpBody>;

export const UpdatePrimaryIpBody = Type.Object(
  { name: Type.Optional(AddressName), auto_delete: Type.Optional(Type.Boolean()), labels: Type.Optional(Labels) },
  { additionalProperties: false },
);
export type UpdatePrimaryIpBody = Static<typeof UpdatePrimaryIpBody>;

export const AssignAddressBody = Type.Object(
  { server: Type.String({ minLength: 1, maxLength: 100, description: 'server id or name' }) },
  { additionalProperties: false },
);
export type AssignAddressBody = Static<typeof AssignAddressBody>;

export const ListAddressesQuery = Type.Object(
  {
    limit: Type.Optional(LimitQuery),
    cursor: Type.Optional(CursorQuery),
    label_selector: Type.Optional(Type.String({ maxLength: 2000 })),
    name: Type.Optional(Type.String({ maxLength: 63 })),
    region: Type.Optional(Type.String({ maxLength: 16 })),
    server_id: Type.Optional(Type.String({ maxLength: 100 })),
    type: Type.Optional(IpType),
  },
  { additionalProperties: false },
);
export type ListAddressesQuery = Static<typeof ListAddressesQuery>;

export const PrimaryIpList = Type.Object({ primary_ips: Type.Array(PrimaryIp), next_cursor: NextCursor });
export type PrimaryIpList = Static<typeof PrimaryIpList>;
export const PrimaryIpEnvelope = Type.Object({ primary_ip: PrimaryIp });
export type PrimaryIpEnvelope = Static<typeof PrimaryIpEnvelope>;

const tags = ['primary-ips'];

export const createPrimaryIp = defineOperation({
  operationId: 'createPrimaryIp',
  method: 'POST',
  path: '/v1/primary-ips',
  tags,
  summary: 'Allocate a primary IP (IPv4 address or IPv6 /64) in a region',
  auth: 'project',
  body: CreatePrimaryIpBody,
  status: 201,
  response: PrimaryIpEnvelope,
  resource: 'primary_ip',
});

export const listPrimaryIps = defineOperation({
  operationId: 'listPrimaryIps',
  method: 'GET',
  path: '/v1/primary-ips',
  tags,
  summary: 'List primary IPs',
  auth: 'project',
  query: ListAddressesQuery,
  status: 200,
  response: PrimaryIpList,
});

export const getPrimaryIp = defineOperation({
  operationId: 'getPrimaryIp',
  method: 'GET',
  path: '/v1/primary-ips/:id',
  tags,
  summary: 'Show a primary IP',
  auth: 'project',
  params: IdParams,
  status: 200,
  response: PrimaryIpEnvelope,
});

export const updatePrimaryIp = defineOperation({
  operationId: 'updatePrimaryIp',
  method: 'PATCH',
  path: '/v1/primary-ips/:id',
  tags,
  summary: 'Rename a primary IP, change auto_delete or its labels',
  auth: 'project',
  params: IdParams,
  body: UpdatePrimaryIpBody,
  status: 200,
  response: PrimaryIpEnvelope,
  resource: 'primary_ip',
});

export const deletePrimaryIp = defineOperation({
  operationId: 'deletePrimaryIp',
  method: 'DELETE',
  path: '/v1/primary-ips/:id',
  tags,
  summary: 'Release a primary IP',
  description: 'Refused with 409 `address_assigned` while it is assigned: unassign it first.',
  auth: 'project',
  params: IdParams,
  status: 204,
  resource: 'primary_ip',
});

export const assignPrimaryIp = defineOperation({
  operationId: 'assignPrimaryIp',
  method: 'POST',
  path: '/v1/primary-ips/:id/actions/assign',
  tags,
  summary: 'Give a primary IP to a server of its region',
  description: 'A server has at most one primary IP of each type (409 `primary_ip_taken`).',
  auth: 'project',
  params: IdParams,
  body: AssignAddressBody,
  status: 202,
  response: ActionAccepted,
  resource: 'primary_ip',
});

export const unassignPrimaryIp = defineOperation({
  operationId: 'unassignPrimaryIp',
  method: 'POST',
  path: '/v1/primary-ips/:id/actions/unassign',
  tags,
  summary: 'Take a primary IP from its server (the address stays in the project)',
  auth: 'project',
  params: IdParams,
  status: 202,
  response: ActionAccepted,
  resource: 'primary_ip',
});

export const changePrimaryIpDnsPtr = defineOperation({
  operationId: 'changePrimaryIpDnsPtr',
  method: 'POST',
  path: '/v1/primary-ips/:id/actions/change-dns-ptr',
  tags,
  summary: 'Set or remove the reverse DNS name of an address of the primary IP',
  auth: 'project',
  params: IdParams,
  body: ChangeDnsPtrBody,
  status: 200,
  response: PrimaryIpEnvelope,
  resource: 'primary_ip',
});

export const primaryIpOperations = {
  createPrimaryIp,
  listPrimaryIps,
  getPrimaryIp,
  updatePrimaryIp,
  deletePrimaryIp,
  assignPrimaryIp,
  unassignPrimaryIp,
  changePrimaryIpDnsPtr,
};
