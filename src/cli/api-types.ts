/** Resource shapes of the REST API v1 as the CLI reads them (docs/api-contract.md). snake_case as on the wire. */

export interface Region {
  code: string;
  name: string;
  city: string;
  country: string;
  peering: string;
  peering_gbps: number | null;
  status: 'operational' | 'maintenance' | 'planned';
  orderable: boolean;
  opens: string | null;
}

export interface Product {
  code: string;
  name: string;
  family: 'vps' | 'gpu';
  vcpus: number;
  memory_mib: number;
  disk_gib: number;
  traffic_tib: number;
  gpu: { model: string; count: number } | null;
  price: { hourly_cents: number; monthly_cents: number; currency: string };
  regions: string[];
}

export interface Image {
  id: string;
  slug: string;
  name: string;
  os_family: string;
  os_version: string;
  category: 'os' | 'app' | 'ai' | 'custom';
  requires_gpu: boolean;
  min_disk_gib: number;
  status: string;
}

export interface Server {
  id: string;
  name: string;
  project_id: string;
  region: string;
  product: string;
  image: string;
  status: string;
  desired_state: string;
  labels: Record<string, string>;
  ipv4: string | null;
  placement: { numa_nodes: number[]; gpus: string[] } | null;
  error: string | { code?: string; message?: string } | null;
  created_at: string;
  updated_at: string;
}

export interface Action {
  id: string;
  command: string;
  status: 'running' | 'success' | 'error';
  progress: number;
  resource: { type: string; id: string };
  error: { code: string; message: string } | null;
  started_at: string;
  finished_at: string | null;
}

export interface Project {
  id: string;
  name: string;
  /** Role of the calling token. */
  role?: string;
  quotas: { servers: number; vcpus: number; gpus: number };
  usage: { servers: number; vcpus: number; gpus: number };
}

export interface Token {
  id: string;
  name: string;
  role: string;
  kind?: string;
  prefix?: string;
  project_id?: string | null;
  expires_at: string | null;
  last_used_at: string | null;
  created_at: string;
}
