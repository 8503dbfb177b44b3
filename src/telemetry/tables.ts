/** Row types of the telemetry domain's tables (migrations 024, 026). src/db/schema.ts assembles them. */
import type { Kysely } from 'kysely';

/** What one host measured towards its peers in one hour (sums of its reports). */
export interface HostProbeRollupsTable {
  host_id: string;
  hour_ms: number;
  region: string;
  /** `sockets` (UDP echo between agents) or `model` (the sim fleet). */
  method: string;
  sent: number;
  received: number;
  /** Round trips per bucket of `probeRttBucketsMs` (+Inf last), a JSON array. */
  histogram_json: string;
  /** Peers in the host's last report of the hour. */
  peers: number;
  updated_ms: number;
}

/** What one host measured towards the sampled hosts of another region in one hour (migration 026). */
export interface HostRegionProbeRollupsTable {
  host_id: string;
  hour_ms: number;
  peer_region: string;
  region: string;
  method: string;
  sent: number;
  received: number;
  histogram_json: string;
  peers: number;
  updated_ms: number;
}

/** A host's CPU steal in one hour: steal seconds over the seconds reported (migration 026). */
export interface HostCpuStealRollupsTable {
  host_id: string;
  hour_ms: number;
  region: string;
  /** `procfs` or `model` (the sim fleet). */
  method: string;
  period_seconds: number;
  steal_seconds: number;
  updated_ms: number;
}

/** A server's usage over `seconds` ending in the minute (or 5 minutes) starting at `start_ms`. */
export interface ServerUsageTable {
  server_id: string;
  start_ms: number;
  host_id: string;
  seconds: number;
  cpu_seconds: number;
  disk_read_bytes: number;
  disk_write_bytes: number;
  disk_read_ops: number;
  disk_write_ops: number;
}

export interface TelemetryTables {
  host_probe_rollups: HostProbeRollupsTable;
  host_region_probe_rollups: HostRegionProbeRollupsTable;
  host_cpu_steal_rollups: HostCpuStealRollupsTable;
  server_usage_minutes: ServerUsageTable;
  server_usage_rollups: ServerUsageTable;
}

export const telemetryTablesOf = (q: { selectFrom: unknown }) => q as unknown as Kysely<TelemetryTables>;
