import type { Route } from '../route.ts';
import type { PlacementScheduler } from '../../../scheduler/index.ts';
import { wireCapacity, wirePlacementAudit } from '../../../scheduler/index.ts';
import type { CatalogService } from '../../../catalog/index.ts';
import { customerCapacity } from '../../../inventory/index.ts';
import { requireProject } from '../../../identity/index.ts';
import { auditPlacement, getCapacity } from '../../../contract/index.ts';

export function registerCapacityRoutes(route: Route, deps: { scheduler: PlacementScheduler; catalog: CatalogService }) {
  route(getCapacity, async ({ principal, query }) => {
    const report = await deps.scheduler.capacity(query.region?.toLowerCase());
    if (principal.kind === 'operator') return { capacity: wireCapacity(report) };
    requireProject(principal, 'viewer');
    const statuses = new Map((await deps.catalog.listRegions()).map((r) => [r.code, r.status]));
    return { capacity: customerCapacity(report, statuses) };
  });

  route(auditPlacement, async () => wirePlacementAudit(await deps.scheduler.auditPlacement()));
}
