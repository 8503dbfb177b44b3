import type { Db, Tx, TxHooks } from '../db/index.ts';
import { inTransaction } from '../db/index.ts';
import type { Clock, EventType, Logger } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import type { Scheduler } from '../scheduler/types.ts';
import type { InstanceSpec, ObservedInstance } from './drivers/driver.ts';
import { deriveServerStatus, judgeAction, type ActionTarget, type DesiredState, type ServerStatus } from './server-status.ts';
import { createActionStore } from './actions.ts';
import { parsePool } from './ipv4-pool.ts';

/** What a host agent is told to make true for one server. */
export interface DesiredInstance {
  spec: InstanceSpec;
  desired: DesiredState;
  rebootGeneration: number;
  forceStop: boolean;
}

const eventOfStatus: Partial<Record<ServerStatus, EventType>> = {
  running: 'server.started',
  stopped: 'server.stopped',
  deleted: 'server.deleted',
  error: 'server.error',
  unknown: 'server.unknown',
};

/**
 * The control plane's side of the agent protocol: desired state out, observed state in. Reports are
 * level-triggered (a full report is the truth about a host); each report is one transaction.
 */
export function createHostSync(deps: { db: Db; clock: Clock; log: Logger; events: EventRecorder; scheduler: Scheduler }) {
  const { db, clock } = deps;
  const actions = createActionStore({ clock, events: deps.events });

  async function desiredFor(hostId: string): Promise<DesiredInstance[]> {
    const rows = await db
      .selectFrom('servers')
      .innerJoin('allocations', 'allocations.server_id', 'servers.id')
      .innerJoin('products', 'products.code', 'servers.product')
      .innerJoin('regions', 'regions.code', 'servers.region')
      .select([
        'regions.ipv4_pool',
        'servers.id',
        'servers.project_id',
        'servers.name',
        'servers.image',
        'servers.desired_state',
        'servers.reboot_generation',
        'servers.force_stop',
        'servers.ssh_keys_json',
        'servers.user_data',
        'servers.ipv4',
        'products.vcpus',
        'products.memory_mib',
        'products.disk_gib',
        'allocations.threads_json',
        'allocations.numa_nodes_json',
        'allocations.gpus_json',
        'allocations.vfs_json',
      ])
      .where('servers.host_id', '=', hostId)
      .where('servers.deleted_at', 'is', null)
      .orderBy('servers.id')
      .execute();
    return rows.map((r) => ({
      spec: {
        serverId: r.id,
        hostname: r.name,
        vcpus: r.vcpus,
        memoryMiB: r.memory_mib,
        diskGiB: r.disk_gib,
        image: r.image,
        threads: JSON.parse(r.threads_json) as number[],
        numaNodes: JSON.parse(r.numa_nodes_json) as number[],
        gpus: JSON.parse(r.gpus_json) as string[],
        vfs: JSON.parse(r.vfs_json) as string[],
        sshKeys: JSON.parse(r.ssh_keys_json) as string[],
        userData: r.user_data,
        ipv4: r.ipv4 ? `${r.ipv4}/${parsePool(r.ipv4_pool).prefix}` : null,
        projectId: r.project_id,
      },
      desired: r.desired_state as DesiredState,
      rebootGeneration: r.reboot_generation,
      forceStop: r.force_stop === 1,
    }));
  }

  async function settle(tx: Tx, hooks: TxHooks, server: { id: string; project_id: string; status: string; observed_reboot_generation: number; error_message: string | null }, status: ServerStatus, observedRebootGeneration: number, detail: string | null) {
    const changed = status !== server.status || observedRebootGeneration !== server.observed_reboot_generation || (status === 'error' && detail !== server.error_message);
    if (!changed) return;
    const now = clock.nowIso();
    await tx
      .updateTable('servers')
      .set({
        status,
        observed_reboot_generation: observedRebootGeneration,
        error_message: status === 'error' ? detail : null,
        updated_at: now,
        ...(status === 'deleted' ? { deleted_at: now } : {}),
      })
      .where('id', '=', server.id)
      .execute();
    if (status === 'deleted') {
      await deps.scheduler.release(tx, hooks, server.id);
      const product = await tx.selectFrom('servers').innerJoin('products', 'products.code', 'servers.product').select(['products.vcpus', 'products.gpu_count']).where('servers.id', '=', server.id).executeTakeFirstOrThrow();
      await tx
        .updateTable('projects')
        .set((eb) => ({ used_servers: eb('used_servers', '-', 1), used_vcpus: eb('used_vcpus', '-', product.vcpus), used_gpus: eb('used_gpus', '-', product.gpu_count) }))
        .where('id', '=', server.project_id)
        .execute();
    }
    const type = status === 'running' && server.observed_reboot_generation < observedRebootGeneration ? 'server.rebooted' : eventOfStatus[status];
    if (type && status !== server.status) {
      await deps.events.record(tx, hooks, { type, projectId: server.project_id, resourceType: 'server', resourceId: server.id, data: { from: server.status, to: status, ...(detail ? { detail } : {}) } });
    }
    for (const action of await actions.running(tx, server.id)) {
      const verdict = judgeAction(JSON.parse(action.target_json) as ActionTarget, status, observedRebootGeneration, detail);
      if (verdict.done) await actions.finish(tx, hooks, action, verdict.ok ? { ok: true } : { ok: false, code: verdict.code, message: verdict.message });
      else if (verdict.progress !== action.progress) await actions.progress(tx, action.id, verdict.progress);
    }
  }

  return {
    desiredFor,

    /**
     * Applies what a host reports. A `full` report lists every instance on the host, so a server it does
     * not list has no instance there; a partial report only speaks for the servers it lists.
     */
    async applyReport(hostId: string, observed: ObservedInstance[], options: { full: boolean }): Promise<void> {
      const byId = new Map(observed.map((o) => [o.serverId, o]));
      await inTransaction(db, async (tx, hooks) => {
        let query = tx
          .selectFrom('servers')
          .select(['id', 'project_id', 'status', 'desired_state', 'reboot_generation', 'observed_reboot_generation', 'error_message'])
          .where('host_id', '=', hostId)
          .where('deleted_at', 'is', null);
        if (!options.full) {
          if (observed.length === 0) return;
          query = query.where('id', 'in', observed.map((o) => o.serverId));
        }
        const servers = await query.execute();
        for (const server of servers) {
          if (!options.full && !byId.has(server.id)) continue;
          const seen = byId.get(server.id) ?? null;
          const status = deriveServerStatus({
            desired: server.desired_state as DesiredState,
            observed: seen,
            rebootGeneration: server.reboot_generation,
            hostUp: true,
            previous: server.status as ServerStatus,
          });
          await settle(tx, hooks, server, status, seen?.rebootGeneration ?? server.observed_reboot_generation, seen?.detail ?? null);
        }
      });
    },

    /** A host stopped heartbeating: its servers become unknown (not lost) until it reports again. */
    async markHostServersUnknown(hostId: string): Promise<number> {
      return inTransaction(db, async (tx, hooks) => {
        const servers = await tx
          .selectFrom('servers')
          .select(['id', 'project_id', 'status', 'observed_reboot_generation', 'error_message'])
          .where('host_id', '=', hostId)
          .where('deleted_at', 'is', null)
          .where('status', '!=', 'unknown')
          .execute();
        for (const server of servers) await settle(tx, hooks, server, 'unknown', server.observed_reboot_generation, null);
        return servers.length;
      });
    },

    /** Fails actions that have run longer than `maxAgeMs` (a host that never converges). */
    async expireStaleActions(maxAgeMs: number): Promise<number> {
      const cutoff = new Date(clock.nowMs() - maxAgeMs).toISOString();
      return inTransaction(db, async (tx, hooks) => {
        const stale = await tx.selectFrom('actions').selectAll().where('status', '=', 'running').where('started_at', '<', cutoff).execute();
        for (const action of stale) await actions.finish(tx, hooks, action, { ok: false, code: 'timeout', message: `the host did not converge within ${Math.round(maxAgeMs / 1000)} s` });
        return stale.length;
      });
    },
  };
}

export type HostSync = ReturnType<typeof createHostSync>;
