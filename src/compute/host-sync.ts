/**
 * The control plane's side of the agent protocol: desired state out, observed state in. Reports are
 * level-triggered (a full report is the truth about a host); each report is one transaction. A server
 * that is gone for good gives back its claim and its quota in the transaction that marks it deleted.
 */
import type { Db } from '../db/index.ts';
import { dialectOfDb } from '../db/index.ts';
import { inTransaction } from '../db/index.ts';
import type { Clock, Logger } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import type { CatalogService } from '../catalog/index.ts';
import type { PlacementScheduler } from '../scheduler/index.ts';
import type { IdentityService } from '../identity/index.ts';
import type { DesiredInstance, HostTopology, ObservedInstance } from '../contract/index.ts';
import { deriveServerStatus } from './server-status.ts';
import { createSettler } from './settle.ts';
import { createActions } from './actions.ts';
import { parsePool } from './ipv4-pool.ts';
import { createComputeStore } from './store.ts';
import type { DiskKeyVault } from './disk-keys.ts';
import { vfDevicesOf } from './vf-devices.ts';

export interface HostSyncDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  events: EventRecorder;
  scheduler: PlacementScheduler;
  catalog: CatalogService;
  identity: IdentityService;
  /** Disk keys, unwrapped into the desired state of real hosts (over the agent link's mutual TLS). */
  diskKeys?: DiskKeyVault;
  /** The stored topology of a host: names the physical function and number of claimed SR-IOV VFs. */
  hostTopology?: (hostId: string) => Promise<HostTopology | null>;
}

export function createHostSync(deps: HostSyncDeps) {
  const { db, clock } = deps;
  const store = createComputeStore(db, dialectOfDb(db));
  const actions = createActions({ store, clock, events: deps.events });
  const settle = createSettler({ ...deps, store, actions });

  /**
   * The desired state of a host's servers. `diskKeys: false` leaves the disk keys out (simulated hosts,
   * which have no disks, and need no key unwrapped at every pass).
   */
  async function desiredFor(hostId: string, options: { diskKeys?: boolean } = {}): Promise<DesiredInstance[]> {
    const servers = await store.serversOfHost(db, hostId);
    if (servers.length === 0) return [];
    const placements = await deps.scheduler.placementsOnHost(db, hostId);
    // The host's topology is read only when one of its servers has an SR-IOV VF.
    const withVfs = [...placements.values()].some((placement) => placement.vfs.length > 0);
    const topology = withVfs && deps.hostTopology ? await deps.hostTopology(hostId) : null;
    const out: DesiredInstance[] = [];
    for (const server of servers) {
      const placement = placements.get(server.id);
      if (!placement) continue;
      const [product, region] = await Promise.all([
        deps.catalog.productSpec(server.product),
        deps.catalog.getRegionRecord(server.region),
      ]);
      out.push({
        spec: {
          serverId: server.id,
          hostname: server.name,
          vcpus: product.vcpus,
          memoryMiB: product.memory_mib,
          diskGiB: server.diskGiB ?? product.disk_gib,
          image: server.image,
          threads: placement.threads,
          numaNodes: placement.numaNodes,
          gpus: placement.gpus,
          vfs: placement.vfs,
          ...(placement.vfs.length > 0 ? { vfDevices: vfDevicesOf(placement.vfs, topology) } : {}),
          sshKeys: server.sshKeys,
          userData: server.userData,
          ipv4: server.ipv4 ? `${server.ipv4}/${parsePool(region.ipv4Pool).prefix}` : null,
          projectId: server.projectId,
          ...(options.diskKeys !== false && server.diskKeySecretId && deps.diskKeys
            ? { diskKey: await deps.diskKeys.open(server.diskKeySecretId) }
            : {}),
          diskGeneration: server.diskGeneration,
          iso: server.isoImage,
        },
        desired: server.desiredState,
        rebootGeneration: server.rebootGeneration,
        forceStop: server.forceStop,
      });
    }
    return out;
  }

  return {
    desiredFor,

    /**
     * Applies what a host reports. A `full` report lists every instance on the host, so a server it does
     * not list has no instance there; a partial report only speaks for the servers it lists.
     */
    async applyReport(hostId: string, observed: ObservedInstance[], options: { full: boolean }): Promise<void> {
      if (!options.full && observed.length === 0) return;
      const byId = new Map(observed.map((o) => [o.serverId, o]));
      await inTransaction(db, async (tx, hooks) => {
        const servers = await store.serversOfHost(tx, hostId, options.full ? undefined : [...byId.keys()]);
        for (const server of servers) {
          const seen = byId.get(server.id) ?? null;
          const status = deriveServerStatus({
            desired: server.desiredState,
            observed: seen,
            rebootGeneration: server.rebootGeneration,
            hostUp: true,
            previous: server.status,
          });
          await settle(
            tx,
            hooks,
            server,
            status,
            seen?.rebootGeneration ?? server.observedRebootGeneration,
            seen?.detail ?? null,
            seen?.power === 'failed',
          );
        }
      });
    },

    /** A host stopped heartbeating: its servers become unknown (not lost) until it reports again. */
    async markHostServersUnknown(hostId: string): Promise<number> {
      return inTransaction(db, async (tx, hooks) => {
        const servers = (await store.serversOfHost(tx, hostId)).filter((s) => s.status !== 'unknown');
        for (const server of servers) await settle(tx, hooks, server, 'unknown', server.observedRebootGeneration, null);
        return servers.length;
      });
    },

    /** Fails actions that have run longer than `maxAgeMs` (a host that never converges). */
    async expireStaleActions(maxAgeMs: number): Promise<number> {
      const cutoff = new Date(clock.nowMs() - maxAgeMs).toISOString();
      return inTransaction(db, async (tx, hooks) => {
        const stale = await store.runningActionsStartedBefore(tx, cutoff);
        for (const action of stale)
          await actions.finish(tx, hooks, action, {
            ok: false,
            code: 'timeout',
            message: `the host did not converge within ${Math.round(maxAgeMs / 1000)} s`,
          });
        return stale.length;
      });
    },
  };
}

export type HostSync = ReturnType<typeof createHostSync>;
