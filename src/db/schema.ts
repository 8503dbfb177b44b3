/**
 * Kysely table types: the shape of every row as stored. JSON columns are text (same on SQLite and
 * PostgreSQL), booleans are 0/1 integers, times are ISO-8601 UTC text, money is integer cents.
 */
import type { Generated } from 'kysely';
import type { AuditChainTable, AuditLogTable } from '../audit/index.ts';
import type { EventConsumersTable, EventsTable } from '../events/index.ts';
import type { SealedSecretsTable } from '../keystore/index.ts';
import type { HostCertificatesTable, PkiAuthoritiesTable } from '../pki/index.ts';
import type {
  ConsoleTicketsTable,
  RateLimitWindowsTable,
  SessionsTable,
  UserCredentialsTable,
  UserLinksTable,
  UserRecoveryCodesTable,
  ProjectInvitationsTable,
  UserPasskeysTable,
  PasskeyChallengesTable,
} from '../identity/index.ts';
import type { LeaseRow } from './lease.ts';
import type { VolumeSourcesTable, VolumesTable } from '../volumes/index.ts';
import type { CustomImagesTable } from '../custom-images/index.ts';
import type { WebhookAttemptsTable, WebhookDeliveriesTable, WebhookEndpointsTable } from '../webhooks/index.ts';
import type {
  AddressAllocationsTable,
  HostNetworkReportsTable,
  NetworkAttachmentsTable,
  NetworkRoutesTable,
  NetworkSubnetsTable,
  NetworksTable,
} from '../networks/index.ts';
import type { FloatingIpsTable, PrimaryIpsTable } from '../addresses/index.ts';
import type { FirewallCountersTable, FirewallTargetsTable, FirewallsTable } from '../firewalls/index.ts';
import type { SshKeysTable } from '../sshkeys/index.ts';
import type {
  BackupForgetsTable,
  BackupVolumesTable,
  BackupPoliciesTable,
  BackupRestoresTable,
  BackupSchedulesTable,
  BackupsTable,
} from '../backups/index.ts';
import type {
  TrafficMonthsTable,
  TrafficRollupsTable,
  TrafficSamplesTable,
  TrafficServersTable,
} from '../traffic/index.ts';
import type { FlowLogPartitionsTable, FlowLogSettingsTable } from '../flowlogs/index.ts';
import type { DdosAddressesTable, DdosAttacksTable, DdosSettingsTable } from '../ddos/index.ts';
import type { BillingTables } from '../billing/index.ts';
import type { StatusTables } from '../status/index.ts';
import type { TelemetryTables } from '../telemetry/index.ts';

export type { AuditLogTable, EventsTable };

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
  /** 1: servers of this product get an SR-IOV VF of the host NIC on their NUMA node. */
  sriov: Generated<number>;
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
  /** Why a host is `unusable` (its stored topology failed the checks). */
  health_reason: Generated<string | null>;
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
  /** JSON array of the image slugs the host can boot, as its agent reports them; null: every catalog image. */
  images_json: Generated<string | null>;
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
  /** The sealed secret (key store) holding the LUKS key of the server's disk; null for servers made before. */
  disk_key_secret_id: string | null;
  /** Bumped by each rebuild: hosts recreate a disk of an older generation from the image. */
  disk_generation: Generated<number>;
  /** An ISO image (slug) attached for a rescue or install boot. */
  iso_image: string | null;
  /** The disk's size when it differs from the product's (a resize to a smaller product keeps the disk). */
  disk_gib: number | null;
  /** 1 while deleting the server is refused. */
  delete_protection: Generated<number>;
  /** 1 while rebuilding the server is refused. */
  rebuild_protection: Generated<number>;
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
  /** Volumes: count and GiB, quotas and usage (migration 006). */
  quota_volumes: Generated<number>;
  quota_volume_gib: Generated<number>;
  used_volumes: Generated<number>;
  used_volume_gib: Generated<number>;
  /** Custom images made from servers: count, quota and usage (migration 027). */
  quota_custom_images: Generated<number>;
  used_custom_images: Generated<number>;
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

export interface Database extends BillingTables, StatusTables, TelemetryTables {
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
  audit_chain: AuditChainTable;
  events: EventsTable;
  event_consumers: EventConsumersTable;
  idempotency_keys: IdempotencyKeysTable;
  placement_groups: PlacementGroupsTable;
  leases: LeaseRow;
  sealed_secrets: SealedSecretsTable;
  pki_authorities: PkiAuthoritiesTable;
  host_certificates: HostCertificatesTable;
  volumes: VolumesTable;
  volume_sources: VolumeSourcesTable;
  custom_images: CustomImagesTable;
  backup_policies: BackupPoliciesTable;
  backup_schedules: BackupSchedulesTable;
  backups: BackupsTable;
  backup_restores: BackupRestoresTable;
  backup_forgets: BackupForgetsTable;
  backup_volumes: BackupVolumesTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  networks: NetworksTable;
  network_subnets: NetworkSubnetsTable;
  network_routes: NetworkRoutesTable;
  network_attachments: NetworkAttachmentsTable;
  address_allocations: AddressAllocationsTable;
  host_network_reports: HostNetworkReportsTable;
  floating_ips: FloatingIpsTable;
  primary_ips: PrimaryIpsTable;
  firewalls: FirewallsTable;
  firewall_targets: FirewallTargetsTable;
  firewall_counters: FirewallCountersTable;
  ssh_keys: SshKeysTable;
  console_tickets: ConsoleTicketsTable;
  rate_limit_windows: RateLimitWindowsTable;
  user_credentials: UserCredentialsTable;
  user_recovery_codes: UserRecoveryCodesTable;
  sessions: SessionsTable;
  user_links: UserLinksTable;
  project_invitations: ProjectInvitationsTable;
  user_passkeys: UserPasskeysTable;
  passkey_challenges: PasskeyChallengesTable;
  traffic_servers: TrafficServersTable;
  traffic_samples: TrafficSamplesTable;
  traffic_rollups: TrafficRollupsTable;
  traffic_months: TrafficMonthsTable;
  flow_log_settings: FlowLogSettingsTable;
  flow_log_partitions: FlowLogPartitionsTable;
  ddos_settings: DdosSettingsTable;
  ddos_attacks: DdosAttacksTable;
  ddos_addresses: DdosAddressesTable;
}
