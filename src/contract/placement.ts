/** Placement as the API tells it: why nothing fits, what a drain moved, the placement audit. */
import { Type, type Static } from 'typebox';
import { Nullable } from './common.ts';
import { defineOperation } from './operation.ts';

export const FilterRejection = Type.Object({
  filter: Type.String({ description: 'stable filter name, e.g. cores, host_state' }),
  hosts: Type.Integer(),
  reason: Type.String({ description: 'e.g. "lack 8 free cores in one NUMA node"' }),
});

export const PlacementFailure = Type.Object({
  region: Type.String(),
  hosts_considered: Type.Integer(),
  rejections: Type.Array(FilterRejection),
  largest_available: Type.Object({ vcpus: Type.Integer(), memory_mib: Type.Integer(), gpus: Type.Integer() }),
  message: Type.String(),
});
export type PlacementFailure = Static<typeof PlacementFailure>;

export const DrainReport = Type.Object({
  host_id: Type.String(),
  moved: Type.Array(
    Type.Object({
      server_id: Type.String(),
      from_host_id: Type.String(),
      placement: Type.Object({ host_id: Type.String(), numa_nodes: Type.Array(Type.Integer()) }),
    }),
  ),
  stuck: Type.Array(
    Type.Object({ server_id: Type.String(), failure: Nullable(PlacementFailure), error: Nullable(Type.String()) }),
  ),
});
export type DrainReport = Static<typeof DrainReport>;

export const PlacementViolation = Type.Object({
  kind: Type.String({ description: 'e.g. thread_claimed_twice, memory_over' }),
  host_id: Type.String(),
  server_ids: Type.Array(Type.String()),
  detail: Type.String(),
});

export const PlacementAudit = Type.Object({
  hosts: Type.Integer(),
  allocations: Type.Integer(),
  violations: Type.Array(PlacementViolation),
});
export type PlacementAudit = Static<typeof PlacementAudit>;

export const auditPlacement = defineOperation({
  operationId: 'auditPlacement',
  method: 'GET',
  path: '/v1/admin/audit-placement',
  tags: ['operators'],
  summary: 'Re-derive usage from the claims and list every violated placement invariant (operators)',
  auth: 'operator',
  status: 200,
  response: PlacementAudit,
});

export const placementOperations = { auditPlacement };
