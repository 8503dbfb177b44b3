/** The contract between the scheduler and its callers (compute, capacity, drain, benchmarks). */
import type { Tx, TxHooks } from '../db/index.ts';

export interface PlacementRequest {
  serverId: string;
  projectId: string;
  region: string;
  /** Product family decides the host pool: GPU hosts are reserved for GPU products by default. */
  family: 'vps' | 'gpu';
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
  gpuModel: string | null;
  gpuCount: number;
  sriovVfs: number;
  placementGroupId: string | null;
  /** The image the server boots from: only hosts that hold it can take it (absent: any host). */
  image?: string | null;
  /** Hosts this placement must avoid (spread placement group members, a draining source host). */
  avoidHostIds?: string[];
  /** The only host this placement may use (a resize that must stay where the server's disk is). */
  onlyHostId?: string;
}

export interface Placement {
  hostId: string;
  /** Host thread id each vCPU is pinned to, vCPU i → threads[i]. */
  threads: number[];
  /** Every thread of the claimed cores, including idle siblings (whole cores per server). */
  coreThreads: number[];
  numaNodes: number[];
  memoryMiB: number;
  diskGiB: number;
  gpus: string[];
  vfs: string[];
}

export interface FilterRejection {
  /** Stable filter name, e.g. `host_state`, `numa_cores`. */
  filter: string;
  hosts: number;
  /** Human words for the reason, e.g. `lack 16 free cores in one NUMA node`. */
  reason: string;
}

export interface PlacementFailure {
  region: string;
  hostsConsidered: number;
  rejections: FilterRejection[];
  /** The largest request of this shape still placeable, e.g. vCPUs that still fit on one host. */
  largestAvailable: { vcpus: number; memoryMiB: number; gpus: number };
  /** One sentence: "no host in FRA1 has 16 free cores in one NUMA node (12 hosts lack cores, 3 are draining)". */
  message: string;
}

export type PlacementOutcome = { ok: true; placement: Placement } | { ok: false; failure: PlacementFailure };

export interface Scheduler {
  /**
   * Chooses a host and exact resources and writes the claim (allocations row, host generation bump) in
   * `tx`. In-memory state follows the transaction through `hooks`.
   */
  place(tx: Tx, hooks: TxHooks, request: PlacementRequest): Promise<PlacementOutcome>;
  /** Frees the claim of a server in `tx`. */
  release(tx: Tx, hooks: TxHooks, serverId: string): Promise<void>;
}

/** A claim of disk space alone on a named host (a local volume): no threads, memory or devices. */
export interface DiskClaimRequest {
  /** The id the claim is kept under (`vol_…`): unique among claims, like a server id. */
  claimId: string;
  hostId: string;
  diskGiB: number;
}

export type DiskClaimOutcome = { ok: true; hostId: string } | { ok: false; failure: PlacementFailure };

/** Disk-only claims (local volumes) are kept under `vol_…` ids and hold no threads. */
export const isDiskClaimId = (claimId: string) => claimId.startsWith('vol_');
