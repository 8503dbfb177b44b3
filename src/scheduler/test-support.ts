/** Helpers for the scheduler's store tests: requests, and placing inside one transaction. */
import { inTransaction, type Db } from '../db/index.ts';
import type { PlacementOutcome, PlacementRequest, Scheduler } from './types.ts';

export function vpsRequest(serverId: string, region: string, vcpus: number, memoryMiB: number, extra: Partial<PlacementRequest> = {}): PlacementRequest {
  return { serverId, projectId: 'prj_test', region, family: 'vps', vcpus, memoryMiB, diskGiB: 10, gpuModel: null, gpuCount: 0, sriovVfs: 0, placementGroupId: null, ...extra };
}

export function gpuRequest(serverId: string, region: string, gpuModel: string, extra: Partial<PlacementRequest> = {}): PlacementRequest {
  return { serverId, projectId: 'prj_test', region, family: 'gpu', vcpus: 8, memoryMiB: 48 * 1024, diskGiB: 100, gpuModel, gpuCount: 1, sriovVfs: 0, placementGroupId: null, ...extra };
}

export function placeOne(db: Db, scheduler: Scheduler, request: PlacementRequest): Promise<PlacementOutcome> {
  return inTransaction(db, (tx, hooks) => scheduler.place(tx, hooks, request));
}

export function releaseOne(db: Db, scheduler: Scheduler, serverId: string): Promise<void> {
  return inTransaction(db, async (tx, hooks) => {
    await scheduler.release(tx, hooks, serverId);
    await tx.updateTable('servers').set({ deleted_at: '2026-01-02T00:00:00.000Z' }).where('id', '=', serverId).execute();
  });
}
