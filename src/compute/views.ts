import type { ServersTable, ActionsTable, AllocationsTable } from '../db/index.ts';
import type { Labels } from './labels.ts';

export interface ServerView {
  id: string;
  name: string;
  project_id: string;
  region: string;
  product: string;
  image: string;
  status: string;
  desired_state: string;
  labels: Labels;
  ipv4: string | null;
  placement: { numa_nodes: number[]; gpus: string[] } | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export interface ActionView {
  id: string;
  command: string;
  status: 'running' | 'success' | 'error';
  progress: number;
  resource: { type: string; id: string };
  error: { code: string; message: string } | null;
  started_at: string;
  finished_at: string | null;
}

type ServerRow = Pick<ServersTable, 'id' | 'name' | 'project_id' | 'region' | 'product' | 'image' | 'status' | 'desired_state' | 'labels_json' | 'ipv4' | 'error_message' | 'created_at' | 'updated_at'>;

export function serverView(row: ServerRow, allocation: Pick<AllocationsTable, 'numa_nodes_json' | 'gpus_json'> | null | undefined): ServerView {
  return {
    id: row.id,
    name: row.name,
    project_id: row.project_id,
    region: row.region,
    product: row.product,
    image: row.image,
    status: row.status,
    desired_state: row.desired_state,
    labels: JSON.parse(row.labels_json) as Labels,
    ipv4: row.ipv4,
    placement: allocation ? { numa_nodes: JSON.parse(allocation.numa_nodes_json) as number[], gpus: JSON.parse(allocation.gpus_json) as string[] } : null,
    error: row.error_message,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export function actionView(row: ActionsTable): ActionView {
  return {
    id: row.id,
    command: row.command,
    status: row.status as ActionView['status'],
    progress: row.progress,
    resource: { type: row.resource_type, id: row.resource_id },
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
    started_at: row.started_at,
    finished_at: row.finished_at,
  };
}
