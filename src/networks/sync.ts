/**
 * The control plane's side of the private-network data plane: the segments a host should have (one per
 * network with a server on it: local ports, and the static forwarding entries of the network's ports on
 * other hosts), and what its agent reports it has. A report settles attachments — `attaching` becomes
 * `attached` once the port is in place; `detaching` is removed, and its address released, once it is gone —
 * with their events and the actions they finish. Servers deleted for good lose their attachments.
 */
import type { Db, Tx, TxHooks } from '../db/index.ts';
import { dialectOfDb, inTransaction } from '../db/index.ts';
import type { Clock } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import type { ResourceActions } from '../compute/index.ts';
import type { DesiredSegment, ObservedHostNetwork } from '../contract/index.ts';
import { createNetworkStore, type AttachmentRecord } from './store.ts';
import { createIpam, privatePool } from './ipam.ts';
import type { NetworkServers } from './service.ts';

export interface NetworkSyncDeps {
  db: Db;
  clock: Clock;
  events: EventRecorder;
  actions: ResourceActions;
  servers: NetworkServers;
}

/** A host as the data plane knows it: region and underlay address of every host of the region. */
export interface HostPlace {
  region: string;
  /** hostId → underlay (VTEP) address, null when unknown. */
  vteps: Map<string, string | null>;
}

export function createNetworkSync(deps: NetworkSyncDeps) {
  const { db, clock } = deps;
  const store = createNetworkStore(db, dialectOfDb(db));
  const ipam = createIpam(db);

  /** The region's networks with their attachments and the host of each attached server. */
  async function regionState(q: Tx | Db, region: string) {
    const networks = await store.regionNetworks(q, region);
    const attachments = await store.attachments(
      q,
      networks.map((n) => n.id),
    );
    const servers = await deps.servers.serverRefs(
      q,
      attachments.map((a) => a.serverId),
    );
    return { networks, attachments, servers };
  }

  async function finishActions(
    tx: Tx,
    hooks: TxHooks,
    attachment: AttachmentRecord,
    command: 'attach_server' | 'detach_server',
  ) {
    for (const action of await deps.actions.running(tx, attachment.networkId))
      if (action.command === command && action.target.serverId === attachment.serverId)
        await deps.actions.finish(tx, hooks, action, { ok: true });
  }

  const subject = (attachment: AttachmentRecord) => ({
    projectId: attachment.projectId,
    resourceType: 'network',
    resourceId: attachment.networkId,
  });

  async function removeAttachment(tx: Tx, hooks: TxHooks, attachment: AttachmentRecord) {
    await store.deleteAttachment(tx, attachment.networkId, attachment.serverId);
    await ipam.release(tx, privatePool(attachment.networkId), attachment.ip);
    await deps.events.record(tx, hooks, {
      ...subject(attachment),
      type: 'network.server_detached',
      data: { server_id: attachment.serverId, ip: attachment.ip },
    });
    await finishActions(tx, hooks, attachment, 'detach_server');
  }

  return {
    /** The segments host `hostId` should have. */
    async desiredSegments(hostId: string, place: HostPlace): Promise<DesiredSegment[]> {
      const { networks, attachments, servers } = await regionState(db, place.region);
      const live = attachments.filter((a) => {
        const server = servers.get(a.serverId);
        return a.status !== 'detaching' && server && !server.deleted && server.hostId !== null;
      });
      const segments: DesiredSegment[] = [];
      for (const network of networks) {
        const ports = live.filter((a) => a.networkId === network.id);
        const local = ports.filter((a) => servers.get(a.serverId)!.hostId === hostId);
        if (local.length === 0) continue;
        const remotes = ports.flatMap((a) => {
          const host = servers.get(a.serverId)!.hostId!;
          const vtep = place.vteps.get(host) ?? null;
          return host === hostId || vtep === null ? [] : [{ mac: a.mac, ip: a.ip, vtep }];
        });
        segments.push({
          networkId: network.id,
          projectId: network.projectId,
          vni: network.vni,
          mtu: network.mtu,
          ipRange: network.ipRange,
          ports: local.map((a) => ({ serverId: a.serverId, mac: a.mac, ip: a.ip })),
          remotes,
          routes: (await store.routes(db, [network.id])).map((r) => ({
            destination: r.destination,
            gateway: r.gateway,
          })),
        });
      }
      return segments;
    },

    /** Settles the attachments of the servers on this host from what its agent has in place. */
    async applyReport(hostId: string, region: string, observed: ObservedHostNetwork['ports']): Promise<void> {
      const present = new Set(observed.map((p) => `${p.networkId}/${p.serverId}`));
      await inTransaction(db, async (tx, hooks) => {
        const { attachments, servers } = await regionState(tx, region);
        for (const attachment of attachments) {
          const server = servers.get(attachment.serverId);
          const key = `${attachment.networkId}/${attachment.serverId}`;
          if (!server || server.deleted) {
            await removeAttachment(tx, hooks, attachment);
            continue;
          }
          if (server.hostId !== hostId) continue;
          if (attachment.status === 'attaching' && present.has(key)) {
            await store.setAttachmentStatus(tx, attachment.networkId, attachment.serverId, 'attached', clock.nowIso());
            await deps.events.record(tx, hooks, {
              ...subject(attachment),
              type: 'network.server_attached',
              data: { server_id: attachment.serverId, ip: attachment.ip },
            });
            await finishActions(tx, hooks, attachment, 'attach_server');
          } else if (attachment.status === 'detaching' && !present.has(key)) {
            await removeAttachment(tx, hooks, attachment);
          }
        }
      });
    },

    /** Servers gone for good: their attachments removed and addresses released (event consumer). */
    async onServersDeleted(tx: Tx, hooks: TxHooks, serverIds: string[]): Promise<void> {
      for (const attachment of await store.attachmentsOfServers(tx, serverIds)) {
        for (const action of await deps.actions.running(tx, attachment.networkId))
          if (action.command === 'attach_server' && action.target.serverId === attachment.serverId)
            await deps.actions.finish(tx, hooks, action, {
              ok: false,
              code: 'server_deleted',
              message: 'the server was deleted',
            });
        await removeAttachment(tx, hooks, attachment);
      }
    },
  };
}

export type NetworkSync = ReturnType<typeof createNetworkSync>;
