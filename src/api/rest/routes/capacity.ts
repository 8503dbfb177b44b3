import { Type } from 'typebox';
import type { Api } from '../server.ts';
import type { PlacementScheduler } from '../../../scheduler/index.ts';
import type { CatalogService } from '../../../catalog/index.ts';
import { customerCapacity } from '../../../inventory/index.ts';
import { requireOperator, requireProject } from '../../../identity/index.ts';
import { principalOf } from '../context.ts';
import { errorResponses } from '../schemas.ts';
import { snakeCaseKeys } from '../snake-case.ts';

export function registerCapacityRoutes(app: Api, deps: { scheduler: PlacementScheduler; catalog: CatalogService }) {
  app.get(
    '/v1/capacity',
    {
      schema: {
        tags: ['capacity'],
        summary: 'How many more servers of each product fit in each region now',
        description: 'Operators get exact counts (computed from the claims, NUMA fit included) and utilization of compute, memory, storage and GPUs per region; customers get available|scarce|none per product and region.',
        querystring: Type.Object({ region: Type.Optional(Type.String({ maxLength: 16 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ capacity: Type.Array(Type.Any()) }), ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request.principal);
      const region = request.query.region?.toLowerCase();
      const report = await deps.scheduler.capacity(region);
      if (principal.kind === 'operator') return { capacity: snakeCaseKeys(report) as unknown[] };
      requireProject(principal, 'viewer');
      const statuses = new Map((await deps.catalog.listRegions()).map((r) => [r.code, r.status]));
      return { capacity: customerCapacity(report, statuses) };
    },
  );

  app.get(
    '/v1/admin/audit-placement',
    {
      schema: {
        tags: ['operators'],
        summary: 'Re-derive usage from the claims and list every violated placement invariant (operators)',
        response: { 200: Type.Object({ hosts: Type.Integer(), allocations: Type.Integer(), violations: Type.Array(Type.Any()) }), ...errorResponses },
      },
    },
    async (request) => {
      requireOperator(principalOf(request.principal));
      return snakeCaseKeys(await deps.scheduler.auditPlacement()) as { hosts: number; allocations: number; violations: unknown[] };
    },
  );
}
