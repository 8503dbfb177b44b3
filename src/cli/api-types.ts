/**
 * Resource shapes of the REST API v1 exactly as the control plane sends them (snake_case, the REST edge
 * renames the keys of scheduler values such as capacity and the placement audit). Sources: src/api/rest/schemas.ts, src/compute/views.ts, src/inventory/service.ts (HostView),
 * src/scheduler/capacity.ts (RegionCapacity), src/inventory/capacity-view.ts, src/scheduler/audit.ts,
 * src/identity/audit.ts and src/events/query.ts.
 */

// The wire shapes the server already defines for its REST edge (type-only: the CLI stays an HTTP client).
import type { TokenView, AuditView } from '../identity/index.ts';
import type { EventView } from '../events/index.ts';
export type { RegionView as Region, ProductView as Product, ImageView as Image } from '../catalog/index.ts';
export type { ServerView as Server, ActionView as Action } from '../compute/index.ts';
export type Token = TokenView;
export type AuditEntry = AuditView;
export type Event = EventView;







export interface ProjectCounts {
  servers: number;
  vcpus: number;
  gpus: number;
}

export interface Project {
  id: string;
  name: string;
  /** Role of the calling token. */
  role: string;
  quotas: ProjectCounts;
  usage: ProjectCounts;
  created_at: string;
}


/** `POST /v1/tokens` and `POST /v1/host-tokens`: the secret is in this answer only. */
export interface CreatedToken {
  token: Token;
  secret: string;
}

// ---- operators ------------------------------------------------------------------------------------------

export interface HostGpu {
  pci_address: string;
  model: string;
  numa_node: number;
  iommu_group: number | null;
}

export interface Host {
  id: string;
  name: string;
  region: string;
  /** standard or gpu. */
  kind: string;
  state: 'active' | 'maintenance' | 'draining';
  /** up or down (heartbeats). */
  health: string;
  driver: string;
  cpu_model: string;
  topology: {
    sockets: number;
    numa_nodes: Array<{ id: number; cores: number; threads: number; memory_mib: number }>;
    threads: number;
    reserved_threads: number[];
    gpus: HostGpu[];
    nics: Array<{ name: string; pci_address: string; numa_node: number; speed_gbps: number; vfs: number }>;
  };
  /** Sellable: host reserve excluded. */
  capacity: { vcpus: number; memory_mib: number; disk_gib: number; gpus: number };
  usage: { servers: number; vcpus: number; memory_mib: number; disk_gib: number; gpus: number };
  generation: number;
  last_heartbeat_at: string | null;
  agent_version: string | null;
}

export interface PlacementFailure {
  region: string;
  hosts_considered: number;
  rejections: Array<{ filter: string; hosts: number; reason: string }>;
  largest_available: { vcpus: number; memory_mib: number; gpus: number };
  message: string;
}

/** `PATCH /v1/hosts/{id}` to `draining` also answers what the drain moved and what could not move. */
export interface DrainReport {
  host_id: string;
  moved: Array<{ server_id: string; from_host_id: string; placement: { host_id: string } }>;
  stuck: Array<{ server_id: string; failure: PlacementFailure | null; error: string | null }>;
}

export type Availability = 'available' | 'scarce' | 'none';

export interface Utilization {
  used: number;
  total: number;
  pct: number;
}

/** `GET /v1/capacity` with an operator token: `{ capacity: RegionCapacity[] }`. */
export interface RegionCapacity {
  region: string;
  hosts: number;
  active_hosts: number;
  compute: Utilization & { used_vcpus: number; sellable_vcpus: number };
  memory_mib: Utilization;
  disk_gib: Utilization;
  gpus: Utilization;
  products: Array<{ product: string; servers: number; servers_when_empty: number; availability: Availability }>;
}

/** `GET /v1/capacity` with a project token: `{ capacity: CustomerCapacity[] }`. */
export interface CustomerCapacity {
  region: string;
  orderable: boolean;
  products: Array<{ product: string; availability: Availability }>;
}

export interface PlacementViolation {
  kind: string;
  host_id: string;
  server_ids: string[];
  detail: string;
}

/** `GET /v1/admin/audit-placement`. */
export interface PlacementAudit {
  hosts: number;
  allocations: number;
  violations: PlacementViolation[];
}



/** `GET /v1/events?after=`: `last` is the `after` of the next poll. */
export interface EventPage {
  events: Event[];
  last: number;
}
