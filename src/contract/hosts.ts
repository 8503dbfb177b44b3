/** Hosts, as operators see them: state, health, topology, sellable capacity and usage. */
import { Type, type Static } from 'typebox';
import { IdParams, Literals, Nullable, NullableTimestamp } from './common.ts';
import { DrainReport } from './placement.ts';
import { defineOperation } from './operation.ts';

export const hostStates = ['active', 'maintenance', 'draining'] as const;
export const HostState = Literals(hostStates);
export type HostState = (typeof hostStates)[number];

export const HostHealth = Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('unusable')], {
  description: 'up: heartbeating; down: silent; unusable: its stored topology is invalid (see health_reason)',
});
export type HostHealth = Static<typeof HostHealth>;

export const HostGpu = Type.Object({
  pci_address: Type.String(),
  model: Type.String(),
  numa_node: Type.Integer(),
  iommu_group: Nullable(Type.Integer()),
});

export const HostTopologyView = Type.Object({
  sockets: Type.Integer(),
  numa_nodes: Type.Array(
    Type.Object({ id: Type.Integer(), cores: Type.Integer(), threads: Type.Integer(), memory_mib: Type.Integer() }),
  ),
  threads: Type.Integer(),
  reserved_threads: Type.Array(Type.Integer()),
  gpus: Type.Array(HostGpu),
  nics: Type.Array(
    Type.Object({
      name: Type.String(),
      pci_address: Type.String(),
      numa_node: Type.Integer(),
      speed_gbps: Type.Integer(),
      vfs: Type.Integer(),
    }),
  ),
});

const Resources = {
  vcpus: Type.Integer(),
  memory_mib: Type.Integer(),
  disk_gib: Type.Integer(),
  gpus: Type.Integer(),
};

export const Host = Type.Object({
  id: Type.String({ description: 'host_…' }),
  name: Type.String(),
  region: Type.String(),
  kind: Type.Union([Type.Literal('standard'), Type.Literal('gpu')]),
  state: HostState,
  health: HostHealth,
  health_reason: Nullable(Type.String()),
  driver: Type.String({ description: 'sim | qemu' }),
  cpu_model: Type.String(),
  topology: HostTopologyView,
  capacity: Type.Object(Resources, { description: 'sellable: the host reserve excluded' }),
  usage: Type.Object({ servers: Type.Integer(), ...Resources }),
  generation: Type.Integer(),
  last_heartbeat_at: NullableTimestamp,
  agent_version: Nullable(Type.String()),
  images: Nullable(
    Type.Array(Type.String(), {
      description: 'the images the host can boot, as its agent reports them; null: every image of the catalog',
    }),
  ),
});
export type Host = Static<typeof Host>;

export const ListHostsQuery = Type.Object(
  { region: Type.Optional(Type.String({ maxLength: 16 })) },
  { additionalProperties: false },
);

export const SetHostStateBody = Type.Object({ state: HostState }, { additionalProperties: false });
export type SetHostStateBody = Static<typeof SetHostStateBody>;

export const HostStateChanged = Type.Object({
  host: Host,
  drain: Type.Optional(DrainReport),
});
export type HostStateChanged = Static<typeof HostStateChanged>;

const tags = ['operators'];

export const listHosts = defineOperation({
  operationId: 'listHosts',
  method: 'GET',
  path: '/v1/hosts',
  tags,
  summary: 'List hosts with topology and usage (operators)',
  auth: 'operator',
  query: ListHostsQuery,
  status: 200,
  response: Type.Object({ hosts: Type.Array(Host) }),
});

export const getHost = defineOperation({
  operationId: 'getHost',
  method: 'GET',
  path: '/v1/hosts/:id',
  tags,
  summary: 'Show a host (operators)',
  auth: 'operator',
  params: IdParams,
  status: 200,
  response: Type.Object({ host: Host }),
});

export const setHostState = defineOperation({
  operationId: 'setHostState',
  method: 'PATCH',
  path: '/v1/hosts/:id',
  tags,
  summary: 'Set a host to active, maintenance or draining (operators)',
  description: 'Maintenance and draining take no new servers; draining also moves the host servers elsewhere.',
  auth: 'operator',
  params: IdParams,
  body: SetHostStateBody,
  status: 200,
  response: HostStateChanged,
  resource: 'host',
});

export const HostForgotten = Type.Object({
  host_id: Type.String(),
  name: Type.String(),
  deleted: Type.Array(Type.String(), { description: 'servers whose pending delete finished' }),
  lost: Type.Array(Type.String(), { description: 'servers now in error: their disk was on the host' }),
});
export type HostForgotten = Static<typeof HostForgotten>;

export const ForgetHostBody = Type.Object(
  { confirm: Type.String({ minLength: 1, maxLength: 100, description: "the host's name, to confirm" }) },
  { additionalProperties: false },
);

export const evacuateHost = defineOperation({
  operationId: 'evacuateHost',
  method: 'POST',
  path: '/v1/hosts/:id/actions/evacuate',
  tags,
  summary: 'Move the servers of a dead host to other hosts (operators)',
  description:
    'For a host that is down or unusable: each server is placed again on another host of the region (a cold restart; simulated hosts only — a server whose disk is on the dead host is reported stuck). A live host is drained instead.',
  auth: 'operator',
  params: IdParams,
  status: 200,
  response: Type.Object({ evacuation: DrainReport }),
  resource: 'host',
});

export const forgetHost = defineOperation({
  operationId: 'forgetHost',
  method: 'POST',
  path: '/v1/hosts/:id/actions/forget',
  tags,
  summary: 'Give up a dead host for good (operators)',
  description:
    'For a host that is down or unusable, confirmed by its name: releases every claim on it, finishes pending deletes, puts its other servers in error (their disk is lost) and removes the host, so that a rebuilt machine can register again.',
  auth: 'operator',
  params: IdParams,
  body: ForgetHostBody,
  status: 200,
  response: HostForgotten,
  resource: 'host',
});

export const hostOperations = { listHosts, getHost, setHostState, evacuateHost, forgetHost };
