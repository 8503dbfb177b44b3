/**
 * Kysely table types: the shape of every row as stored. JSON columns are text (same on SQLite and
 * PostgreSQL), booleans are 0/1 integers, times are ISO-8601 UTC text, money is integer cents.
 */
import type { Generated } from 'kysely';

export interface RegionsTable {
  code: string;
  name: string;
  city: string;
  country: string;
  peering: string;
  peering_gbps: number | null;
  status: string;
  opens: string | null;
  /** IPv4 CIDR the region's server addresses come from. */
  ipv4_pool: Generated<string>;
  created_at: string;
  updated_at: string;
}

export interface ProductsTable {
  code: string;
  name: string;
  family: string;
  vcpus: number;
  memory_mib: number;
  disk_gib: number;
  traffic_tib: number;
  gpu_model: string | null;
  gpu_count: number;
  price_hourly_cents: number;
  price_monthly_cents: number;
  regions_json: string;
  status: string;
  sort_order: number;
}

export interface ImagesTable {
  id: string;
  slug: string;
  name: string;
  os_family: string;
  os_version: string;
  category: string;
  requires_gpu: number;
  min_disk_gib: number;
  project_id: string | null;
  status: string;
  format: string | null;
  size_bytes: number | null;
  sha256: string | null;
  created_at: string;
}

export interface HostsTable {
  id: string;
  name: string;
  region: string;
  kind: string;
  /** Operator state: active | maintenance | draining. Only active hosts take new servers. */
  state: string;
  /** Agent health: up | down (no heartbeat). Servers of a down host are reported unknown, not lost. */
  health: Generated<string>;
  driver: string;
  cpu_model: string;
  sockets: number;
  threads_total: number;
  memory_mib: number;
  disk_gib: number;
  gpu_model: string | null;
  gpu_count: number;
  topology_json: string;
  generation: number;
  last_heartbeat_at: string | null;
  agent_version: string | null;
  /** Where the control plane reaches the agent's host API (console, snapshots, export), e.g. http://10.0.0.5:9091. */
  address: string | null;
  /** Shared secret the control plane sends to the agent's host API; the agent makes a new one at each start. */
  agent_key: Generated<string | null>;
  created_at: string;
  updated_at: string;
}

export interface AllocationsTable {
  server_id: string;
  host_id: string;
  threads_json: string;
  numa_nodes_json: string;
  memory_mib: number;
  disk_gib: number;
  gpus_json: string;
  vfs_json: string;
  created_at: string;
}

export interface ServersTable {
  id: string;
  project_id: string;
  name: string;
  region: string;
  product: string;
  image: string;
  host_id: string | null;
  placement_group_id: string | null;
  status: string;
  desired_state: string;
  reboot_generation: number;
  observed_reboot_generation: number;
  /** 1 when the pending stop skips the graceful ACPI shutdown. */
  force_stop: Generated<number>;
  labels_json: string;
  ssh_keys_json: string;
  user_data: string | null;
  ipv4: string | null;
  error_message: string | null;
  version: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface ActionsTable {
  id: string;
  project_id: string | null;
  resource_type: string;
  resource_id: string;
  command: string;
  status: string;
  progress: number;
  target_json: string;
  error_code: string | null;
  error_message: string | null;
  started_at: string;
  finished_at: string | null;
}

export interface ProjectsTable {
  id: string;
  name: string;
  quota_servers: number;
  quota_vcpus: number;
  quota_gpus: number;
  /** Live servers of the project and their vCPUs and GPUs, kept in the transactions that create and delete servers. */
  used_servers: Generated<number>;
  used_vcpus: Generated<number>;
  used_gpus: Generated<number>;
  created_at: string;
}

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  is_operator: number;
  created_at: string;
}

export interface MembershipsTable {
  project_id: string;
  user_id: string;
  role: string;
  created_at: string;
}

export interface TokensTable {
  id: string;
  kind: string;
  project_id: string | null;
  user_id: string | null;
  host_id: string | null;
  role: string;
  name: string;
  token_hash: string;
  display_prefix: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  created_at: string;
}

export interface AuditLogTable {
  id: string;
  at: string;
  project_id: string | null;
  actor_user_id: string | null;
  actor_token_id: string | null;
  action: string;
  resource_type: string | null;
  resource_id: string | null;
  outcome: string;
  status_code: number | null;
  request_id: string | null;
  source_ip: string | null;
  user_agent: string | null;
  details_json: string;
}

export interface EventsTable {
  seq: Generated<number>;
  id: string;
  at: string;
  type: string;
  project_id: string | null;
  resource_type: string;
  resource_id: string;
  data_json: string;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  method: string;
  path: string;
  fingerprint: string;
  status_code: number | null;
  response_json: string | null;
  created_at: string;
}

export interface PlacementGroupsTable {
  id: string;
  project_id: string;
  name: string;
  policy: string;
  created_at: string;
}

export interface LeasesTable {
  name: string;
  holder: string;
  expires_at_ms: number;
}

export interface Database {
  regions: RegionsTable;
  products: ProductsTable;
  images: ImagesTable;
  hosts: HostsTable;
  allocations: AllocationsTable;
  servers: ServersTable;
  actions: ActionsTable;
  projects: ProjectsTable;
  users: UsersTable;
  memberships: MembershipsTable;
  tokens: TokensTable;
  audit_log: AuditLogTable;
  events: EventsTable;
  idempotency_keys: IdempotencyKeysTable;
  placement_groups: PlacementGroupsTable;
  leases: LeasesTable;
}
