/**
 * What an operator does when a host dies (docs/operations.md, "When a host dies"):
 * - `evacuate` places the servers of a dead host elsewhere (a cold restart from their image on another
 *   host: possible for simulated hosts, whose disks are not real); a server whose disk lives only on the
 *   dead host (qemu) cannot move and is reported as stuck, its status `unknown` until the host returns.
 * - `forget` gives up on the host for good, after the operator confirms it by name: every claim on it is
 *   released, pending deletes finish, the other servers become `error` (their disk is lost with the host),
 *   and the host row goes, so that a rebuilt machine registers anew.
 * Both refuse a host that is up: a live host is drained (`PATCH /v1/hosts/{id}` state draining) instead.
 */
import type { Db } from '../db/index.ts';
import { dialectOfDb } from '../db/index.ts';
import { inTransaction } from '../db/index.ts';
import { conflict, invalid, type Clock } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import type { CatalogService } from '../catalog/index.ts';
import { wireDrainReport, type PlacementScheduler } from '../scheduler/index.ts';
import type { IdentityService } from '../identity/index.ts';
import type { InventoryService } from '../inventory/index.ts';
import type { DrainReport, Host, HostForgotten } from '../contract/index.ts';
import { createComputeStore } from './store.ts';
import { createActions } from './actions.ts';
import { createSettler } from './settle.ts';
import type { DiskKeyVault } from './disk-keys.ts';
import type { ComputeService } from './service.ts';

export interface HostRecoveryDeps {
  db: Db;
  clock: Clock;
  events: EventRecorder;
  scheduler: PlacementScheduler;
  catalog: CatalogService;
  identity: IdentityService;
  inventory: InventoryService;
  compute: ComputeService;
  /** Disk keys: a server forgotten with its host loses its key too. */
  diskKeys?: DiskKeyVault;
}

export function createHostRecovery(deps: HostRecoveryDeps) {
  const { db, clock } = deps;
  const store = createComputeStore(db, dialectOfDb(db));
  const actions = createActions({ store, clock, events: deps.events });
  const settle = createSettler({ ...deps, store, actions });

  async function deadHost(hostId: string): Promise<Host> {
    const host = await deps.inventory.getHost(hostId);
    if (host.health === 'up') {
      throw conflict(`host ${host.name} is up: drain it (state draining) instead of evacuating or forgetting it`, {
        reason: 'host_up',
      });
    }
    return host;
  }

  return {
    /** Moves the servers of a down host to other hosts of its region; reports what moved and what is stuck. */
    async evacuate(hostId: string): Promise<DrainReport> {
      const host = await deadHost(hostId);
      const report = await deps.scheduler.drainHost(hostId, (tx, hooks, move) =>
        deps.compute.recordMove(tx, hooks, { ...move, fromHostDriver: host.driver, fromHostName: host.name }),
      );
      return wireDrainReport(report);
    },

    /** Gives up a down host for good: claims released, deletes finished, other servers in error, row gone. */
    async forget(hostId: string, confirmName: string): Promise<HostForgotten> {
      const host = await deadHost(hostId);
      if (confirmName !== host.name) {
        throw invalid(`confirm with the host's name (${host.name}) to forget it: its servers' disks are lost`, {
          reason: 'confirmation_mismatch',
          fields: [{ field: 'confirm', message: `must be ${host.name}` }],
        });
      }
      const result: HostForgotten = { host_id: host.id, name: host.name, deleted: [], lost: [] };
      for (const server of await store.serversOfHost(db, hostId)) {
        await inTransaction(db, async (tx, hooks) => {
          const current = await store.serverById(tx, server.id);
          if (!current || current.hostId !== hostId) return;
          if (current.desiredState === 'deleted') {
            await settle(tx, hooks, current, 'deleted', current.observedRebootGeneration, null);
            result.deleted.push(current.id);
            return;
          }
          await deps.scheduler.release(tx, hooks, current.id);
          await store.changeServer(tx, current.id, { hostId: null }, { nowIso: clock.nowIso() });
          await settle(
            tx,
            hooks,
            { ...current, hostId: null },
            'error',
            current.observedRebootGeneration,
            `its host ${host.name} failed and was forgotten by an operator: the disk is lost; delete the server or restore a backup`,
          );
          result.lost.push(current.id);
        });
      }
      await deps.inventory.removeHost(hostId, { deleted: result.deleted.length, lost: result.lost.length });
      return result;
    },
  };
}

export type HostRecovery = ReturnType<typeof createHostRecovery>;
