/** Servers and actions as the API shows them (the contract's `Server` and `Action`). Pure. */
import type { Action, Server } from '../contract/index.ts';
import type { ActionRecord, ServerRecord } from './store.ts';

export function serverView(
  server: ServerRecord,
  placement: { numaNodes: number[]; gpus: string[]; vfs?: string[] } | null | undefined,
): Server {
  return {
    id: server.id,
    name: server.name,
    project_id: server.projectId,
    region: server.region,
    product: server.product,
    image: server.image,
    status: server.status,
    desired_state: server.desiredState,
    labels: server.labels,
    ipv4: server.ipv4,
    placement: placement ? { numa_nodes: placement.numaNodes, gpus: placement.gpus, vfs: placement.vfs ?? [] } : null,
    error: server.errorMessage,
    delete_protection: server.deleteProtection,
    rebuild_protection: server.rebuildProtection,
    iso: server.isoImage,
    disk_encrypted: server.diskKeySecretId !== null,
    created_at: server.createdAt,
    updated_at: server.updatedAt,
  };
}

export function actionView(action: ActionRecord): Action {
  return {
    id: action.id,
    command: action.command,
    status: action.status,
    progress: action.progress,
    resource: { type: action.resourceType, id: action.resourceId },
    error: action.errorCode ? { code: action.errorCode, message: action.errorMessage ?? '' } : null,
    started_at: action.startedAt,
    finished_at: action.finishedAt,
  };
}
