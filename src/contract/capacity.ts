/** Capacity: how many more servers of each product fit in each region now. */
import { Type, type Static } from 'typebox';
import { defineOperation } from './operation.ts';

export const Availability = Type.Union([Type.Literal('available'), Type.Literal('scarce'), Type.Literal('none')]);
export type Availability = Static<typeof Availability>;

const Utilization = {
  used: Type.Integer(),
  total: Type.Integer(),
  pct: Type.Number({ description: 'used / total in percent' }),
};

export const RegionCapacity = Type.Object({
  region: Type.String(),
  hosts: Type.Integer(),
  active_hosts: Type.Integer(),
  compute: Type.Object({ ...Utilization, used_vcpus: Type.Integer(), sellable_vcpus: Type.Integer() }),
  memory_mib: Type.Object(Utilization),
  disk_gib: Type.Object(Utilization),
  gpus: Type.Object(Utilization),
  products: Type.Array(
    Type.Object({
      product: Type.String(),
      servers: Type.Integer({ description: 'how many more fit now' }),
      servers_when_empty: Type.Integer(),
      availability: Availability,
    }),
  ),
});
export type RegionCapacity = Static<typeof RegionCapacity>;

export const CustomerCapacity = Type.Object({
  region: Type.String(),
  orderable: Type.Boolean(),
  products: Type.Array(Type.Object({ product: Type.String(), availability: Availability })),
});
export type CustomerCapacity = Static<typeof CustomerCapacity>;

export const CapacityQuery = Type.Object(
  { region: Type.Optional(Type.String({ maxLength: 16 })) },
  { additionalProperties: false },
);

export const getCapacity = defineOperation({
  operationId: 'getCapacity',
  method: 'GET',
  path: '/v1/capacity',
  tags: ['capacity'],
  summary: 'How many more servers of each product fit in each region now',
  description:
    'Operators get exact counts (computed from the claims, NUMA fit included) and utilization of compute, memory, storage and GPUs per region; customers get available|scarce|none per product and region.',
  auth: 'project_or_operator',
  query: CapacityQuery,
  status: 200,
  response: Type.Object({ capacity: Type.Union([Type.Array(RegionCapacity), Type.Array(CustomerCapacity)]) }),
});

export const capacityOperations = { getCapacity };
