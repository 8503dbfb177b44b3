/**
 * Floating IPs: a public address (IPv4, or an IPv6 /64) of a project in a region that moves between its
 * servers of that region. On (re)assignment the hosts move the route and announce the address (gratuitous
 * ARP, unsolicited neighbour advertisement); the guest configures the address itself.
 */
import { Type, type Static } from 'typebox';
import { IdParams, Labels, NextCursor, Nullable, RegionCode, Timestamp } from './common.ts';
import { Action, ActionAccepted } from './actions.ts';
import { defineOperation } from './operation.ts';
import { AddressName, AssignAddressBody, ChangeDnsPtrBody, DnsPtr, IpType, ListAddressesQuery } from './primary-ips.ts';

export const FloatingIp = Type.Object({
  id: Type.String({ description: 'fip_…' }),
  name: Type.String(),
  description: Type.String(),
  project_id: Type.String(),
  region: Type.String(),
  type: IpType,
  ip: Type.String(),
  server_id: Nullable(Type.String()),
  dns_ptr: Type.Array(DnsPtr),
  labels: Labels,
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type FloatingIp = Static<typeof FloatingIp>;

export const CreateFloatingIpBody = Type.Object(
  {
    region: RegionCode,
    type: Type.Optional(IpType),
    name: Type.Optional(AddressName),
    description: Type.Optional(Type.String({ maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]*$' })),
    server: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'assign at once: server id or name' }),
    ),
    labels: Type.Optional(Labels),
  },
  { additionalProperties: false },
);
export type CreateFloatingIpBody = Static<typeof CreateFloatingIpBody>;

export const FloatingIpList = Type.Object({ floating_ips: Type.Array(FloatingIp), next_cursor: NextCursor });
export type FloatingIpList = Static<typeof FloatingIpList>;
export const FloatingIpEnvelope = Type.Object({ floating_ip: FloatingIp });
export type FloatingIpEnvelope = Static<typeof FloatingIpEnvelope>;
export const FloatingIpCreated = Type.Object({ floating_ip: FloatingIp, action: Nullable(Action) });
export type FloatingIpCreated = Static<typeof FloatingIpCreated>;

const tags = ['floating-ips'];

export const createFloatingIp = defineOperation({
  operationId: 'createFloatingIp',
  method: 'POST',
  path: '/v1/floating-ips',
  tags,
  summary: 'Allocate a floating IP in a region',
  description: 'With `server`, assigned at once (the `action` follows the move); otherwise `action` is null.',
  auth: 'project',
  body: CreateFloatingIpBody,
  status: 201,
  response: FloatingIpCreated,
  resource: 'floating_ip',
});

export const listFloatingIps = defineOperation({
  operationId: 'listFloatingIps',
  method: 'GET',
  path: '/v1/floating-ips',
  tags,
  summary: 'List floating IPs',
  auth: 'project',
  query: ListAddressesQuery,
  status: 200,
  response: FloatingIpList,
});

export const getFloatingIp = defineOperation({
  operationId: 'getFloatingIp',
  method: 'GET',
  path: '/v1/floating-ips/:id',
  tags,
  summary: 'Show a floating IP',
  auth: 'project',
  params: IdParams,
  status: 200,
  response: FloatingIpEnvelope,
});

export const deleteFloatingIp = defineOperation({
  operationId: 'deleteFloatingIp',
  method: 'DELETE',
  path: '/v1/floating-ips/:id',
  tags,
  summary: 'Release a floating IP',
  description: 'Refused with 409 `address_assigned` while it is assigned: unassign it first.',
  auth: 'project',
  params: IdParams,
  status: 204,
  resource: 'floating_ip',
});

export const assignFloatingIp = defineOperation({
  operationId: 'assignFloatingIp',
  method: 'POST',
  path: '/v1/floating-ips/:id/actions/assign',
  tags,
  summary: 'Assign (or reassign) a floating IP to a server of its region',
  description: 'A server of another region is refused with 409 `region_mismatch`.',
  auth: 'project',
  params: IdParams,
  body: AssignAddressBody,
  status: 202,
  response: ActionAccepted,
  resource: 'floating_ip',
});

export const unassignFloatingIp = defineOperation({
  operationId: 'unassignFloatingIp',
  method: 'POST',
  path: '/v1/floating-ips/:id/actions/unassign',
  tags,
  summary: 'Unassign a floating IP',
  auth: 'project',
  params: IdParams,
  status: 202,
  response: ActionAccepted,
  resource: 'floating_ip',
});

export const changeFloatingIpDnsPtr = defineOperation({
  operationId: 'changeFloatingIpDnsPtr',
  method: 'POST',
  path: '/v1/floating-ips/:id/actions/change-dns-ptr',
  tags,
  summary: 'Set or remove the reverse DNS name of the floating IP',
  auth: 'project',
  params: IdParams,
  body: ChangeDnsPtrBody,
  status: 200,
  response: FloatingIpEnvelope,
  resource: 'floating_ip',
});

export const floatingIpOperations = {
  createFloatingIp,
  listFloatingIps,
  getFloatingIp,
  deleteFloatingIp,
  assignFloatingIp,
  unassignFloatingIp,
  changeFloatingIpDnsPtr,
};
