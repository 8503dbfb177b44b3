/** The scheduler's answers in the contract's words (snake_case, as the API sends them). Pure. */
import type {
  DrainReport as WireDrainReport,
  PlacementAudit,
  PlacementFailure as WirePlacementFailure,
  RegionCapacity as WireRegionCapacity,
} from '../contract/index.ts';
import type { RegionCapacity } from './capacity.ts';
import type { DrainReport } from './drain.ts';
import type { PlacementFailure } from './types.ts';
import type { AuditReport } from './index.ts';

export function wirePlacementFailure(failure: PlacementFailure): WirePlacementFailure {
  return {
    region: failure.region,
    hosts_considered: failure.hostsConsidered,
    rejections: failure.rejections.map((r) => ({ filter: r.filter, hosts: r.hosts, reason: r.reason })),
    largest_available: {
      vcpus: failure.largestAvailable.vcpus,
      memory_mib: failure.largestAvailable.memoryMiB,
      gpus: failure.largestAvailable.gpus,
    },
    message: failure.message,
  };
}

export function wireCapacity(report: RegionCapacity[]): WireRegionCapacity[] {
  const utilization = (u: { used: number; total: number; pct: number }) => ({
    used: u.used,
    total: u.total,
    pct: u.pct,
  });
  return report.map((r) => ({
    region: r.region,
    hosts: r.hosts,
    active_hosts: r.activeHosts,
    compute: { ...utilization(r.compute), used_vcpus: r.compute.usedVcpus, sellable_vcpus: r.compute.sellableVcpus },
    memory_mib: utilization(r.memoryMiB),
    disk_gib: utilization(r.diskGiB),
    gpus: utilization(r.gpus),
    products: r.products.map((p) => ({
      product: p.product,
      servers: p.servers,
      servers_when_empty: p.serversWhenEmpty,
      availability: p.availability,
    })),
  }));
}

export function wireDrainReport(report: DrainReport): WireDrainReport {
  return {
    host_id: report.hostId,
    moved: report.moved.map((m) => ({
      server_id: m.serverId,
      from_host_id: m.fromHostId,
      placement: { host_id: m.placement.hostId, numa_nodes: m.placement.numaNodes },
    })),
    stuck: report.stuck.map((s) => ({
      server_id: s.serverId,
      failure: s.failure ? wirePlacementFailure(s.failure) : null,
      error: s.error,
    })),
  };
}

export function wirePlacementAudit(report: AuditReport): PlacementAudit {
  return {
    hosts: report.hosts,
    allocations: report.allocations,
    violations: report.violations.map((v) => ({
      kind: v.kind,
      host_id: v.hostId,
      server_ids: v.serverIds,
      detail: v.detail,
    })),
  };
}
